// A leader that publishes (leadership::async_publish) against a real server: observers see each
// value in order, a publication needs leadership and creates nothing, a disconnection is ridden
// out unless leadership ends first, and Curator's LeaderLatch reads the value as the leader's id.
#include "tcp_proxy.hpp"
#include "test_support.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/names.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

std::string leader_name(const std::optional<leader_info>& l) {
    return l ? l->id : "<none>";
}

TEST(ElectionPublish, ObserversSeeEachPublishedValueInOrder) {
    const auto dir = fresh_root() + "/election";
    with_sessions<2>([&](session& leader_session, session& watcher) -> asio::awaitable<void> {
        leader_election e(leader_session, dir, "node-a");
        auto term = co_await e.async_campaign(asio::use_awaitable);

        leader_observer updates(watcher, dir);
        auto [first_ec, first] = co_await updates.async_wait_update(tuple);
        EXPECT_FALSE(first_ec);
        EXPECT_EQ(leader_name(first), "node-a");  // campaigning publishes the participant id
        CO_REQUIRE(first.has_value());
        EXPECT_EQ(first->data_version, 0);

        // An observer of leaders only: the publications below must not wake it with a report.
        leader_observer leaders(watcher, dir);
        auto [lec, same] = co_await leaders.async_wait_leader_change(tuple);
        EXPECT_EQ(leader_name(same), "node-a");
        bool leader_change_done = false;
        std::optional<leader_info> leader_change;
        leaders.async_wait_leader_change([&](error_code ec, std::optional<leader_info> l) {
            EXPECT_FALSE(ec);
            leader_change = std::move(l);
            leader_change_done = true;
        });

        std::int32_t last_version = first->data_version;
        for (const char* value : {"10.0.0.7:8080 epoch 1", "10.0.0.7:8080 epoch 2",
                                  "10.0.0.9:8080 epoch 3", "10.0.0.9:8080 epoch 3"}) {
            auto [pec] = co_await term.async_publish(value, tuple);
            EXPECT_FALSE(pec) << pec.message();
            auto [ec, now] = co_await updates.async_wait_update(tuple);
            EXPECT_FALSE(ec);
            CO_REQUIRE(now.has_value());
            EXPECT_EQ(now->id, value);  // the same value published twice is reported twice
            EXPECT_EQ(now->node, first->node);
            EXPECT_EQ(now->fencing_token, term.fencing_token());
            EXPECT_GT(now->data_version, last_version);
            last_version = now->data_version;
            auto [cec, current] = co_await e.async_current_leader(tuple);
            EXPECT_EQ(leader_name(current), value);
        }
        EXPECT_TRUE(term.is_leader());
        EXPECT_FALSE(leader_change_done);  // four publications, no change of leader

        // The end of the term is a change for both kinds of wait.
        co_await term.async_resign(asio::use_awaitable);
        auto [rec, nobody] = co_await updates.async_wait_update(tuple);
        EXPECT_FALSE(rec);
        EXPECT_FALSE(nobody.has_value());
        CO_REQUIRE(co_await eventually([&] { return leader_change_done; }));
        EXPECT_FALSE(leader_change.has_value()) << leader_name(leader_change);
        co_await leader_session.async_close(asio::use_awaitable);
        co_await watcher.async_close(asio::use_awaitable);
    });
}

TEST(ElectionPublish, PublishingWithoutLeadingFailsAndCreatesNothing) {
    const auto dir = fresh_root() + "/election";
    with_sessions<2>([&](session& a, session& b) -> asio::awaitable<void> {
        leader_election ea(a, dir, "a");
        leader_election eb(b, dir, "b");

        leadership never_elected;
        auto [empty_ec] = co_await never_elected.async_publish("x", tuple);
        EXPECT_EQ(empty_ec, errc::not_owner);

        // Resigned: refused without a request, and the node stays gone.
        auto term = co_await ea.async_campaign(asio::use_awaitable);
        auto [revoke_ec] = co_await term.async_publish(std::string(names::revoke_request), tuple);
        EXPECT_EQ(revoke_ec, errc::invalid_argument);
        co_await term.async_resign(asio::use_awaitable);
        auto [resigned_ec] = co_await term.async_publish("after resigning", tuple);
        EXPECT_EQ(resigned_ec, errc::not_owner);
        EXPECT_EQ(children_count(dir), 0u);

        // Deposed by an operator who deleted our node while b waited: the write finds the node
        // gone, leadership is lost, and b's node keeps b's id.
        term = co_await ea.async_campaign(asio::use_awaitable);
        leadership b_term;
        eb.async_campaign([&](error_code, leadership l) { b_term = std::move(l); });
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));
        delete_node(shared_hosts(), term.path());
        CO_REQUIRE(co_await eventually([&] { return b_term.is_leader(); }));
        auto [deleted_ec] = co_await term.async_publish("deposed", tuple);
        EXPECT_EQ(deleted_ec, errc::lock_lost);
        EXPECT_FALSE(term.is_leader());
        EXPECT_EQ(term.lost_reason(), errc::lock_node_deleted);
        EXPECT_FALSE(node_exists(shared_hosts(), term.path()));
        EXPECT_EQ(children_count(dir), 1u);
        auto [cec, current] = co_await eb.async_current_leader(tuple);
        EXPECT_EQ(leader_name(current), "b");
        // Known to be lost: refused at once.
        auto [again_ec] = co_await term.async_publish("deposed", tuple);
        EXPECT_EQ(again_ec, errc::lock_lost);

        // Ended with its session: lost too.
        expire_session(b, shared_hosts());
        auto [expired_ec] = co_await b_term.async_publish("expired", tuple);
        EXPECT_EQ(expired_ec, errc::lock_lost) << expired_ec.message();
        CO_REQUIRE(
            co_await eventually([&] { return b_term.lost_reason() == zk_errc::session_expired; }));
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 0; }));
        co_await a.async_close(asio::use_awaitable);
    });
}

TEST(ElectionPublish, APublicationRidesOutAShortDisconnection) {
    const auto dir = fresh_root() + "/election";
    tcp_proxy proxy(shared_hosts());
    with_sessions(
        {config_for(proxy.address(), 8000ms), config_for(shared_hosts())},
        [&](session& s, session& watcher) -> asio::awaitable<void> {
            leader_election e(s, dir, "a");
            auto term = co_await e.async_campaign(asio::use_awaitable);
            proxy.cut();
            CO_REQUIRE(co_await eventually([&] { return s.state() == session_state::suspended; }));
            bool done = false;
            error_code result = make_error_code(errc::not_connected);
            term.async_publish("published while cut off", [&](error_code ec) {
                result = ec;
                done = true;
            });
            proxy.restore();
            CO_REQUIRE(co_await eventually([&] { return done; }));
            EXPECT_FALSE(result) << result.message();
            EXPECT_TRUE(term.is_leader());
            leader_election view(watcher, dir, "view");
            auto [cec, current] = co_await view.async_current_leader(tuple);
            EXPECT_EQ(leader_name(current), "published while cut off");
            co_await term.async_resign(asio::use_awaitable);
            co_await s.async_close(asio::use_awaitable);
            co_await watcher.async_close(asio::use_awaitable);
        });
}

TEST(ElectionPublish, APublicationWaitingForTheConnectionEndsWithLeadership) {
    // Cut off for good: the leader is deposed locally at a quarter of the session timeout, and
    // the publication waiting for the connection ends then, not when the session does.
    const auto dir = fresh_root() + "/election";
    tcp_proxy proxy(shared_hosts());
    with_sessions({config_for(proxy.address(), 4000ms)}, [&](session& s) -> asio::awaitable<void> {
        leader_election e(s, dir, "a");
        auto term = co_await e.async_campaign(asio::use_awaitable);
        proxy.cut();
        CO_REQUIRE(co_await eventually([&] { return s.state() == session_state::suspended; }));
        const auto started = clock::now();
        auto [ec] = co_await term.async_publish("never", tuple);
        EXPECT_EQ(ec, errc::lock_lost) << ec.message();
        EXPECT_EQ(term.lost_reason(), errc::session_deadline);
        EXPECT_LT(clock::now() - started, 3s);  // the deadline (1 s), well before expiry (4 s)
    });
}

TEST(Interop, CuratorLatchReadsThePublishedValueAsTheLeaderId) {
    const auto dir = fresh_root() + "/election";
    with_sessions(
        {config_for_peer_tests(shared_hosts())},
        [&](session& s) -> asio::awaitable<void> {
            leader_election e(s, dir, "zkr-participant");
            auto term = co_await e.async_campaign(asio::use_awaitable);
            auto [ec] = co_await term.async_publish("10.0.0.7:8080 epoch 4", tuple);
            CO_REQUIRE(!ec);
            auto java = peer("curator-coordination", {"latch-leader", dir});
            CO_REQUIRE(java.expect_line("leader=10.0.0.7:8080 epoch 4", peer_start_limit));
            EXPECT_TRUE(java.exits_cleanly(peer_start_limit));
            co_await term.async_resign(asio::use_awaitable);
            co_await s.async_close(asio::use_awaitable);
        },
        120s);
}

}  // namespace
}  // namespace zkr::test
