// zkr::service_provider's choices without a server: over a list of instances given directly
// (the provider's private constructor), with a clock the test moves for the down-instance
// policy.
#include "access.hpp"

#include <zkr/service_provider.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace zkr {
namespace {

using detail::access;
using namespace std::chrono_literals;

/// The instances the provider sees (changed by the tests), and the time it reads.
struct provider_world {
    std::shared_ptr<const std::vector<service_instance>> now =
        std::make_shared<std::vector<service_instance>>();
    std::chrono::steady_clock::time_point time{};

    void set(std::vector<service_instance> v) {
        now = std::make_shared<std::vector<service_instance>>(std::move(v));
    }

    service_provider provider(provider_options o = {}) {
        o.clock = [this] { return time; };
        return access::construct<service_provider>(detail::instances_source([this] { return now; }),
                                                   std::move(o));
    }
};

service_instance instance_of(std::string id, bool enabled = true) {
    service_instance i;
    i.name = "svc";
    i.id = std::move(id);
    i.enabled = enabled;
    return i;
}

std::string chosen_id(service_provider& p) {
    auto i = p.get_instance();
    return i ? i->id : "(none)";
}

TEST(ServiceProvider, RoundRobinCyclesInIdOrder) {
    provider_world w;
    w.set({instance_of("a"), instance_of("b"), instance_of("c")});
    auto p = w.provider();
    std::vector<std::string> seen;
    for (int i = 0; i < 6; ++i) {
        seen.push_back(chosen_id(p));
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c", "a", "b", "c"}));
}

TEST(ServiceProvider, NoneRegisteredIsEmpty) {
    provider_world w;
    auto p = w.provider();
    EXPECT_EQ(p.get_instance(), std::nullopt);
    EXPECT_TRUE(p.all_instances().empty());
    provider_world null_source;
    null_source.now = nullptr;  // a cache before its first snapshot
    auto q = null_source.provider();
    EXPECT_EQ(q.get_instance(), std::nullopt);
}

TEST(ServiceProvider, RandomCoversEveryInstance) {
    provider_world w;
    w.set({instance_of("a"), instance_of("b"), instance_of("c")});
    auto p = w.provider({provider_strategy::random, {}, {}, {}});
    std::map<std::string, int> counts;
    for (int i = 0; i < 600; ++i) {
        ++counts[chosen_id(p)];
    }
    ASSERT_EQ(counts.size(), 3u);
    for (const auto& [id, n] : counts) {
        EXPECT_GT(n, 100) << id;  // 200 expected; below 100 has odds under 1e-12
    }
}

TEST(ServiceProvider, StickyKeepsItsInstanceUntilItGoes) {
    provider_world w;
    w.set({instance_of("a"), instance_of("b"), instance_of("c")});
    auto p = w.provider({provider_strategy::sticky, {}, {}, {}});
    const auto first = chosen_id(p);
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(chosen_id(p), first);
    }
    std::vector<service_instance> rest;
    for (const auto& i : *w.now) {
        if (i.id != first) {
            rest.push_back(i);
        }
    }
    w.set(rest);
    const auto second = chosen_id(p);
    EXPECT_NE(second, first);
    EXPECT_NE(second, "(none)");
    EXPECT_EQ(chosen_id(p), second);
}

TEST(ServiceProvider, DisabledAndFilteredOutAreSkipped) {
    provider_world w;
    w.set({instance_of("a"), instance_of("b", false), instance_of("c"), instance_of("d")});
    provider_options o;
    o.filter = [](const service_instance& i) { return i.id != "d"; };
    auto p = w.provider(o);
    std::set<std::string> seen;
    for (int i = 0; i < 8; ++i) {
        seen.insert(chosen_id(p));
    }
    EXPECT_EQ(seen, (std::set<std::string>{"a", "c"}));
    const auto all = p.all_instances();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].id, "a");
    EXPECT_EQ(all[1].id, "c");
    w.set({instance_of("b", false)});
    EXPECT_EQ(p.get_instance(), std::nullopt);
}

TEST(ServiceProvider, DownAfterThresholdErrorsForTheTimeout) {
    provider_world w;
    w.set({instance_of("a"), instance_of("b")});
    auto p = w.provider({provider_strategy::round_robin, {}, {10s, 2}, {}});
    p.note_error(instance_of("a"));
    EXPECT_EQ(p.all_instances().size(), 2u) << "one error is below the threshold";
    w.time += 4s;
    p.note_error(instance_of("a"));
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(chosen_id(p), "b") << "a is down";
    }
    w.time += 5s;  // 9 s since the first error
    EXPECT_EQ(p.all_instances().size(), 1u);
    w.time += 1s;  // 10 s since the first error: forgotten
    EXPECT_EQ(p.all_instances().size(), 2u);
    p.note_error(instance_of("a"));
    EXPECT_EQ(p.all_instances().size(), 2u) << "counted again from zero";
}

TEST(ServiceProvider, AllDownIsEmpty) {
    provider_world w;
    w.set({instance_of("a")});
    auto p = w.provider({provider_strategy::round_robin, {}, {1s, 1}, {}});
    p.note_error(instance_of("a"));
    EXPECT_EQ(p.get_instance(), std::nullopt);
    w.time += 1s;
    EXPECT_EQ(chosen_id(p), "a");
}

}  // namespace
}  // namespace zkr
