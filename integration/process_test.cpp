// Mutual exclusion across processes: zkr workers, killed holders, and mixed fleets with Curator
// (Java) and kazoo (Python; also over TLS) on one lock path. Each critical section is recorded in
// a shared file with O_APPEND; check_record fails on any overlap.
#include "test_support.hpp"
#include "tls_material.hpp"

#include <zkr/mutex.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

TEST(Processes, FiveWorkersTimesTwoHundredNeverOverlap) {
    const auto dir = fresh_root() + "/lock";
    record_file record;
    std::vector<child_process> workers;
    for (int i = 0; i < 5; ++i) {
        workers.push_back(zkr_worker("lock", dir, 200, record.path, 0));
    }
    for (auto& w : workers) {
        EXPECT_EQ(w.wait(180s), 0);
    }
    EXPECT_EQ(check_record(record.path), 1000u);
    const auto tokens = tokens_in(record.path);
    EXPECT_TRUE(std::is_sorted(tokens.begin(), tokens.end()) &&
                std::adjacent_find(tokens.begin(), tokens.end()) == tokens.end())
        << "fencing tokens must strictly increase in acquisition order";
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
}

TEST(Processes, KilledHolderFreesTheLockAfterItsSessionTimesOut) {
    const auto dir = fresh_root() + "/lock";
    record_file victim_record, next_record;
    auto victim = zkr_worker("lock", dir, 1, victim_record.path, 60000, 1500);
    std::string line;
    ASSERT_TRUE(victim.read_line(line, 30s) && line == "ready");
    ASSERT_TRUE(victim.read_line(line, 30s) && line.rfind("holding", 0) == 0) << line;
    const auto victim_token = std::stoll(line.substr(line.rfind(' ') + 1));
    auto next = zkr_worker("lock", dir, 3, next_record.path, 2);
    expect_ready(next, "second worker");
    const auto killed_at = std::chrono::steady_clock::now();
    victim.kill(SIGKILL);
    victim.wait(10s);
    ASSERT_TRUE(next.read_line(line, 30s) && line.rfind("holding", 0) == 0) << line;
    const auto waited = std::chrono::steady_clock::now() - killed_at;
    EXPECT_LT(waited, 1500ms + 1s) << "the lock must come back within the session timeout + 1 s";
    EXPECT_EQ(next.wait(30s), 0);
    EXPECT_EQ(check_record(next_record.path), 3u);
    const auto tokens = tokens_in(next_record.path);
    ASSERT_FALSE(tokens.empty());
    EXPECT_GT(tokens.front(), victim_token);
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
}

/// A session on `server` (over TLS when it is TLS-only) that pings from zkr's own thread while
/// the test's thread waits for the peer and the workers.
session_config fleet_session_config(const child_server& server) {
    auto config = config_for_peer_tests(server.hosts);
    return server.tls_ca.empty() ? config : over_tls(std::move(config), server.tls_ca);
}

/// How many lock nodes `dir` holds (none before it exists), read through `s`.
asio::awaitable<std::size_t> fleet_lock_nodes(session& s, const std::string& dir) {
    auto [ec, kids] = co_await s.async_get_children(dir, tuple);
    EXPECT_TRUE(!ec || ec == zk_errc::no_node) << ec.message();
    co_return kids.names.size();
}

/// The holders' names of a record's critical sections ("enter NAME PID ..."), in order.
std::vector<std::string> fleet_holders(const std::string& record) {
    std::vector<std::string> names;
    std::ifstream in(record);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string verb, name;
        if (words >> verb >> name && verb == "enter") {
            names.push_back(name);
        }
    }
    return names;
}

/// One peer process and two zkr workers take turns on one path of `server`, `iterations` times
/// each. The test holds the lock until all three queue behind it, so both sides contend from
/// the first round: the lock must pass between the peer (`peer_name` in the record) and zkr,
/// never to two holders at once, and leave no node behind.
void mixed_fleet(const child_server& server, const std::string& driver,
                 const std::string& peer_name, int iterations) {
    const auto dir = fresh_root() + "/lock";
    const auto who = peer_name + " driver";
    record_file record;
    with_sessions(
        {fleet_session_config(server)},
        [&](session& s) -> asio::awaitable<void> {
            mutex gate(s, dir);
            auto held = co_await gate.async_lock(asio::use_awaitable);
            auto other = peer(server, driver, {dir, std::to_string(iterations), record.path, "5"});
            expect_ready(other, who);
            std::vector<child_process> workers;
            for (int i = 0; i < 2; ++i) {
                workers.push_back(zkr_worker(server, "lock", dir, iterations, record.path, 5));
            }
            // The test's node and one per contender; each look is a request: every 50 ms.
            const auto queued_by = std::chrono::steady_clock::now() + peer_start_limit;
            while (co_await fleet_lock_nodes(s, dir) < 4) {
                CO_REQUIRE(std::chrono::steady_clock::now() < queued_by);
                co_await pause_for(50ms);
            }
            auto [released] = co_await held.async_release(tuple);
            CO_REQUIRE(!released);
            EXPECT_TRUE(other.exits_cleanly(180s)) << who;
            for (auto& w : workers) {
                EXPECT_TRUE(w.exits_cleanly(180s));
            }
            EXPECT_EQ(co_await fleet_lock_nodes(s, dir), 0u) << "lock nodes left in " << dir;
            co_await s.async_close(asio::use_awaitable);
        },
        600s);
    EXPECT_EQ(check_record(record.path), 3u * iterations);
    const auto holders = fleet_holders(record.path);
    EXPECT_EQ(std::count(holders.begin(), holders.end(), peer_name), iterations) << who;
    EXPECT_EQ(std::count(holders.begin(), holders.end(), "zkr"), 2 * iterations);
    const auto between_sides = [&](const std::string& a, const std::string& b) {
        return (a == peer_name) != (b == peer_name);
    };
    EXPECT_NE(std::adjacent_find(holders.begin(), holders.end(), between_sides), holders.end())
        << "the lock never passed between " << peer_name << " and zkr";
}

TEST(Interop, ZkrAndCuratorShareOneLock) {
    mixed_fleet(shared_child_server(), "curator-lock", "curator", 60);
}

TEST(Interop, ZkrAndKazooShareOneLock) {
    mixed_fleet(shared_child_server(), "kazoo_lock.py", "kazoo", 100);
}

TEST(Interop, KazooOverTlsAndZkrShareOneLock) {
    // A TLS-only server: kazoo (use_ssl) and the zkr workers (session_config::tls) reach it
    // trusting the test CA, and exclude each other as they do in plaintext.
    zk_server server(tls_server_options{shared_test_ca().dir()});
    mixed_fleet({server.hosts(), shared_test_ca().ca()}, "kazoo_lock.py", "kazoo", 100);
}

TEST(Interop, ZkrDefersToKazooNativeNodes) {
    // kazoo without extra patterns cannot see zkr's nodes, but zkr sees kazoo's: while kazoo
    // holds the lock, zkr must wait.
    const auto dir = fresh_root() + "/lock";
    record_file record;
    auto python = peer("kazoo_lock.py", {dir, "1", record.path, "1500"}, {"KAZOO_NATIVE_ONLY=1"});
    expect_ready(python, "kazoo driver");
    ASSERT_TRUE(wait_until(
        [&] {
            std::ifstream in(record.path);
            std::string line;
            return std::getline(in, line) && line.rfind("enter kazoo-native", 0) == 0;
        },
        30s));
    auto worker = zkr_worker("lock", dir, 1, record.path, 2);
    EXPECT_TRUE(worker.exits_cleanly(60s));
    EXPECT_TRUE(python.exits_cleanly(60s));
    EXPECT_EQ(check_record(record.path), 2u);
}

}  // namespace
}  // namespace zkr::test
