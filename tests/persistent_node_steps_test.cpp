// zkr::persistent_node step by step over the fake session: its whole life (start, a new value,
// a deletion by another client, close) once without faults to check its script, then once per
// request and per fault with the fault injected there. The session renews after an expiry
// (session_config::renew_after_expiry), so every run must end with the node back, in the
// session's current generation, holding the latest data; and closed, nothing of it left.
#include "fake_session.hpp"
#include "recipe_steps.hpp"

#include "access.hpp"

#include <zkr/names.hpp>
#include <zkr/persistent_node.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

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

struct life {
    std::string name;
    persistent_node_options options;
    std::string path = "/app/node";
    std::vector<std::string> script;
};

/// What one run saw, for the failure messages.
struct node_run {
    std::vector<std::string> requests;
    std::string str() const { return request_lines(requests); }
};

/// True if the node is there as it should be: at node_path(), holding `data`, and for an
/// ephemeral mode owned by the session's current ZooKeeper session.
::testing::AssertionResult kept(const fake_server& server, const fake_session& s,
                                const persistent_node& n, const life& l, const std::string& data) {
    const auto p = n.node_path();
    auto it = server.nodes.find(p);
    if (p.empty() || it == server.nodes.end()) {
        return ::testing::AssertionFailure() << "no node (node_path '" << p << "')";
    }
    if (it->second.data != data) {
        return ::testing::AssertionFailure() << p << " holds '" << it->second.data << "'";
    }
    const bool ephemeral = l.options.mode == persistent_node_mode::ephemeral ||
                           l.options.mode == persistent_node_mode::protected_ephemeral;
    const auto owner = it->second.stat.ephemeral_owner;
    if (ephemeral ? owner != s.id() : owner != 0) {
        return ::testing::AssertionFailure() << p << " owned by " << owner;
    }
    return ::testing::AssertionSuccess();
}

/// Another client's node at our path, if a fault put one there (ours is then missing): it goes,
/// as when its session ends, and ours takes its place.
void foreign_node_goes(fake_server& server, const persistent_node& n, const life& l,
                       asio::io_context& ioc) {
    if (n.node_path().empty() && server.exists(l.path) && server.children_of(l.path).empty()) {
        server.remove(l.path);
        drain(ioc, "the node");
    }
}

node_run run(const life& l, std::size_t step, fault f, bool check_script) {
    SCOPED_TRACE(std::string(fault_name(f)) + " at request " + std::to_string(step));
    asio::io_context ioc;
    fake_server server;
    created_node ignored;
    server.apply_create("/app", {}, create_mode::persistent, 0, ignored);
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    s->renews = true;
    asio::cancellation_signal cancel;
    s->on_cancel = [&] { cancel.emit(asio::cancellation_type::terminal); };
    s->inject(step, f);
    node_run report;
    auto record = [&] {
        report.requests.clear();
        for (const auto& r : s->requests()) {
            report.requests.push_back(without_uuids(r.str()));
        }
    };

    std::optional<persistent_node> n(
        access::construct<persistent_node>(session_ptr(s), l.path, std::string("one"), l.options));
    int started = 0;
    error_code start_ec;
    n->async_start(asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec) {
        ++started;
        start_ec = ec;
    }));
    drain(ioc, "the node");
    record();
    EXPECT_EQ(started, 1) << report.str();
    const bool conflicted = f == fault::conflict && s->fault_applied();
    if (start_ec == errc::node_taken) {
        EXPECT_TRUE(conflicted) << report.str();
        foreign_node_goes(server, *n, l, ioc);
    } else if (start_ec) {
        EXPECT_TRUE(start_ec == asio::error::operation_aborted &&
                    (f == fault::cancel || f == fault::cancel_while_disconnected))
            << start_ec.message() << report.str();
    }
    error_code created_ec = make_error_code(errc::invalid_argument);
    n->async_wait_created([&](error_code ec) { created_ec = ec; });
    drain(ioc, "the node");
    record();
    EXPECT_FALSE(created_ec) << created_ec.message() << report.str();
    EXPECT_TRUE(kept(server, *s, *n, l, "one")) << report.str();

    // A new value.
    error_code set_ec = make_error_code(errc::invalid_argument);
    n->async_set_data("two", [&](error_code ec) { set_ec = ec; });
    drain(ioc, "the node");
    foreign_node_goes(server, *n, l, ioc);
    record();
    EXPECT_FALSE(set_ec) << set_ec.message() << report.str();
    EXPECT_TRUE(kept(server, *s, *n, l, "two")) << report.str();

    // Another client deletes it: it comes back, with the latest data.
    const auto before = n->node_path();
    if (!before.empty() && server.exists(before)) {
        server.remove(before);
    }
    drain(ioc, "the node");
    foreign_node_goes(server, *n, l, ioc);
    record();
    EXPECT_TRUE(kept(server, *s, *n, l, "two")) << report.str();

    // Closed: nothing of it is left.
    const auto last = n->node_path();
    error_code close_ec = make_error_code(errc::invalid_argument);
    n->async_close([&](error_code ec) { close_ec = ec; });
    drain(ioc, "the node");
    record();
    EXPECT_FALSE(close_ec) << close_ec.message() << report.str();
    EXPECT_FALSE(server.exists(last)) << last << report.str();
    EXPECT_TRUE(server.owned_by(s->id()).empty()) << report.str();
    EXPECT_TRUE(n->node_path().empty());
    if (check_script) {
        EXPECT_EQ(report.requests, l.script) << report.str();
    }
    n.reset();
    drain(ioc, "the node");
    return report;
}

void check_life(const life& l) {
    SCOPED_TRACE(l.name);
    const auto clean = run(l, static_cast<std::size_t>(-1), fault::none, true);
    for (const auto f : {fault::loss_before, fault::loss_after, fault::expiry, fault::conflict,
                         fault::cancel, fault::cancel_while_disconnected}) {
        for (std::size_t step = 0; step < clean.requests.size(); ++step) {
            SCOPED_TRACE(clean.requests[step]);
            run(l, step, f, false);
        }
    }
}

TEST(PersistentNodeSteps, Ephemeral) {
    check_life({"ephemeral",
                {},
                "/app/node",
                {
                    "create /app/node",
                    "watch_exists /app/node",
                    "watch_exists /app/node",
                    "set_data /app/node",
                    "watch_exists /app/node",
                    "watch_exists /app/node",
                    "create /app/node",
                    "watch_exists /app/node",
                    "exists /app/node",
                    "remove /app/node",
                }});
}

TEST(PersistentNodeSteps, ProtectedEphemeral) {
    check_life({"protected ephemeral",
                {persistent_node_mode::protected_ephemeral, {}},
                "/app/node",
                {
                    "create /app/_c_<uuid>-node",
                    "watch_exists /app/_c_<uuid>-node0000000000",
                    "watch_exists /app/_c_<uuid>-node0000000000",
                    "set_data /app/_c_<uuid>-node0000000000",
                    "watch_exists /app/_c_<uuid>-node0000000000",
                    "watch_exists /app/_c_<uuid>-node0000000000",
                    "create /app/_c_<uuid>-node",
                    "watch_exists /app/_c_<uuid>-node0000000001",
                    "exists /app/_c_<uuid>-node0000000001",
                    "remove /app/_c_<uuid>-node0000000001",
                }});
}

TEST(PersistentNodeSteps, Persistent) {
    check_life({"persistent",
                {persistent_node_mode::persistent, {}},
                "/app/node",
                {
                    "create /app/node",
                    "watch_exists /app/node",
                    "watch_exists /app/node",
                    "set_data /app/node",
                    "watch_exists /app/node",
                    "watch_exists /app/node",
                    "create /app/node",
                    "watch_exists /app/node",
                    "exists /app/node",
                    "remove /app/node",
                }});
}

TEST(PersistentNodeSteps, PersistentWithATtl) {
    check_life({"persistent with a TTL",
                {persistent_node_mode::persistent_with_ttl, std::chrono::hours(1)},
                "/app/node",
                {
                    "create /app/node",
                    "watch_exists /app/node",
                    "watch_exists /app/node",
                    "set_data /app/node",
                    "watch_exists /app/node",
                    "watch_exists /app/node",
                    "create /app/node",
                    "watch_exists /app/node",
                    "exists /app/node",
                    "remove /app/node",
                }});
}

/// A world for the cases below, with the node under test.
struct world {
    asio::io_context ioc;
    fake_server server;
    std::shared_ptr<fake_session> s = std::make_shared<fake_session>(ioc, server, our_session);
    world() {
        created_node ignored;
        server.apply_create("/app", {}, create_mode::persistent, 0, ignored);
    }
    persistent_node make(std::string path, persistent_node_options o = {}) {
        return access::construct<persistent_node>(session_ptr(s), std::move(path),
                                                  std::string("one"), o);
    }
    error_code start(persistent_node& n) {
        error_code out = make_error_code(errc::invalid_argument);
        n.async_start([&](error_code ec) { out = ec; });
        drain(ioc, "the node");
        return out;
    }
};

TEST(PersistentNodeSteps, AnotherSessionsNodeIsLeftAloneThenTakenOverWhenItGoes) {
    world w;
    w.server.create_as(other_session, "/app/node", "theirs", false);
    auto n = w.make("/app/node");
    EXPECT_EQ(w.start(n), errc::node_taken);
    EXPECT_EQ(w.server.nodes.at("/app/node").data, "theirs");
    EXPECT_TRUE(n.node_path().empty());
    error_code created = make_error_code(errc::invalid_argument);
    n.async_wait_created([&](error_code ec) { created = ec; });
    drain(w.ioc);
    EXPECT_EQ(created, errc::invalid_argument) << "still waiting";
    w.server.remove("/app/node");
    drain(w.ioc);
    EXPECT_FALSE(created) << created.message();
    EXPECT_EQ(w.server.nodes.at("/app/node").data, "one");
    EXPECT_EQ(w.server.nodes.at("/app/node").stat.ephemeral_owner, our_session);

    // Closing deletes ours only: a node of someone else's that replaced it stays.
    w.server.remove("/app/node");
    w.server.create_as(other_session, "/app/node", "theirs again", false);
    error_code closed = make_error_code(errc::invalid_argument);
    n.async_close([&](error_code ec) { closed = ec; });
    drain(w.ioc);
    EXPECT_FALSE(closed);
    EXPECT_EQ(w.server.nodes.at("/app/node").data, "theirs again");
}

TEST(PersistentNodeSteps, AWaitForTheNodeIsCancellableAndTheNodeCarriesOn) {
    world w;
    w.server.create_as(other_session, "/app/node", "theirs", false);
    auto n = w.make("/app/node");
    EXPECT_EQ(w.start(n), errc::node_taken);
    asio::cancellation_signal cancel;
    error_code created = make_error_code(errc::invalid_argument);
    n.async_wait_created(
        asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec) { created = ec; }));
    drain(w.ioc);
    EXPECT_EQ(created, errc::invalid_argument) << "still waiting";
    cancel.emit(asio::cancellation_type::terminal);
    drain(w.ioc);
    EXPECT_EQ(created, asio::error::operation_aborted);
    w.server.remove("/app/node");
    drain(w.ioc);
    EXPECT_EQ(n.node_path(), "/app/node");
    EXPECT_EQ(w.server.nodes.at("/app/node").stat.ephemeral_owner, our_session);
}

TEST(PersistentNodeSteps, DataSetBeforeTheStartIsWhatItCreates) {
    world w;
    auto n = w.make("/app/node");
    error_code set = make_error_code(errc::invalid_argument);
    n.async_set_data("early", [&](error_code ec) { set = ec; });
    drain(w.ioc);
    EXPECT_FALSE(set);
    EXPECT_TRUE(w.s->requests().empty());
    EXPECT_FALSE(w.start(n));
    EXPECT_EQ(w.server.nodes.at("/app/node").data, "early");
    EXPECT_EQ(w.s->requests().size(), 2u) << "a create and its watch, no write";
}

TEST(PersistentNodeSteps, BadInputIsRefusedAndNothingIsSent) {
    world w;
    for (const std::string bad : {"", "app", "/app/", "/"}) {
        auto n = w.make(bad);
        EXPECT_EQ(w.start(n), errc::invalid_path) << bad;
    }
    auto no_ttl = w.make("/app/a", {persistent_node_mode::persistent_with_ttl, {}});
    EXPECT_EQ(w.start(no_ttl), errc::invalid_argument);
    auto stray_ttl = w.make("/app/b", {persistent_node_mode::persistent, std::chrono::seconds(1)});
    EXPECT_EQ(w.start(stray_ttl), errc::invalid_argument);
    EXPECT_TRUE(w.s->requests().empty());

    auto twice = w.make("/app/c");
    EXPECT_FALSE(w.start(twice));
    EXPECT_EQ(w.start(twice), errc::already_started);
    bool closed = false;
    twice.async_close([&](error_code) { closed = true; });
    drain(w.ioc);
    EXPECT_TRUE(closed);
    EXPECT_EQ(w.start(twice), errc::already_started);
    EXPECT_FALSE(w.server.exists("/app/c"));
}

TEST(PersistentNodeSteps, AnExpiryWithoutRenewalEndsTheWait) {
    world w;
    auto n = w.make("/app/node");
    w.s->inject(1, fault::expiry);  // at the watch after the create
    EXPECT_EQ(w.start(n), zk_errc::session_expired);
    error_code created;
    n.async_wait_created([&](error_code ec) { created = ec; });
    drain(w.ioc);
    EXPECT_EQ(created, zk_errc::session_expired);
    EXPECT_FALSE(w.server.exists("/app/node"));
}

TEST(PersistentNodeSteps, DestroyedItDeletesItsNode) {
    world w;
    {
        auto n = w.make("/app/node", {persistent_node_mode::persistent, {}});
        EXPECT_FALSE(w.start(n));
        EXPECT_TRUE(w.server.exists("/app/node"));
    }
    drain(w.ioc);
    EXPECT_FALSE(w.server.exists("/app/node"));
}

TEST(PersistentNodeSteps, ItsDirectoryIsCreatedIfMissing) {
    world w;
    auto n = w.make("/app/a/b/node");
    EXPECT_FALSE(w.start(n));
    EXPECT_EQ(n.node_path(), "/app/a/b/node");
    EXPECT_TRUE(w.server.exists("/app/a/b/node"));
}

}  // namespace
}  // namespace zkr::test
