// The node cache, step by step over the fake session, with every fault at every request
// (recipe_steps.hpp does the same for the operations that complete once; a cache runs for
// good, so its runs are checked here for what must hold whatever happens): the events describe
// states the server had, in order, never an older one after a newer, a re-created node as
// removed + added; the copy converges to the server's node; a renewed session ends in
// `resynced`; a closed cache leaves no watch.
#include "cache_runs.hpp"
#include "fake_session.hpp"

#include "access.hpp"
#include "cache_events.hpp"

#include <zkr/children_cache.hpp>
#include <zkr/node_cache.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using detail::access;

const std::string node = "/app/n";

/// Another client's writes, between which the cache is left to settle.
struct node_world {
    fake_server server;
    /// Every state the node had: (czxid, mzxid) -> data.
    std::vector<node_data> history;

    void record() {
        if (auto it = server.nodes.find(node); it != server.nodes.end()) {
            history.push_back(node_data{it->second.data, it->second.stat});
        }
    }
    void create(std::string data) {
        created_node out;
        server.apply_create(node, std::move(data), create_mode::persistent, 0, out);
        record();
    }
    void set(std::string data) {
        zkr::stat out;
        server.apply_set(node, std::move(data), -1, out);
        record();
    }
    void remove() { server.remove(node); }
    std::optional<node_data> now() const {
        if (auto it = server.nodes.find(node); it != server.nodes.end()) {
            return node_data{it->second.data, it->second.stat};
        }
        return std::nullopt;
    }
    bool had(const node_data& n) const {
        for (const auto& h : history) {
            if (h.data == n.data && h.stat.czxid == n.stat.czxid && h.stat.mzxid == n.stat.mzxid) {
                return true;
            }
        }
        return false;
    }
};

std::string describe_event(const cache_event& e) {
    std::ostringstream out;
    out << to_string(e.type);
    if (e.node) {
        out << " " << e.node->data << " (czxid " << e.node->stat.czxid << ", mzxid "
            << e.node->stat.mzxid << ")";
    }
    return out.str();
}

/// What one run saw, and the node on the server and in the copy at its end.
struct cache_run : cache_trace {
    std::optional<node_data> server_node;
    std::shared_ptr<const node_data> current;

    std::string str() const { return cache_trace::str(describe_event); }
};

/// Starts a cache on /app/n (holding "v1"), waits for its events all along, and lets another
/// client write v2, delete the node, create it with v3 and write v4. With `renews`, an expiry
/// renews the session.
cache_run run(std::size_t step, fault f, bool renews) {
    asio::io_context ioc;
    node_world w;
    created_node ignored;
    w.server.apply_create("/app", {}, create_mode::persistent, 0, ignored);
    w.create("v1");
    auto s = std::make_shared<fake_session>(ioc, w.server, our_session);
    s->renews = renews;
    s->inject(step, f);

    cache_run r;
    static_cast<cache_trace&>(r) = follow_cache<node_cache>(
        ioc, w.server, s, std::make_shared<node_cache>(access::construct<node_cache>(s, node)),
        {[&] { w.set("v2"); }, [&] { w.remove(); }, [&] { w.create("v3"); }, [&] { w.set("v4"); }},
        [&](const node_cache& cache) {
            r.current = cache.current();
            r.server_node = w.now();
        });
    // Every reported state is one the server had.
    for (const auto& e : r.events) {
        if (e.node && e.type != cache_event_type::removed) {
            EXPECT_TRUE(w.had(*e.node)) << "invented: " << describe_event(e);
        }
    }
    return r;
}

/// The events replayed onto an empty copy: each must follow from the one before (an update of
/// the same node with newer data, a removal of the node held, an addition to an empty copy,
/// never an older state). Returns the copy they describe.
std::optional<node_data> replay(const cache_run& r) {
    std::optional<node_data> copy;
    std::int64_t floor_czxid = 0;
    std::int64_t floor_mzxid = 0;
    for (std::size_t i = 0; i < r.events.size(); ++i) {
        const auto& e = r.events[i];
        SCOPED_TRACE("event " + std::to_string(i) + ": " + describe_event(e));
        EXPECT_EQ(e.path, node);
        EXPECT_EQ(e.type == cache_event_type::initialized, i == 0);
        if (e.node && e.type != cache_event_type::removed) {
            EXPECT_GE(e.node->stat.czxid, floor_czxid) << "older than reported";
            EXPECT_GE(e.node->stat.mzxid, floor_mzxid) << "older than reported";
            floor_czxid = e.node->stat.czxid;
            floor_mzxid = e.node->stat.mzxid;
        }
        switch (e.type) {
            case cache_event_type::initialized:
            case cache_event_type::resynced:
                if (e.type == cache_event_type::resynced) {
                    EXPECT_EQ(e.node.has_value(), copy.has_value());  // the changes came first
                }
                if (e.node && copy) {
                    EXPECT_EQ(e.node->stat.mzxid, copy->stat.mzxid);
                }
                copy = e.node;
                break;
            case cache_event_type::added:
                EXPECT_FALSE(copy) << "added over a node held";
                copy = e.node;
                break;
            case cache_event_type::updated:
                EXPECT_TRUE(copy && e.node && copy->stat.czxid == e.node->stat.czxid &&
                            e.node->stat.mzxid > copy->stat.mzxid);
                copy = e.node;
                break;
            case cache_event_type::removed:
                EXPECT_TRUE(copy && e.node && copy->stat.czxid == e.node->stat.czxid);
                copy.reset();
                break;
        }
    }
    return copy;
}

void expect_converged(const cache_run& r) {
    const auto copy = replay(r);
    if (!r.server_node) {
        // Another client's change deleted it last (a conflict after the last write).
        EXPECT_FALSE(r.current) << "a copy of a node the server no longer has";
        EXPECT_FALSE(copy) << "the events end with a node the server no longer has";
        return;
    }
    ASSERT_TRUE(r.current) << "no copy";
    EXPECT_EQ(r.current->data, r.server_node->data);
    EXPECT_EQ(r.current->stat.czxid, r.server_node->stat.czxid);
    EXPECT_EQ(r.current->stat.mzxid, r.server_node->stat.mzxid);
    ASSERT_TRUE(copy) << "the events end with no node";
    EXPECT_EQ(copy->data, r.server_node->data);
    EXPECT_EQ(copy->stat.mzxid, r.server_node->stat.mzxid);
}

TEST(CacheSteps, EveryEventTypeHasItsName) {
    EXPECT_STREQ(to_string(cache_event_type::added), "added");
    EXPECT_STREQ(to_string(cache_event_type::updated), "updated");
    EXPECT_STREQ(to_string(cache_event_type::removed), "removed");
    EXPECT_STREQ(to_string(cache_event_type::initialized), "initialized");
    EXPECT_STREQ(to_string(cache_event_type::resynced), "resynced");
}

TEST(CacheSteps, NodeCacheFollowsWritesDeletionAndRecreation) {
    const auto clean = run(static_cast<std::size_t>(-1), fault::none, false);
    SCOPED_TRACE(clean.str());
    EXPECT_EQ(clean.requests, (std::vector<std::string>{
                                  "watch_data /app/n",
                                  "watch_data /app/n",
                                  "watch_data /app/n",
                                  "watch_exists /app/n",
                                  "watch_data /app/n",
                                  "watch_data /app/n",
                              }));
    ASSERT_EQ(clean.events.size(), 5u);
    EXPECT_EQ(clean.events[0].type, cache_event_type::initialized);
    EXPECT_EQ(clean.events[0].node->data, "v1");
    EXPECT_EQ(clean.events[1].type, cache_event_type::updated);
    EXPECT_EQ(clean.events[1].node->data, "v2");
    // Deleted and created again: removed + added, never an update.
    EXPECT_EQ(clean.events[2].type, cache_event_type::removed);
    EXPECT_EQ(clean.events[2].node->data, "v2");
    EXPECT_EQ(clean.events[3].type, cache_event_type::added);
    EXPECT_EQ(clean.events[3].node->data, "v3");
    EXPECT_EQ(clean.events[4].type, cache_event_type::updated);
    EXPECT_EQ(clean.events[4].node->data, "v4");
    EXPECT_EQ(clean.start_completions, 1);
    EXPECT_FALSE(clean.start_ec);
    EXPECT_FALSE(clean.end_ec);
    ASSERT_TRUE(clean.server_node);
    expect_converged(clean);
    EXPECT_EQ(clean.watches_left, 0u);
}

TEST(CacheSteps, NodeCacheUnderEveryFaultAtEveryRequest) {
    const auto clean = run(static_cast<std::size_t>(-1), fault::none, false);
    for_every_fault(clean.requests.size(), [&](std::size_t step, fault f, bool renews) {
        const auto r = run(step, f, renews);
        if (!r.fault_applied) {
            return;
        }
        SCOPED_TRACE(fault_label(f, renews, step) + "\n" + r.str());
        ASSERT_EQ(r.start_completions, 1);
        switch (expect_outcome(r, f, renews, step, clean.requests_at_start)) {
            case run_outcome::cancelled_start:
                EXPECT_TRUE(r.events.empty());
                EXPECT_EQ(r.end_ec, asio::error::operation_aborted);
                break;
            case run_outcome::expired:
                replay(r);  // the events before the expiry still follow each other
                break;
            case run_outcome::carried_on:
                expect_converged(r);
                break;
        }
    });
}

/// A cache on a fake session holding "/app/n", started, with its io_context drained.
struct started_cache {
    asio::io_context ioc;
    node_world w;
    std::shared_ptr<fake_session> s;
    std::optional<node_cache> cache;
    error_code start_ec;

    explicit started_cache(std::size_t watch_budget = static_cast<std::size_t>(-1)) {
        created_node ignored;
        w.server.apply_create("/app", {}, create_mode::persistent, 0, ignored);
        w.create("v1");
        s = std::make_shared<fake_session>(ioc, w.server, our_session);
        s->watch_budget = watch_budget;
        cache.emplace(access::construct<node_cache>(s, node));
        start_ec = make_error_code(errc::invalid_argument);
        cache->async_start([this](error_code ec) { start_ec = ec; });
        drain(ioc, "the cache");
    }

    ~started_cache() {
        cache.reset();  // closes it while the fake server and session still exist
        drain(ioc, "the cache");
    }

    std::pair<error_code, cache_event> next() {
        std::optional<std::pair<error_code, cache_event>> got;
        cache->async_wait_event([&](error_code ec, cache_event e) { got.emplace(ec, e); });
        drain(ioc, "the cache");
        EXPECT_TRUE(got) << "the wait never completed";
        return got.value_or(std::pair<error_code, cache_event>{});
    }
};

TEST(CacheSteps, NodeCacheStartsOnce) {
    started_cache c;
    EXPECT_FALSE(c.start_ec);
    std::optional<error_code> again;
    c.cache->async_start([&](error_code ec) { again = ec; });
    drain(c.ioc);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, errc::already_started);
}

TEST(CacheSteps, NodeCacheOfAMissingNodeStartsEmptyAndSeesItsCreation) {
    asio::io_context ioc;
    node_world w;
    created_node ignored;
    w.server.apply_create("/app", {}, create_mode::persistent, 0, ignored);
    auto s = std::make_shared<fake_session>(ioc, w.server, our_session);
    auto cache = access::construct<node_cache>(s, node);
    EXPECT_FALSE(cache.current());
    std::optional<error_code> started;
    cache.async_start([&](error_code ec) { started = ec; });
    drain(ioc, "the cache");
    ASSERT_TRUE(started);
    EXPECT_FALSE(*started);
    EXPECT_FALSE(cache.current());
    std::vector<cache_event> events;
    std::function<void()> wait = [&] {
        cache.async_wait_event([&](error_code ec, cache_event e) {
            if (!ec) {
                events.push_back(std::move(e));
                wait();
            }
        });
    };
    wait();
    drain(ioc, "the cache");
    w.create("here");
    drain(ioc, "the cache");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].type, cache_event_type::initialized);
    EXPECT_FALSE(events[0].node);
    EXPECT_EQ(events[1].type, cache_event_type::added);
    ASSERT_TRUE(cache.current());
    EXPECT_EQ(cache.current()->data, "here");
    EXPECT_EQ((std::vector<std::string>{s->requests()[0].str(), s->requests()[1].str()}),
              (std::vector<std::string>{"watch_data /app/n", "watch_exists /app/n"}));
    cache.close();
    drain(ioc, "the cache");
    EXPECT_EQ(w.server.watches_on(node), 0u);
}

TEST(CacheSteps, NodeCacheRefusedItsWatchReportsItInsteadOfHanging) {
    started_cache none(0);
    EXPECT_EQ(none.start_ec, errc::too_many_watches);
    EXPECT_EQ(none.next().first, errc::too_many_watches);

    // Refused later: the queued events first, then the refusal.
    started_cache later;
    ASSERT_FALSE(later.start_ec);
    later.s->watch_budget = 0;
    later.w.set("v2");
    drain(later.ioc);
    EXPECT_EQ(later.next().second.type, cache_event_type::initialized);
    EXPECT_EQ(later.next().first, errc::too_many_watches);
    EXPECT_EQ(later.next().first, errc::too_many_watches);
}

TEST(CacheSteps, NodeCacheClosedEndsItsWaitAndLeavesNoWatch) {
    started_cache c;
    EXPECT_EQ(c.next().second.type, cache_event_type::initialized);
    EXPECT_EQ(c.w.server.watches_on(node), 1u);
    std::optional<error_code> waited;
    c.cache->async_wait_event([&](error_code ec, cache_event) { waited = ec; });
    c.cache->close();
    drain(c.ioc);
    ASSERT_TRUE(waited);
    EXPECT_EQ(*waited, asio::error::operation_aborted);
    EXPECT_EQ(c.w.server.watches_on(node), 0u);
    ASSERT_TRUE(c.cache->current());  // the last snapshot stays
    EXPECT_EQ(c.cache->current()->data, "v1");
    EXPECT_EQ(c.next().first, asio::error::operation_aborted);
}

TEST(CacheSteps, NodeCacheCancelledWaitLosesNoEvent) {
    started_cache c;
    asio::cancellation_signal cancel;
    std::optional<error_code> waited;
    // Take `initialized`, then cancel a wait as a write lands: the write's event is not lost.
    EXPECT_EQ(c.next().second.type, cache_event_type::initialized);
    c.w.set("v2");
    c.cache->async_wait_event(asio::bind_cancellation_slot(
        cancel.slot(), [&](error_code ec, cache_event) { waited = ec; }));
    cancel.emit(asio::cancellation_type::partial);
    drain(c.ioc);
    ASSERT_TRUE(waited);
    EXPECT_EQ(*waited, asio::error::operation_aborted);
    const auto [ec, e] = c.next();
    EXPECT_FALSE(ec);
    EXPECT_EQ(e.type, cache_event_type::updated);
    ASSERT_TRUE(e.node);
    EXPECT_EQ(e.node->data, "v2");
}

TEST(CacheSteps, NodeCacheMergesWhatNobodyWaitedFor) {
    // Two writes and a re-creation while nobody waits: the updates merge, the removal of the
    // updated node stays, the re-created node is added with its latest data.
    started_cache c;
    c.w.set("v2");
    drain(c.ioc);
    c.w.set("v3");
    drain(c.ioc);
    c.w.remove();
    drain(c.ioc);
    c.w.create("v4");
    drain(c.ioc);
    c.w.set("v5");
    drain(c.ioc);
    std::vector<std::string> seen;
    for (int i = 0; i < 3; ++i) {
        const auto [ec, e] = c.next();
        ASSERT_FALSE(ec);
        seen.push_back(describe_event(e).substr(0, describe_event(e).find(" (")));
    }
    EXPECT_EQ(seen, (std::vector<std::string>{"initialized v1", "removed v3", "added v5"}));
}

TEST(CacheSteps, AFollowedNodeJudgesByTheStatAndNeverGoesBack) {
    auto at = [](std::int64_t czxid, std::int64_t mzxid, std::string data) {
        node_data n{std::move(data), {}};
        n.stat.czxid = czxid;
        n.stat.mzxid = mzxid;
        return std::optional<node_data>(n);
    };
    asio::io_context ioc;
    detail::cache_events q;
    detail::followed_node f;
    // What each step reports, taken at once (nothing merged).
    auto step = [&](std::optional<node_data> now) {
        std::vector<std::string> out;
        const bool taken = f.advance(node, std::move(now), q);
        while (q.queued() > 0) {
            q.wait(detail::waiter_list<void(error_code, cache_event)>::prepare(
                detail::handler<void(error_code, cache_event)>(
                    [&](error_code, cache_event e) { out.push_back(describe_event(e)); }),
                ioc.get_executor(), ioc.get_executor()));
            drain(ioc, "the cache");
        }
        return std::make_pair(taken, out);
    };
    using seen = std::pair<bool, std::vector<std::string>>;
    EXPECT_EQ(step(at(5, 5, "a")), (seen{true, {"added a (czxid 5, mzxid 5)"}}));
    EXPECT_EQ(step(at(5, 7, "b")), (seen{true, {"updated b (czxid 5, mzxid 7)"}}));
    // A server behind: the same node with older data, or a node older than it.
    EXPECT_EQ(step(at(5, 6, "old")), (seen{false, {}}));
    EXPECT_EQ(step(at(3, 3, "older")), (seen{false, {}}));
    // Same data, new czxid: another node, never an update.
    EXPECT_EQ(step(at(9, 9, "b")),
              (seen{true, {"removed b (czxid 5, mzxid 7)", "added b (czxid 9, mzxid 9)"}}));
    EXPECT_EQ(step(std::nullopt), (seen{true, {"removed b (czxid 9, mzxid 9)"}}));
    // The node just reported removed, read again from a server behind: dropped.
    EXPECT_EQ(step(at(9, 9, "b")), (seen{false, {}}));
    EXPECT_FALSE(f.last);
    EXPECT_EQ(step(at(12, 12, "c")), (seen{true, {"added c (czxid 12, mzxid 12)"}}));
}

TEST(CacheSteps, CacheEventsMergeOnlyWhatNobodySaw) {
    auto ev = [](cache_event_type t, std::int64_t czxid, std::int64_t mzxid, std::string data) {
        node_data n{std::move(data), {}};
        n.stat.czxid = czxid;
        n.stat.mzxid = mzxid;
        return cache_event{t, node, n};
    };
    detail::cache_events q;
    q.push(ev(cache_event_type::initialized, 1, 1, "a"));
    q.push(ev(cache_event_type::updated, 1, 2, "b"));
    q.push(ev(cache_event_type::updated, 1, 3, "c"));  // merged into the update before
    EXPECT_EQ(q.queued(), 2u);
    q.push(ev(cache_event_type::removed, 1, 3, "c"));  // replaces the update: the last state
    EXPECT_EQ(q.queued(), 2u);
    q.push(ev(cache_event_type::added, 4, 4, "d"));
    q.push(ev(cache_event_type::removed, 4, 4, "d"));  // came and went unseen: both dropped
    EXPECT_EQ(q.queued(), 2u);
    q.push(ev(cache_event_type::resynced, 0, 0, ""));
    q.push(ev(cache_event_type::resynced, 0, 0, ""));
    EXPECT_EQ(q.queued(), 3u);
    q.push(ev(cache_event_type::updated, 1, 5, "e"));  // not merged across a marker
    EXPECT_EQ(q.queued(), 4u);
}

/// What one run of a children cache saw, and the children on the server and in the copy at
/// its end.
struct children_run : cache_trace {
    std::map<std::string, node_data> server;
    std::shared_ptr<const children_cache::snapshot> current;
    std::vector<node_data> history;

    std::string str() const {
        return cache_trace::str(
            [](const cache_event& e) { return e.path + " " + describe_event(e); });
    }
};

/// A children cache on /app/d (holding a = v1): another client creates b, writes a, deletes b,
/// deletes a and creates it again; the waits take every event.
children_run run_children(std::size_t step, fault f, bool renews) {
    asio::io_context ioc;
    fake_server server;
    std::vector<node_data> history;
    auto record = [&](const std::string& p) {
        if (auto it = server.nodes.find(p); it != server.nodes.end()) {
            history.push_back(node_data{it->second.data, it->second.stat});
        }
    };
    auto create = [&](const std::string& p, std::string data) {
        created_node out;
        server.apply_create(p, std::move(data), create_mode::persistent, 0, out);
        record(p);
    };
    auto set = [&](const std::string& p, std::string data) {
        zkr::stat out;
        server.apply_set(p, std::move(data), -1, out);
        record(p);
    };
    create("/app", {});
    create("/app/d", {});
    create("/app/d/a", "v1");
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    s->renews = renews;
    s->inject(step, f);
    children_run r;
    static_cast<cache_trace&>(r) = follow_cache<children_cache>(
        ioc, server, s,
        std::make_shared<children_cache>(access::construct<children_cache>(s, "/app/d")),
        {[&] { create("/app/d/b", "x1"); }, [&] { set("/app/d/a", "v2"); },
         [&] { server.remove("/app/d/b"); }, [&] { server.remove("/app/d/a"); },
         [&] { create("/app/d/a", "v3"); }},
        [&](const children_cache& cache) {
            r.current = cache.current();
            for (const auto& name : server.children_of("/app/d")) {
                const auto& n = server.nodes.at("/app/d/" + name);
                r.server.emplace(name, node_data{n.data, n.stat});
            }
        });
    r.history = std::move(history);
    return r;
}

/// Replays the events child by child (as replay() does for one node) and checks that they end
/// in the server's children, as the copy does.
void expect_children_converged(const children_run& r) {
    std::map<std::string, node_data> copy;
    for (std::size_t i = 0; i < r.events.size(); ++i) {
        const auto& e = r.events[i];
        SCOPED_TRACE("event " + std::to_string(i) + ": " + e.path + " " + describe_event(e));
        if (e.type == cache_event_type::initialized || e.type == cache_event_type::resynced) {
            EXPECT_EQ(e.path, "/app/d");
            continue;
        }
        ASSERT_TRUE(e.node);
        const auto name = e.path.substr(std::string("/app/d/").size());
        auto it = copy.find(name);
        switch (e.type) {
            case cache_event_type::added:
                EXPECT_EQ(it, copy.end()) << "added over a child held";
                copy[name] = *e.node;
                break;
            case cache_event_type::updated:
                ASSERT_NE(it, copy.end());
                EXPECT_EQ(it->second.stat.czxid, e.node->stat.czxid);
                EXPECT_GT(e.node->stat.mzxid, it->second.stat.mzxid);
                it->second = *e.node;
                break;
            case cache_event_type::removed:
                ASSERT_NE(it, copy.end());
                EXPECT_EQ(it->second.stat.czxid, e.node->stat.czxid);
                copy.erase(it);
                break;
            default:
                break;
        }
        if (e.type != cache_event_type::removed) {
            bool had = false;
            for (const auto& h : r.history) {
                had = had || (h.data == e.node->data && h.stat.czxid == e.node->stat.czxid &&
                              h.stat.mzxid == e.node->stat.mzxid);
            }
            EXPECT_TRUE(had) << "invented";
        }
    }
    auto names = [](const std::map<std::string, node_data>& m) {
        std::vector<std::string> out;
        for (const auto& [name, n] : m) {
            out.push_back(name + "=" + n.data + "@" + std::to_string(n.stat.czxid) + "/" +
                          std::to_string(n.stat.mzxid));
        }
        return out;
    };
    EXPECT_EQ(names(copy), names(r.server)) << "the events";
    ASSERT_TRUE(r.current);
    EXPECT_EQ(names(*r.current), names(r.server)) << "the copy";
}

TEST(CacheSteps, ChildrenCacheFollowsItsChildren) {
    const auto clean = run_children(static_cast<std::size_t>(-1), fault::none, false);
    SCOPED_TRACE(clean.str());
    EXPECT_FALSE(clean.start_ec);
    EXPECT_FALSE(clean.end_ec);
    EXPECT_EQ(clean.requests, (std::vector<std::string>{
                                  "watch_children /app/d",
                                  "watch_data /app/d/a",
                                  "watch_children /app/d",
                                  "watch_data /app/d/b",
                                  "watch_data /app/d/a",
                                  "watch_children /app/d",
                                  "watch_children /app/d",
                                  "watch_children /app/d",
                                  "watch_data /app/d/a",
                              }));
    std::vector<std::string> seen;
    for (const auto& e : clean.events) {
        seen.push_back(e.path + " " + describe_event(e).substr(0, describe_event(e).find(" (")));
    }
    // A child deleted and created again: removed, then added.
    EXPECT_EQ(seen, (std::vector<std::string>{
                        "/app/d/a added v1",
                        "/app/d initialized",
                        "/app/d/b added x1",
                        "/app/d/a updated v2",
                        "/app/d/b removed x1",
                        "/app/d/a removed v2",
                        "/app/d/a added v3",
                    }));
    expect_children_converged(clean);
    EXPECT_EQ(clean.watches_left, 0u);
}

TEST(CacheSteps, ChildrenCacheUnderEveryFaultAtEveryRequest) {
    const auto clean = run_children(static_cast<std::size_t>(-1), fault::none, false);
    for_every_fault(clean.requests.size(), [&](std::size_t step, fault f, bool renews) {
        const auto r = run_children(step, f, renews);
        if (!r.fault_applied) {
            return;
        }
        SCOPED_TRACE(fault_label(f, renews, step) + "\n" + r.str());
        if (expect_outcome(r, f, renews, step, clean.requests_at_start) ==
            run_outcome::carried_on) {
            expect_children_converged(r);
        }
    });
}

TEST(CacheSteps, ChildrenCacheOfAMissingDirectoryAndItsWatchBudget) {
    asio::io_context ioc;
    fake_server server;
    created_node ignored;
    server.apply_create("/app", {}, create_mode::persistent, 0, ignored);
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    auto cache = access::construct<children_cache>(s, "/app/d");
    std::optional<error_code> started;
    cache.async_start([&](error_code ec) { started = ec; });
    drain(ioc, "the cache");
    ASSERT_TRUE(started);
    EXPECT_FALSE(*started);
    ASSERT_TRUE(cache.current());
    EXPECT_TRUE(cache.current()->empty()) << "no directory, no children";
    server.apply_create("/app/d", {}, create_mode::persistent, 0, ignored);
    drain(ioc, "the cache");
    server.apply_create("/app/d/a", "v1", create_mode::persistent, 0, ignored);
    drain(ioc, "the cache");
    ASSERT_EQ(cache.current()->size(), 1u);
    EXPECT_EQ(cache.current()->at("a").data, "v1");
    // The next child's watch is refused: the waits end with the refusal, after the events.
    s->watch_budget = server.watches_of(s.get());
    server.apply_create("/app/d/b", "x", create_mode::persistent, 0, ignored);
    drain(ioc, "the cache");
    std::vector<std::string> seen;
    error_code end;
    std::function<void()> wait = [&] {
        cache.async_wait_event([&](error_code ec, cache_event e) {
            if (ec) {
                end = ec;
                return;
            }
            seen.push_back(e.path + " " +
                           describe_event(e).substr(0, describe_event(e).find(" (")));
            wait();
        });
    };
    wait();
    drain(ioc, "the cache");
    EXPECT_EQ(seen, (std::vector<std::string>{"/app/d initialized", "/app/d/a added v1"}));
    EXPECT_EQ(end, errc::too_many_watches);
    cache.close();
    drain(ioc, "the cache");
    EXPECT_EQ(server.watches_of(s.get()), 0u);
}

}  // namespace
}  // namespace zkr::test
