// Mutual exclusion across processes: zkr workers, killed holders, and mixed fleets with Curator
// (Java) and kazoo (Python) on one lock path. Each critical section is recorded in a shared file
// with O_APPEND; check_record fails on any overlap.
#include "test_support.hpp"

#include <zkr/mutex.hpp>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace zkr::test {
namespace {

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

/// One peer process and two zkr workers take turns on one path, `iterations` times each.
void mixed_fleet(const std::string& driver, const std::string& who, int iterations) {
    const auto dir = fresh_root() + "/lock";
    record_file record;
    auto other = peer(driver, {dir, std::to_string(iterations), record.path, "5"});
    expect_ready(other, who);
    std::vector<child_process> workers;
    for (int i = 0; i < 2; ++i) {
        workers.push_back(zkr_worker("lock", dir, iterations, record.path, 5));
    }
    EXPECT_TRUE(other.exits_cleanly(180s)) << who;
    for (auto& w : workers) {
        EXPECT_TRUE(w.exits_cleanly(180s));
    }
    EXPECT_EQ(check_record(record.path), 3u * iterations);
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
}

TEST(Interop, ZkrAndCuratorShareOneLock) {
    mixed_fleet("curator-lock", "Curator driver", 60);
}

TEST(Interop, ZkrAndKazooShareOneLock) {
    mixed_fleet("kazoo_lock.py", "kazoo driver", 100);
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
