// zkr::group_member step by step over the fake session, watched by a zkr::group on a second
// session: the member's whole life (join, a data update, a deletion by another client, leave)
// once without faults to check its script, then once per request of the member's session and per
// fault with the fault injected there, with and without session renewal. With renewal every run
// must end with the member back, owned by the session's current generation, holding the latest
// data; without, an expiry ends it with session_expired. The watcher must report each state the
// member settles in (data updates included), and nothing of either is left once closed.
#include "fake_session.hpp"
#include "recipe_steps.hpp"

#include "access.hpp"

#include <zkr/group.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

#include <functional>
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

constexpr std::int64_t watcher_session = 0x300;
const std::string group_path = "/app/group";
const std::string member_node = "/app/group/me";

std::string str(const std::vector<std::string>& requests) {
    std::ostringstream out;
    for (const auto& r : requests) {
        out << "\n  " << r;
    }
    return out.str();
}

/// A watcher: a group on its own session that keeps one async_wait_change pending and records
/// every report.
struct watcher {
    std::shared_ptr<fake_session> session;
    group g;
    asio::cancellation_signal cancel;
    std::vector<std::vector<member>> reports;
    error_code ended;
    bool waiting = false;

    watcher(asio::io_context& ioc, fake_server& server)
        : session(std::make_shared<fake_session>(ioc, server, watcher_session)),
          g(access::construct<group>(session_ptr(session), group_path)) {}

    void wait() {
        waiting = true;
        g.async_wait_change(asio::bind_cancellation_slot(
            cancel.slot(), [this](error_code ec, std::vector<member> now) {
                waiting = false;
                if (ec) {
                    ended = ec;
                    return;
                }
                reports.push_back(std::move(now));
                wait();
            }));
    }

    /// True if the last report is `expected`.
    ::testing::AssertionResult sees(const std::vector<member>& expected) const {
        if (reports.empty()) {
            return ::testing::AssertionFailure() << "no report";
        }
        if (reports.back() != expected) {
            std::ostringstream out;
            for (const auto& m : reports.back()) {
                out << m.id << "=" << m.data << " ";
            }
            return ::testing::AssertionFailure() << "last report: " << out.str();
        }
        return ::testing::AssertionSuccess();
    }
};

/// True if the member's node is there, holding `data`, owned by the session's current id.
::testing::AssertionResult member_kept(const fake_server& server, const fake_session& s,
                                       const group_member& m, const std::string& data) {
    const auto p = m.node_path();
    auto it = server.nodes.find(p);
    if (p != member_node || it == server.nodes.end()) {
        return ::testing::AssertionFailure() << "no member node (node_path '" << p << "')";
    }
    if (it->second.data != data) {
        return ::testing::AssertionFailure() << p << " holds '" << it->second.data << "'";
    }
    if (it->second.stat.ephemeral_owner != s.id()) {
        return ::testing::AssertionFailure()
               << p << " owned by " << it->second.stat.ephemeral_owner;
    }
    return ::testing::AssertionSuccess();
}

std::vector<std::string> run(std::size_t step, fault f, bool renews, bool check_script) {
    SCOPED_TRACE(std::string(fault_name(f)) + " at request " + std::to_string(step) +
                 (renews ? ", renewing" : ", not renewing"));
    asio::io_context ioc;
    fake_server server;
    created_node ignored;
    server.apply_create("/app", {}, create_mode::persistent, 0, ignored);
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    s->renews = renews;
    asio::cancellation_signal cancel;
    s->on_cancel = [&] { cancel.emit(asio::cancellation_type::terminal); };
    watcher w(ioc, server);
    w.wait();
    drain(ioc, "the member");
    EXPECT_TRUE(w.sees({})) << "a group that does not exist has no members";

    s->inject(step, f);
    std::vector<std::string> requests;
    auto record = [&] {
        requests.clear();
        for (const auto& r : s->requests()) {
            requests.push_back(r.str());
        }
    };
    const auto g = access::construct<group>(session_ptr(s), group_path);
    std::optional<group_member> m(std::in_place, g, "me", "one");
    // Another session's node at our id, left by a conflict fault: it goes, and ours comes.
    auto foreign_goes = [&] {
        if (m->node_path().empty() && server.exists(member_node) &&
            server.nodes.at(member_node).stat.ephemeral_owner != s->id()) {
            server.remove(member_node);
            drain(ioc, "the member");
        }
    };
    const bool expired = [&] { return f == fault::expiry && !renews; }();

    int started = 0;
    error_code start_ec;
    m->async_start(asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec) {
        ++started;
        start_ec = ec;
    }));
    drain(ioc, "the member");
    record();
    EXPECT_EQ(started, 1) << str(requests);
    if (start_ec == errc::node_taken) {
        EXPECT_TRUE(f == fault::conflict && s->fault_applied()) << str(requests);
        foreign_goes();
    } else if (start_ec) {
        EXPECT_TRUE((start_ec == asio::error::operation_aborted &&
                     (f == fault::cancel || f == fault::cancel_while_disconnected)) ||
                    (start_ec == zk_errc::session_expired && expired))
            << start_ec.message() << str(requests);
    }
    error_code created_ec = make_error_code(errc::invalid_argument);
    m->async_wait_created([&](error_code ec) { created_ec = ec; });
    drain(ioc, "the member");

    error_code set_ec = make_error_code(errc::invalid_argument);
    m->async_set_data("two", [&](error_code ec) { set_ec = ec; });
    drain(ioc, "the member");
    foreign_goes();
    record();
    const bool ended = expired && s->fault_applied();
    if (ended) {
        EXPECT_EQ(set_ec, zk_errc::session_expired) << set_ec.message() << str(requests);
        EXPECT_FALSE(server.exists(member_node)) << str(requests);
        EXPECT_TRUE(w.sees({})) << str(requests);
    } else {
        EXPECT_FALSE(created_ec) << created_ec.message() << str(requests);
        EXPECT_FALSE(set_ec) << set_ec.message() << str(requests);
        EXPECT_TRUE(member_kept(server, *s, *m, "two")) << str(requests);
        EXPECT_TRUE(w.sees({member{"me", "two"}})) << "the data update" << str(requests);

        // Another client deletes it: it comes back, with the latest data.
        server.remove(member_node);
        drain(ioc, "the member");
        foreign_goes();
        record();
        if (expired && s->fault_applied()) {  // the session ended while it came back
            EXPECT_FALSE(server.exists(member_node)) << str(requests);
            EXPECT_TRUE(w.sees({})) << str(requests);
        } else {
            EXPECT_TRUE(member_kept(server, *s, *m, "two")) << str(requests);
            EXPECT_TRUE(w.sees({member{"me", "two"}})) << str(requests);
        }
    }

    // It leaves: its node goes, and the watcher sees it go.
    error_code close_ec = make_error_code(errc::invalid_argument);
    m->async_close([&](error_code ec) { close_ec = ec; });
    drain(ioc, "the member");
    record();
    EXPECT_FALSE(close_ec) << close_ec.message() << str(requests);
    EXPECT_FALSE(server.exists(member_node)) << str(requests);
    EXPECT_TRUE(server.owned_by(s->id()).empty()) << str(requests);
    EXPECT_TRUE(w.sees({})) << str(requests);
    if (check_script) {
        EXPECT_EQ(requests, (std::vector<std::string>{
                                "create /app/group/me",
                                "create /app",
                                "create /app/group",
                                "create /app/group/me",
                                "watch_exists /app/group/me",
                                "watch_exists /app/group/me",
                                "set_data /app/group/me",
                                "watch_exists /app/group/me",
                                "watch_exists /app/group/me",
                                "create /app/group/me",
                                "watch_exists /app/group/me",
                                "exists /app/group/me",
                                "remove /app/group/me",
                            }))
            << str(requests);
    }
    m.reset();
    drain(ioc, "the member");

    // The watcher's wait, cancelled, closes its cache: no watch of it is left.
    EXPECT_TRUE(w.waiting);
    w.cancel.emit(asio::cancellation_type::terminal);
    drain(ioc, "the member");
    EXPECT_FALSE(w.waiting);
    EXPECT_EQ(w.ended, asio::error::operation_aborted);
    EXPECT_EQ(server.watches_of(w.session.get()), 0u);
    return requests;
}

void check_member_life(bool renews) {
    const auto clean = run(static_cast<std::size_t>(-1), fault::none, renews, true);
    for (const auto f : {fault::loss_before, fault::loss_after, fault::expiry, fault::conflict,
                         fault::cancel, fault::cancel_while_disconnected}) {
        for (std::size_t step = 0; step < clean.size(); ++step) {
            SCOPED_TRACE(clean[step]);
            run(step, f, renews, false);
        }
    }
}

TEST(GroupMemberSteps, EveryFaultAtEveryRequestWithRenewal) {
    check_member_life(true);
}

TEST(GroupMemberSteps, EveryFaultAtEveryRequestWithoutRenewal) {
    check_member_life(false);
}

TEST(GroupMemberSteps, AnIdThatIsNotOneNodeNameIsRefusedAndNothingIsSent) {
    asio::io_context ioc;
    fake_server server;
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    const auto g = access::construct<group>(session_ptr(s), group_path);
    for (const std::string bad : {"", "a/b", ".", ".."}) {
        group_member m(g, bad, "x");
        error_code ec;
        m.async_start([&](error_code e) { ec = e; });
        drain(ioc, "the member");
        EXPECT_EQ(ec, errc::invalid_path) << bad;
    }
    EXPECT_TRUE(s->requests().empty());
}

TEST(GroupMemberSteps, AnotherSessionsMemberUnderOurIdIsLeftAloneThenReplacedWhenItGoes) {
    asio::io_context ioc;
    fake_server server;
    created_node ignored;
    server.apply_create("/app", {}, create_mode::persistent, 0, ignored);
    server.apply_create(group_path, {}, create_mode::persistent, 0, ignored);
    server.create_as(other_session, member_node, "theirs", false);
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    const auto g = access::construct<group>(session_ptr(s), group_path);
    group_member m(g, "me", "mine");
    error_code ec;
    m.async_start([&](error_code e) { ec = e; });
    drain(ioc, "the member");
    EXPECT_EQ(ec, errc::node_taken);
    EXPECT_EQ(server.nodes.at(member_node).data, "theirs");
    server.remove(member_node);
    drain(ioc, "the member");
    EXPECT_EQ(server.nodes.at(member_node).data, "mine");
    EXPECT_EQ(server.nodes.at(member_node).stat.ephemeral_owner, our_session);
}

}  // namespace
}  // namespace zkr::test
