// A session that renews itself after expiry (session_config::renew_after_expiry), against a real
// server: what the expired generation held ends for good, and the session carries on as the next.
#include "test_support.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <memory>
#include <vector>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

session_config renewing(const std::string& hosts) {
    auto config = config_for(hosts);
    config.renew_after_expiry = true;
    return config;
}

/// Records every state `s` passes through, until it is closed. Shares `seen` with the test: the
/// last change (closed) may reach it after the test's body has returned.
asio::awaitable<void> record_states(session& s, std::shared_ptr<std::vector<session_state>> seen) {
    auto now = s.state();
    while (now != session_state::closed) {
        auto [ec, next] = co_await s.async_wait_state_change(now, tuple);
        if (ec) {
            co_return;
        }
        seen->push_back(next);
        now = next;
    }
}

bool connected_in(const session& s, std::uint64_t generation) {
    return s.generation() == generation && s.state() == session_state::connected;
}

TEST(Renewal, WhatTheExpiredSessionHeldEndsAndTheNextGenerationCarriesOn) {
    const auto root = fresh_root();
    const auto dir = root + "/lock", queue = root + "/queue";
    with_sessions(
        {renewing(shared_hosts()), config_for(shared_hosts())},
        [&](asio::io_context& ioc, session& a, session& b) -> asio::awaitable<void> {
            EXPECT_EQ(a.generation(), 1U);
            const auto first_id = a.session_id();
            auto states = std::make_shared<std::vector<session_state>>();
            asio::co_spawn(ioc, record_states(a, states), asio::detached);

            // Held in generation 1: a lock, an ephemeral node, a watch, and a queued
            // acquisition behind b's lock.
            mutex ma(a, dir), queued(a, queue), mb(b, queue);
            auto held = co_await ma.async_lock(asio::use_awaitable);
            error_code lost;
            held.async_wait_lost([&](error_code ec) { lost = ec; });
            auto [cec, node] = co_await a.async_create(root + "/e", std::string("x"),
                                                       create_mode::ephemeral, tuple);
            CO_REQUIRE(!cec);
            auto [wec, data, w] = co_await a.async_watch_data(node.path, tuple);
            CO_REQUIRE(!wec);
            auto ahead = co_await mb.async_lock(asio::use_awaitable);
            bool queued_done = false;
            error_code queued_ec;
            lock queued_lock;
            queued.async_lock([&](error_code ec, lock l) {
                queued_done = true;
                queued_ec = ec;
                queued_lock = std::move(l);
            });
            CO_REQUIRE(co_await eventually([&] { return children_count(queue) == 2; }));

            expire_session(a, shared_hosts());
            CO_REQUIRE(co_await eventually([&] { return connected_in(a, 2); }));
            EXPECT_NE(a.session_id(), first_id);

            // The old generation's holds are lost, and told so, as without renewal.
            CO_REQUIRE(co_await eventually([&] { return static_cast<bool>(lost); }));
            EXPECT_EQ(lost, zk_errc::session_expired);
            EXPECT_FALSE(held.owns());
            EXPECT_EQ(held.lost_reason(), zk_errc::session_expired);
            auto [watch_ec, event] = co_await w.async_wait(tuple);
            EXPECT_EQ(watch_ec, zk_errc::session_expired);
            EXPECT_FALSE(node_exists(shared_hosts(), node.path));
            // The queued acquisition ended with its session: it never continues in
            // the next one, even once the lock it waited for is free.
            CO_REQUIRE(co_await eventually([&] { return queued_done; }));
            EXPECT_EQ(queued_ec, zk_errc::session_expired) << queued_ec.message();
            EXPECT_FALSE(queued_lock.owns());
            co_await ahead.async_release(asio::use_awaitable);
            EXPECT_EQ(children_count(queue), 0U);
            std::vector<op> write{op::set_data(root, "late")};
            auto [gec, results] = co_await held.async_guarded_multi(write, tuple);
            EXPECT_TRUE(gec);

            // The states went expired -> connecting -> connected.
            const auto expired_at =
                std::find(states->begin(), states->end(), session_state::expired);
            CO_REQUIRE(expired_at != states->end());
            EXPECT_EQ(std::vector<session_state>(expired_at, states->end()),
                      (std::vector<session_state>{session_state::expired, session_state::connecting,
                                                  session_state::connected}));

            // Generation 2 works as a fresh session: a new lock, a later token.
            auto again = co_await ma.async_lock(asio::use_awaitable);
            EXPECT_TRUE(again.owns());
            EXPECT_GT(again.fencing_token(), held.fencing_token());
            co_await again.async_release(asio::use_awaitable);
            EXPECT_TRUE(co_await settled(a));
            co_await a.async_close(asio::use_awaitable);
            co_await b.async_close(asio::use_awaitable);
        });
}

TEST(Renewal, AnElectionThatRequeuesCampaignsAgainInTheNextGeneration) {
    const auto dir = fresh_root() + "/election";
    with_sessions({renewing(shared_hosts())}, [&](session& s) -> asio::awaitable<void> {
        leader_election e(s, dir, "a");
        int starts = 0;
        std::uint64_t started_in = 0;
        bool finish = false, done = false;
        error_code result = make_error_code(errc::not_connected);
        e.async_lead(
            [&]() -> asio::awaitable<void> {
                ++starts;
                started_in = s.generation();
                while (!finish) {
                    co_await pause_for(10ms);
                }
            },
            [&](error_code ec) {
                result = ec;
                done = true;
            });
        CO_REQUIRE(co_await eventually([&] { return starts == 1; }));
        const auto first_id = s.session_id();
        expire_session(s, shared_hosts());
        // The work was cancelled with the expiry, and started again once leading in the next
        // generation: on a node of the new session, the old one gone.
        CO_REQUIRE(co_await eventually([&] { return starts == 2; }, 15s));
        EXPECT_EQ(started_in, 2U);
        EXPECT_FALSE(done);
        auto [pec, participants] = co_await e.async_participants(tuple);
        EXPECT_FALSE(pec);
        CO_REQUIRE(participants.size() == 1U);
        EXPECT_TRUE(participants[0].leader);
        EXPECT_NE(s.session_id(), first_id);
        finish = true;
        CO_REQUIRE(co_await eventually([&] { return done; }));
        EXPECT_FALSE(result) << result.message();
        EXPECT_EQ(children_count(dir), 0U);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Renewal, WithoutRenewalAnExpiryEndsTheElectionThatRequeues) {
    const auto dir = fresh_root() + "/election";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        leader_election e(s, dir, "a");
        int starts = 0;
        bool done = false;
        error_code result;
        e.async_lead(
            [&]() -> asio::awaitable<void> {
                ++starts;
                co_await pause_for(60s);
            },
            [&](error_code ec) {
                result = ec;
                done = true;
            });
        CO_REQUIRE(co_await eventually([&] { return starts == 1; }));
        expire_session(s, shared_hosts());
        CO_REQUIRE(co_await eventually([&] { return done; }));
        EXPECT_EQ(result, zk_errc::session_expired);
        EXPECT_EQ(starts, 1);
    });
}

TEST(Renewal, ASessionRenewsAtEachExpiry) {
    with_sessions({renewing(shared_hosts())}, [&](session& s) -> asio::awaitable<void> {
        for (std::uint64_t generation = 1; generation <= 3; ++generation) {
            CO_REQUIRE(co_await eventually([&] { return connected_in(s, generation); }));
            const auto root = fresh_root();
            auto [ec, created] =
                co_await s.async_create(root, std::string(), create_mode::persistent, tuple);
            EXPECT_FALSE(ec) << "generation " << generation << ": " << ec.message();
            delete_node(shared_hosts(), root);
            if (generation < 3) {
                expire_session(s, shared_hosts());
            }
        }
        co_await s.async_close(asio::use_awaitable);
        EXPECT_EQ(s.state(), session_state::closed);
    });
}

TEST(Renewal, WithoutItAnExpiredSessionStaysExpiredInItsFirstGeneration) {
    with_sessions([&](session& s) -> asio::awaitable<void> {
        expire_session(s, shared_hosts());
        CO_REQUIRE(co_await eventually([&] { return s.state() == session_state::expired; }));
        EXPECT_EQ(s.generation(), 1U);
        auto [ec, data] = co_await s.async_get_data(std::string("/"), tuple);
        EXPECT_EQ(ec, zk_errc::session_expired);
    });
}

}  // namespace
}  // namespace zkr::test
