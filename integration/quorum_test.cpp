// The quorum check (session_config::quorum_check, src/quorum_check.hpp) against real servers:
// where it runs, what it costs, and what it tolerates. The partition tests (partition_test.cpp)
// show what it protects against.
#include "test_support.hpp"

#include <zkr/mutex.hpp>
#include <zkr/observer.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <sstream>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

/// Counts what the check is judged by: the syncs a session sends, and whether it ever left the
/// connected state. Called from the session's driver thread.
struct sync_counter final : observer {
    void request_completed(request_kind kind, std::chrono::nanoseconds,
                           error_code) noexcept override {
        if (kind == request_kind::sync) {
            ++syncs;
        }
    }
    void session_state_changed(session_state from, session_state) noexcept override {
        if (from == session_state::connected) {
            ++disconnections;
        }
    }
    std::atomic<int> syncs{0};
    std::atomic<int> disconnections{0};
};

/// A session with a sync counter, pinging from zkr's own thread (the test's thread blocks while
/// zk.sh pauses or queries a server).
session_config counted(const std::string& hosts, std::chrono::milliseconds timeout,
                       const std::shared_ptr<sync_counter>& counter) {
    auto config = config_for(hosts, timeout);
    config.dedicated_io_thread = true;
    config.observer = counter;
    return config;
}

/// `n` locks on `n` paths under `root`, each held by `s`, and a count of those lost.
struct holds {
    std::vector<std::unique_ptr<mutex>> mutexes;
    std::vector<lock> locks;
    std::shared_ptr<std::atomic<int>> lost = std::make_shared<std::atomic<int>>(0);
    std::shared_ptr<error_code> reason = std::make_shared<error_code>();
};

asio::awaitable<holds> hold_many(session& s, const std::string& root, int n) {
    holds h;
    for (int i = 0; i < n; ++i) {
        h.mutexes.push_back(std::make_unique<mutex>(s, root + "/l" + std::to_string(i)));
        h.locks.push_back(co_await h.mutexes.back()->async_lock(asio::use_awaitable));
        h.locks.back().async_wait_lost([lost = h.lost, reason = h.reason](error_code ec) {
            if (ec != asio::error::operation_aborted) {
                *reason = ec;
                ++*lost;
            }
        });
    }
    co_return h;
}

asio::awaitable<void> release_all(holds& h) {
    for (auto& l : h.locks) {
        co_await l.async_release(tuple);
    }
}

/// The client address of server n (1-based) of `hosts`.
std::string nth_host(const std::string& hosts, int n) {
    std::istringstream in(hosts);
    std::string host;
    for (int i = 0; i < n && std::getline(in, host, ','); ++i) {
    }
    return host;
}

// A standalone server has no leader to be cut off from: the check has nothing to protect there,
// and a pause of the server past T/2 (shorter than the 2T/3 after which the client gives up on
// the connection) must not cost the holds.
TEST(Quorum, AStandaloneServerPausedPastHalfTheTimeoutLosesNoLockAndSendsNoSync) {
    zk_server server;
    constexpr auto timeout = 6000ms;
    auto counter = std::make_shared<sync_counter>();
    with_sessions(
        {counted(server.hosts(), timeout, counter)},
        [&](session& s) -> asio::awaitable<void> {
            auto held = co_await hold_many(s, fresh_root(), 100);
            // A round trip just before the pause: the client's own 2T/3 without an answer
            // counts from here.
            auto [ec, st] = co_await s.async_exists(std::string("/"), tuple);
            CO_REQUIRE(!ec);
            server.pause();
            co_await pause_for(timeout * 55 / 100);
            server.resume();
            auto [after, kids] = co_await s.async_get_children(std::string("/"), tuple);
            EXPECT_FALSE(after) << after.message();
            EXPECT_EQ(held.lost->load(), 0) << held.reason->message();
            EXPECT_EQ(std::count_if(held.locks.begin(), held.locks.end(),
                                    [](const lock& l) { return l.owns(); }),
                      100);
            EXPECT_EQ(counter->disconnections.load(), 0);
            EXPECT_EQ(s.state(), session_state::connected);
            EXPECT_EQ(counter->syncs.load(), 0) << "a standalone server needs no quorum check";
            co_await release_all(held);
            co_await s.async_close(asio::use_awaitable);
        },
        60s);
}

// A write is ordered through the leader as a sync is: a session whose writes keep coming needs
// no sync of its own, and it starts sending them again once the writes stop.
TEST(Quorum, ASessionThatWritesSendsNoSyncAndOneThatStopsDoes) {
    zk_server ensemble(3);
    constexpr auto timeout = 2000ms;
    auto counter = std::make_shared<sync_counter>();
    with_sessions(
        {counted(ensemble.hosts(), timeout, counter)},
        [&](session& s) -> asio::awaitable<void> {
            const auto root = fresh_root();
            auto held = co_await hold_many(s, root, 1);
            // The hold's first confirmation is a sync (the lock was granted without one).
            CO_REQUIRE(co_await eventually([&] { return counter->syncs.load() >= 1; }, timeout));
            const auto node = root + "/counter";
            auto [cec, created] =
                co_await s.async_create(node, std::string(), create_mode::ephemeral, tuple);
            CO_REQUIRE(!cec);
            const int before = counter->syncs.load();
            // Eight times T/8 of writes, one every T/20. A loaded machine may stall this
            // process past T/8 between two answers: a sync is then due, and allowed, once for
            // each such gap (none on a machine that keeps up).
            const auto end = clock::now() + timeout;
            auto confirmed = clock::now();
            int long_gaps = 0;
            while (clock::now() < end) {
                auto [sec, stat] = co_await s.async_set_data(node, std::string("x"), -1, tuple);
                CO_REQUIRE(!sec);
                long_gaps += clock::now() - confirmed > timeout / 8 - 20ms ? 1 : 0;
                confirmed = clock::now();
                co_await pause_for(timeout / 20);
            }
            EXPECT_LE(counter->syncs.load(), before + long_gaps)
                << "syncs sent while writes confirmed (" << long_gaps << " gaps over T/8)";
            // Without writes the check falls back on syncs, within T/8 and a round trip.
            EXPECT_TRUE(
                co_await eventually([&] { return counter->syncs.load() > before; }, timeout / 4));
            EXPECT_EQ(held.lost->load(), 0) << held.reason->message();
            co_await release_all(held);
            co_await s.async_close(asio::use_awaitable);
        },
        60s);
}

// What the check costs an ensemble session in availability: the leader paused (or unreachable)
// for less than 3T/8 costs nothing; for T/2 or more, every hold (ZooKeeper itself would notice
// only after syncLimit x tickTime, 1 s here, and then move the session elsewhere).
TEST(Quorum, OnAnEnsembleAPausedLeaderCostsTheHoldsOnlyPastThreeEighthsOfTheTimeout) {
    zk_server ensemble(3);
    constexpr auto timeout = 1600ms;  // T/2 = 800 ms, under the followers' 1 s read timeout
    const int leader = ensemble.leader();
    ASSERT_GT(leader, 0);
    const int follower = leader % 3 + 1;
    auto counter = std::make_shared<sync_counter>();
    with_sessions(
        {counted(nth_host(ensemble.hosts(), follower), timeout, counter)},
        [&](session& s) -> asio::awaitable<void> {
            const auto root = fresh_root();
            auto held = co_await hold_many(s, root, 10);

            // Shorter than 3T/8 (600 ms): nothing lost.
            ensemble.pause(leader);
            co_await pause_for(timeout / 4);
            ensemble.resume(leader);
            // A write answered now confirms the session afresh (answered writes count): the
            // second pause then counts from a confirmation sent after this resume, not from a
            // sync sent during the first pause and answered only now, which could be T/4 older.
            auto [ec, created] = co_await s.async_create(root + "/confirmed", std::string(),
                                                         create_mode::ephemeral, tuple);
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_EQ(held.lost->load(), 0) << held.reason->message();

            // Longer than T/2: lost, told between 3T/8 and T/2 after the pause began, while the
            // session stays connected. The pause begins somewhere while zk.sh runs: the lower
            // bound counts from before it, the upper one from its return.
            const auto pausing = clock::now();
            ensemble.pause(leader);
            const auto paused = clock::now();
            const bool told = co_await eventually([&] { return held.lost->load() == 10; }, 900ms);
            const auto lost_at = clock::now();
            // Counted now: the resume below may come late on a loaded machine, and a leader
            // paused past the followers' read timeout (1 s) drops their clients after the fact.
            const auto disconnections_when_told = counter->disconnections.load();
            const auto after = lost_at - paused;
            ensemble.resume(leader);
            CO_REQUIRE(told);
            EXPECT_EQ(*held.reason, errc::quorum_unreachable);
            EXPECT_GE(lost_at - pausing, timeout * 3 / 8 - 100ms);
            EXPECT_LT(after, timeout / 2 + 100ms);
            std::printf("[ measured ] T = %lld ms: holds lost %lld ms after the leader paused\n",
                        static_cast<long long>(timeout.count()),
                        static_cast<long long>(
                            std::chrono::duration_cast<std::chrono::milliseconds>(after).count()));
            EXPECT_EQ(disconnections_when_told, 0) << "told by a disconnection, not by the check";
            co_await s.async_close(asio::use_awaitable);
        },
        60s);
}

/// Packets the servers received over `window` (mntr's zk_packets_received summed over `members`
/// servers, less the mntr queries themselves) and syncs the session sent, per second.
struct traffic {
    double packets_per_s = 0;
    double syncs_per_s = 0;
};

asio::awaitable<traffic> measure(zk_server& servers, int members, const sync_counter& counter,
                                 std::chrono::milliseconds window) {
    auto packets = [&] {
        std::int64_t sum = 0;
        for (int n = 1; n <= members; ++n) {
            sum += servers.mntr_value("zk_packets_received", n);
        }
        return sum;
    };
    const auto p0 = packets();
    const int s0 = counter.syncs.load();
    co_await pause_for(window);
    const auto p1 = packets();
    const int s1 = counter.syncs.load();
    const double secs = std::chrono::duration<double>(window).count();
    co_return traffic{static_cast<double>(p1 - p0 - members) / secs, (s1 - s0) / secs};
}

/// One session holding 1, then 1,000 locks: the check sends one sync per session, not per hold.
void one_and_a_thousand_holders(int members) {
    zk_server servers(members);
    // ZKR_TEST_QUORUM_TIMEOUT_MS: a longer T (and window) for the numbers in docs/mutex.md.
    const char* env = std::getenv("ZKR_TEST_QUORUM_TIMEOUT_MS");
    const std::chrono::milliseconds timeout(env != nullptr ? std::atoi(env) : 2000);
    const auto window = timeout * 2;
    auto counter = std::make_shared<sync_counter>();
    with_sessions(
        {counted(servers.hosts(), timeout, counter)},
        [&](session& s) -> asio::awaitable<void> {
            const auto root = fresh_root();
            const auto idle = co_await measure(servers, members, *counter, window);
            auto one = co_await hold_many(s, root + "/one", 1);
            co_await pause_for(timeout / 8);  // past the hold's first sync
            const auto with_one = co_await measure(servers, members, *counter, window);
            auto more = co_await hold_many(s, root + "/more", 999);
            co_await pause_for(timeout / 8);
            const auto with_thousand = co_await measure(servers, members, *counter, window);
            std::printf(
                "[ measured ] %d server(s), T = %lld ms, packets/s received (syncs/s sent): "
                "idle %.2f (%.2f), 1 hold %.2f (%.2f), 1,000 holds %.2f (%.2f)\n",
                members, static_cast<long long>(timeout.count()), idle.packets_per_s,
                idle.syncs_per_s, with_one.packets_per_s, with_one.syncs_per_s,
                with_thousand.packets_per_s, with_thousand.syncs_per_s);
            // Per hold, the thousand would send a thousand times as much; per session, as much
            // give or take the timer's phase at the window's edges.
            const double per_window = 1.0 / std::chrono::duration<double>(window).count();
            EXPECT_LE(with_thousand.syncs_per_s, with_one.syncs_per_s * 1.25 + per_window);
            EXPECT_LE(with_thousand.packets_per_s, with_one.packets_per_s * 1.25 + per_window);
            if (members == 1) {
                EXPECT_EQ(with_thousand.syncs_per_s, 0.0);
            } else {
                EXPECT_GT(with_one.syncs_per_s, 0.0);  // the check runs on an ensemble
            }
            EXPECT_EQ(one.lost->load() + more.lost->load(), 0);
            co_await release_all(one);
            co_await release_all(more);
            co_await s.async_close(asio::use_awaitable);
        },
        timeout * 8 + 60s);
}

TEST(Quorum, AThousandHoldersOnAStandaloneServerCostWhatOneDoes) {
    one_and_a_thousand_holders(1);
}

TEST(Quorum, AThousandHoldersOnAnEnsembleCostWhatOneDoes) {
    one_and_a_thousand_holders(3);
}

}  // namespace
}  // namespace zkr::test
