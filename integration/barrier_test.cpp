// zkr::barrier against a real server.
#include "tcp_proxy.hpp"
#include "test_support.hpp"

#include <zkr/barrier.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

TEST(Barrier, WaitersPassOnlyOnceItIsRemoved) {
    const auto path = fresh_root() + "/gate";
    with_sessions<2>([&](session& setter, session& waiters) -> asio::awaitable<void> {
        barrier gate(setter, path);
        auto [sec] = co_await gate.async_set(tuple);
        CO_REQUIRE(!sec);
        auto [again] = co_await gate.async_set(tuple);
        EXPECT_FALSE(again) << "setting a set barrier is not an error";

        barrier seen(waiters, path);
        std::array<int, 3> passed{};
        std::array<error_code, 3> results;
        for (std::size_t i = 0; i < passed.size(); ++i) {
            seen.async_wait([&, i](error_code ec) {
                results[i] = ec;
                ++passed[i];
            });
        }
        // All three wait on one watch of their session: the server holds one.
        CO_REQUIRE(co_await eventually([&] {
            return waiters.pending_operations() == 3u &&
                   server_watches(shared_hosts(), waiters.session_id()) == 1u;
        }));
        EXPECT_EQ(passed, (std::array<int, 3>{0, 0, 0}));

        auto [rec] = co_await gate.async_remove(tuple);
        EXPECT_FALSE(rec) << rec.message();
        CO_REQUIRE(co_await eventually([&] { return passed == std::array<int, 3>{1, 1, 1}; }));
        for (const auto& ec : results) {
            EXPECT_FALSE(ec) << ec.message();
        }
        EXPECT_FALSE(node_exists(shared_hosts(), path));
        auto [twice] = co_await gate.async_remove(tuple);
        EXPECT_FALSE(twice) << "removing a removed barrier is not an error";
        auto [through] = co_await seen.async_wait(tuple);
        EXPECT_FALSE(through) << "an unset barrier lets a waiter through at once";
        EXPECT_TRUE(co_await settled(waiters));
        co_await setter.async_close(asio::use_awaitable);
        co_await waiters.async_close(asio::use_awaitable);
    });
}

TEST(Barrier, ACancelledWaitLeavesNoWatchAndBadPathsAreRefused) {
    const auto path = fresh_root() + "/gate";
    with_sessions([&](asio::io_context& ioc, session& s) -> asio::awaitable<void> {
        barrier gate(s, path);
        CO_REQUIRE(!std::get<0>(co_await gate.async_set(tuple)));
        asio::steady_timer timer(ioc, std::chrono::milliseconds(200));
        auto outcome = co_await (gate.async_wait(tuple) || timer.async_wait(tuple));
        EXPECT_EQ(outcome.index(), 1u) << "the barrier is still set";
        EXPECT_TRUE(co_await settled(s));
        CO_REQUIRE(!std::get<0>(co_await gate.async_remove(tuple)));

        for (const char* bad : {"relative", "/", "/trailing/"}) {
            barrier b(s, bad);
            EXPECT_EQ(std::get<0>(co_await b.async_set(tuple)), errc::invalid_path) << bad;
            EXPECT_EQ(std::get<0>(co_await b.async_wait(tuple)), errc::invalid_path) << bad;
            EXPECT_EQ(std::get<0>(co_await b.async_remove(tuple)), errc::invalid_path) << bad;
        }
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Barrier, AWaiterCutOffWhileTheBarrierIsRemovedPassesOnReconnecting) {
    const auto path = fresh_root() + "/gate";
    tcp_proxy proxy(shared_hosts());
    with_sessions(
        {config_for(shared_hosts()), config_for(proxy.address(), std::chrono::seconds(10))},
        [&](session& setter, session& waiter) -> asio::awaitable<void> {
            barrier gate(setter, path);
            CO_REQUIRE(!std::get<0>(co_await gate.async_set(tuple)));
            bool passed = false;
            error_code result;
            barrier(waiter, path).async_wait([&](error_code ec) {
                result = ec;
                passed = true;
            });
            CO_REQUIRE(co_await eventually(
                [&] { return server_watches(shared_hosts(), waiter.session_id()) == 1u; }));
            proxy.cut();
            CO_REQUIRE(
                co_await eventually([&] { return waiter.state() == session_state::suspended; }));
            CO_REQUIRE(!std::get<0>(co_await gate.async_remove(tuple)));
            EXPECT_FALSE(passed);
            proxy.restore();
            CO_REQUIRE(co_await eventually([&] { return passed; }, std::chrono::seconds(20)));
            EXPECT_FALSE(result) << result.message();
            EXPECT_TRUE(co_await settled(waiter));
            co_await setter.async_close(asio::use_awaitable);
            co_await waiter.async_close(asio::use_awaitable);
        });
}

/// A barrier set by zkr is waited on by `driver` (curator-coordination, kazoo_coordination.py)
/// and removed by zkr; then one set by the driver is waited on by zkr and removed by the driver.
void barriers_hold_each_other(const std::string& driver) {
    const auto path = fresh_root() + "/gate";
    with_sessions(
        {config_for_peer_tests(shared_hosts())},
        [&](session& s) -> asio::awaitable<void> {
            barrier gate(s, path);
            // Set by zkr, waited on by the peer, removed by zkr.
            CO_REQUIRE(!std::get<0>(co_await gate.async_set(tuple)));
            auto waiter = peer(driver, {"barrier-wait", path});
            expect_ready(waiter, driver + " barrier-wait");
            CO_REQUIRE(co_await eventually(
                [&] { return server_watches_path(shared_hosts(), path); }, 30s));
            CO_REQUIRE(!std::get<0>(co_await gate.async_remove(tuple)));
            EXPECT_TRUE(waiter.expect_line("passed", peer_start_limit));
            EXPECT_TRUE(waiter.exits_cleanly(peer_start_limit));

            // Set by the peer, waited on by zkr, removed by the peer.
            auto setter = peer(driver, {"barrier-set", path});
            EXPECT_TRUE(setter.exits_cleanly(peer_start_limit));
            bool passed = false;
            gate.async_wait([&](error_code ec) {
                EXPECT_FALSE(ec) << ec.message();
                passed = true;
            });
            CO_REQUIRE(co_await eventually(
                [&] { return server_watches(shared_hosts(), s.session_id()) == 1u; }));
            EXPECT_FALSE(passed);
            auto remover = peer(driver, {"barrier-remove", path});
            EXPECT_TRUE(remover.exits_cleanly(peer_start_limit));
            CO_REQUIRE(co_await eventually([&] { return passed; }, 30s));
            co_await s.async_close(asio::use_awaitable);
        },
        180s);
}

TEST(Interop, ZkrAndCuratorBarriersHoldEachOther) {
    barriers_hold_each_other("curator-coordination");
}

TEST(Interop, ZkrAndKazooBarriersHoldEachOther) {
    barriers_hold_each_other("kazoo_coordination.py");
}

}  // namespace
}  // namespace zkr::test
