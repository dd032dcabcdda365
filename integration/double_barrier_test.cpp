// zkr::double_barrier against a real server.
#include "test_support.hpp"

#include <zkr/double_barrier.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <memory>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

TEST(DoubleBarrier, MembersEnterOnlyTogetherAndLeaveNothingBehind) {
    const auto path = fresh_root() + "/double";
    with_sessions<3>([&](session& s0, session& s1, session& s2) -> asio::awaitable<void> {
        std::array<session*, 3> sessions{&s0, &s1, &s2};
        std::array<std::unique_ptr<double_barrier>, 3> members;
        for (std::size_t i = 0; i < 3; ++i) {
            members[i] = std::make_unique<double_barrier>(*sessions[i], path, 3);
        }
        std::array<int, 3> entered{};
        for (std::size_t i = 0; i < 2; ++i) {
            members[i]->async_enter([&, i](error_code ec) {
                EXPECT_FALSE(ec) << ec.message();
                ++entered[i];
            });
        }
        // Two of three: both wait on the "ready" node.
        CO_REQUIRE(co_await eventually([&] {
            return children_count(path) == 2 &&
                   server_watches(shared_hosts(), sessions[0]->session_id()) == 1u &&
                   server_watches(shared_hosts(), sessions[1]->session_id()) == 1u;
        }));
        EXPECT_EQ(entered, (std::array<int, 3>{0, 0, 0}));
        auto [third] = co_await members[2]->async_enter(tuple);
        EXPECT_FALSE(third) << third.message();
        CO_REQUIRE(co_await eventually([&] { return entered == std::array<int, 3>{1, 1, 0}; }));
        EXPECT_TRUE(node_exists(shared_hosts(), path + "/ready"));
        auto [twice] = co_await members[2]->async_enter(tuple);
        EXPECT_EQ(twice, errc::invalid_argument) << "entered already";

        std::array<int, 3> left{};
        for (std::size_t i = 0; i < 3; ++i) {
            members[i]->async_leave([&, i](error_code ec) {
                EXPECT_FALSE(ec) << ec.message();
                ++left[i];
            });
        }
        CO_REQUIRE(co_await eventually([&] { return left == std::array<int, 3>{1, 1, 1}; }));
        EXPECT_EQ(children_count(path), 0u) << "no member node and no ready node left";
        for (auto& s : sessions) {
            EXPECT_TRUE(co_await settled(*s));
            co_await s->async_close(asio::use_awaitable);
        }
    });
}

TEST(DoubleBarrier, AMemberThatDiesInsideDoesNotHoldTheOthersAndACancelledEntryLeavesNoNode) {
    const auto path = fresh_root() + "/double";
    with_sessions<2>([&](asio::io_context& ioc, session& a, session& b) -> asio::awaitable<void> {
        // Destroyed below, inside the barrier: built here rather than held by with_sessions.
        auto doomed = std::make_unique<session>(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(*doomed);
        double_barrier ma(a, path, 3), mb(b, path, 3), md(*doomed, path, 3);
        // A lone member gives up waiting (a timeout): its node goes.
        asio::steady_timer timer(ioc, std::chrono::milliseconds(200));
        auto outcome = co_await (ma.async_enter(tuple) || timer.async_wait(tuple));
        EXPECT_EQ(outcome.index(), 1u);
        CO_REQUIRE(co_await eventually([&] { return children_count(path) == 0; }));
        EXPECT_TRUE(co_await settled(a));

        bool a_in = false, b_in = false;
        ma.async_enter([&](error_code ec) { a_in = !ec; });
        mb.async_enter([&](error_code ec) { b_in = !ec; });
        auto [dec] = co_await md.async_enter(tuple);
        CO_REQUIRE(!dec);
        CO_REQUIRE(co_await eventually([&] { return a_in && b_in; }));
        doomed.reset();  // its session ends inside the barrier: its node goes with it
        int left = 0;    // both at once: the lowest waits for the other to go
        for (auto* m : {&ma, &mb}) {
            m->async_leave([&](error_code ec) {
                EXPECT_FALSE(ec) << ec.message();
                ++left;
            });
        }
        CO_REQUIRE(co_await eventually([&] { return left == 2; }));
        CO_REQUIRE(co_await eventually([&] { return children_count(path) == 0; }));
        co_await a.async_close(asio::use_awaitable);
        co_await b.async_close(asio::use_awaitable);
    });
}

TEST(Interop, ZkrAndCuratorMembersShareADoubleBarrier) {
    const auto path = fresh_root() + "/double";
    with_sessions(
        {config_for_peer_tests(shared_hosts())},
        [&](session& s) -> asio::awaitable<void> {
            auto java = peer("curator-coordination", {"double-barrier", path, "2"});
            expect_ready(java, "curator-coordination double-barrier");
            CO_REQUIRE(co_await eventually([&] { return children_count(path) == 1; }, 30s));
            double_barrier round(s, path, 2);
            auto [eec] = co_await round.async_enter(tuple);
            CO_REQUIRE(!eec);
            EXPECT_TRUE(java.expect_line("entered", peer_start_limit));
            auto [lec] = co_await round.async_leave(tuple);
            EXPECT_FALSE(lec) << lec.message();
            EXPECT_TRUE(java.expect_line("left", peer_start_limit));
            EXPECT_TRUE(java.exits_cleanly(peer_start_limit));
            CO_REQUIRE(co_await eventually([&] { return children_count(path) == 0; }));
            co_await s.async_close(asio::use_awaitable);
        },
        180s);
}

}  // namespace
}  // namespace zkr::test
