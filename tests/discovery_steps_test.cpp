// Service discovery step by step over the fake session: a registration's whole life (register,
// unregister) with and without session renewal, a query, and set_enabled, each once without
// faults to check its script, then once per request and per fault with the fault injected there.
// Whatever happens, the handler is called once, its outcome is one the fault allows, a
// registration that succeeded has its node (the instance's JSON, owned by the session's current
// generation), and nothing of ours is left once it is unregistered or has failed.
#include "fake_session.hpp"
#include "recipe_steps.hpp"

#include "access.hpp"

#include <zkr/service_discovery.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using detail::access;
using detail::session_ptr;

const std::string discovery_base = "/services";
const std::string instance_node = "/services/echo/me";

service_instance echo_instance(std::string id, bool enabled = true) {
    service_instance i;
    i.name = "echo";
    i.id = std::move(id);
    i.address = "10.0.0.1";
    i.port = 7000;
    i.payload = R"({"zone":"a"})";
    i.registration_time_utc = 1;
    i.enabled = enabled;
    return i;
}

/// Another client's registration of `id` under /services/echo (a persistent node).
void put_instance(fake_server& server, const service_instance& i) {
    created_node ignored;
    for (const auto* dir : {"/services", "/services/echo"}) {
        if (!server.exists(dir)) {
            server.apply_create(dir, {}, create_mode::persistent, 0, ignored);
        }
    }
    server.apply_create("/services/echo/" + i.id, to_json(i), create_mode::persistent, 0, ignored);
}

struct registration_run {
    std::vector<std::string> requests;
    std::string str() const { return request_lines(requests); }
};

/// Registers echo/me, checks the outcome against the fault, unregisters, checks nothing is left.
registration_run run_registration(std::size_t step, fault f, bool renews) {
    SCOPED_TRACE(std::string(fault_name(f)) + " at request " + std::to_string(step) +
                 (renews ? ", renewing" : ", not renewing"));
    asio::io_context ioc;
    fake_server server;
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    s->renews = renews;
    asio::cancellation_signal cancel;
    s->on_cancel = [&] { cancel.emit(asio::cancellation_type::terminal); };
    s->inject(step, f);
    auto d = access::construct<service_discovery>(session_ptr(s), discovery_base);

    int completions = 0;
    error_code ec;
    service_registration registration;
    d.async_register(
        echo_instance("me"),
        asio::bind_cancellation_slot(cancel.slot(), [&](error_code e, service_registration r) {
            ++completions;
            ec = e;
            registration = std::move(r);
        }));
    drain(ioc, "the registration");
    registration_run report;
    for (const auto& r : s->requests()) {
        report.requests.push_back(without_uuids(r.str()));
    }
    EXPECT_EQ(completions, 1) << report.str();
    const bool applied = s->fault_applied();
    if (ec) {
        const bool allowed =
            applied && ((f == fault::expiry && !renews && ec == zk_errc::session_expired) ||
                        (f == fault::conflict && ec == errc::node_taken) ||
                        ((f == fault::cancel || f == fault::cancel_while_disconnected) &&
                         ec == asio::error::operation_aborted));
        EXPECT_TRUE(allowed) << ec.message() << report.str();
    } else {
        EXPECT_FALSE(f == fault::expiry && applied && !renews) << report.str();
        EXPECT_EQ(registration.node_path(), instance_node);
        auto it = server.nodes.find(instance_node);
        EXPECT_TRUE(it != server.nodes.end()) << "registered, but no node" << report.str();
        if (it != server.nodes.end()) {
            EXPECT_EQ(it->second.stat.ephemeral_owner, s->id());
            service_instance stored;
            EXPECT_FALSE(from_json(it->second.data, stored)) << it->second.data;
            EXPECT_EQ(stored, registration.instance());
        }
        int unregistered = 0;
        registration.async_unregister([&](error_code) { ++unregistered; });
        drain(ioc, "the unregistration");
        EXPECT_EQ(unregistered, 1);
    }
    registration = service_registration{};
    drain(ioc, "the registration");
    EXPECT_TRUE(server.owned_by(our_session).empty()) << report.str();
    EXPECT_TRUE(server.owned_by(s->id()).empty()) << report.str();
    if (server.exists(instance_node)) {
        // Only another client's node (a conflict's) may be there.
        EXPECT_NE(server.nodes.at(instance_node).stat.ephemeral_owner, s->id());
        EXPECT_TRUE(f == fault::conflict) << report.str();
    }
    return report;
}

TEST(DiscoverySteps, RegistrationThroughEveryFault) {
    const auto clean = run_registration(static_cast<std::size_t>(-1), fault::none, false);
    // The instance's node first; its parents as containers (Curator's way) when missing.
    EXPECT_EQ(clean.requests,
              (std::vector<std::string>{"create /services/echo/me", "create /services",
                                        "create /services/echo", "create /services/echo/me",
                                        "watch_exists /services/echo/me"}))
        << clean.str();
    for (const bool renews : {false, true}) {
        for (const auto f : every_fault) {
            for (std::size_t step = 0; step < clean.requests.size(); ++step) {
                run_registration(step, f, renews);
            }
        }
    }
}

TEST(DiscoverySteps, QueryThroughEveryFault) {
    recipe_case c;
    c.name = "query of a service with two instances";
    c.setup = [](fake_server& server) {
        put_instance(server, echo_instance("a"));
        put_instance(server, echo_instance("b", false));
    };
    c.start = [](session_ptr s, asio::cancellation_slot cancel,
                 std::function<void(step_outcome)> done) {
        auto d = access::construct<service_discovery>(s, discovery_base);
        d.async_query("echo", asio::bind_cancellation_slot(
                                  cancel, [done](error_code ec, std::vector<service_instance> v) {
                                      // A conflict deletes one before it is read: it is skipped.
                                      EXPECT_LE(v.size(), 2u);
                                      for (const auto& i : v) {
                                          EXPECT_EQ(i, echo_instance(i.id, i.id == "a"));
                                      }
                                      EXPECT_TRUE(ec || v.size() == 2u || v.size() == 1u);
                                      done(step_outcome{ec, false, nullptr});
                                  }));
    };
    c.script = {"get_children /services/echo", "get_data /services/echo/a",
                "get_data /services/echo/b"};
    c.conflict_errors = {};
    check_every_step(c);
}

TEST(DiscoverySteps, SetEnabledThroughEveryFault) {
    fake_server* world = nullptr;
    recipe_case c;
    c.name = "disabling an instance";
    c.setup = [&world](fake_server& server) {
        put_instance(server, echo_instance("a"));
        world = &server;
    };
    c.start = [&world](session_ptr s, asio::cancellation_slot cancel,
                       std::function<void(step_outcome)> done) {
        auto d = access::construct<service_discovery>(s, discovery_base);
        d.async_set_enabled(
            "echo", "a", false, asio::bind_cancellation_slot(cancel, [&world, done](error_code ec) {
                if (!ec) {
                    service_instance now;
                    EXPECT_FALSE(from_json(world->nodes.at("/services/echo/a").data, now));
                    EXPECT_EQ(now, echo_instance("a", false));
                }
                done(step_outcome{ec, false, nullptr});
            }));
    };
    c.script = {"get_data /services/echo/a", "set_data /services/echo/a"};
    c.conflict_errors = {make_error_code(zk_errc::no_node)};
    check_every_step(c);
}

TEST(DiscoverySteps, ARegistrationThatHoldsNothingCompletesItsOperations) {
    service_registration none;  // default-constructed: no node, no session
    EXPECT_TRUE(none.node_path().empty());
    // Completed on the system executor (there is no session): waited for with a future.
    auto outcome = [](auto start) {
        std::promise<error_code> p;
        auto f = p.get_future();
        start([&p](error_code ec) { p.set_value(ec); });
        return f.get();
    };
    EXPECT_EQ(outcome([&](auto h) { none.async_wait_registered(std::move(h)); }),
              asio::error::operation_aborted);
    EXPECT_EQ(outcome([&](auto h) { none.async_update(echo_instance("me"), std::move(h)); }),
              asio::error::operation_aborted);
    EXPECT_FALSE(outcome([&](auto h) { none.async_unregister(std::move(h)); }))
        << "nothing to unregister";
}

TEST(DiscoverySteps, RefusedUpdatesChangeNothingAndSendNothing) {
    asio::io_context ioc;
    fake_server server;
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    auto d = access::construct<service_discovery>(session_ptr(s), discovery_base);
    std::optional<service_registration> r;
    d.async_register(echo_instance("me"), [&](error_code ec, service_registration got) {
        EXPECT_FALSE(ec) << ec.message();
        r = std::move(got);
    });
    drain(ioc, "the registration");
    ASSERT_TRUE(r.has_value());
    const auto before = s->requests().size();
    const auto registered = r->instance();
    auto refused = [&](service_instance changed) {
        error_code result = make_error_code(errc::session_closed);
        r->async_update(std::move(changed), [&](error_code ec) { result = ec; });
        drain(ioc, "the update");
        return result;
    };
    auto renamed = registered;
    renamed.name = "other";
    EXPECT_EQ(refused(renamed), errc::invalid_argument);
    auto retyped = registered;
    retyped.type = service_type::permanent;
    EXPECT_EQ(refused(retyped), errc::invalid_argument);
    auto bad_port = registered;
    bad_port.port = 70000;
    EXPECT_EQ(refused(bad_port), errc::invalid_service_instance);
    EXPECT_EQ(r->instance(), registered);
    EXPECT_EQ(s->requests().size(), before);
    service_instance stored;
    EXPECT_FALSE(from_json(server.nodes.at(instance_node).data, stored));
    EXPECT_EQ(stored, registered);
    r.reset();
    drain(ioc, "the unregistration");
    EXPECT_FALSE(server.exists(instance_node)) << "dropping the handle unregisters";
}

}  // namespace
}  // namespace zkr::test
