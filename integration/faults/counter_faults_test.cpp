// The counter fault runs: incrementer processes add 1 to one counter again and again (each
// addition recorded before it is sent and its outcome after, on sessions that renew after
// expiry), while a nemesis kills incrementers, freezes them past their session's expiry, pauses
// and restarts the server, or cuts an ensemble's links. The checker (counter_checker.hpp) then
// holds the final value to the histories: every acknowledged addition counted once, of the
// additions in doubt (answer lost, or in flight in a killed process) only some landed, none
// twice.
//
//   zkr_faults_tests --gtest_filter='Faults.Counter*'    short mode (CI), about 45 s
//   ZKR_FAULTS_LONG=1 ...    every round repeated 5 times; rewrites its section of RESULTS.md
#include "client_fleet.hpp"
#include "counter_checker.hpp"
#include "history.hpp"
#include "results_file.hpp"

#include "../partitioned_ensemble.hpp"
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>

namespace zkr::faults::counter_runs {
namespace {

using namespace std::chrono_literals;
using test::child_process;
using test::partitioned_ensemble;
using test::zk_server;

constexpr auto session_timeout = 2000ms;

/// The value of a counter's node: its data, big-endian (4 bytes: int32; 8: int64).
std::optional<std::int64_t> counter_value(const std::string& path, const std::string& hosts) {
    const auto node = test::read_node(path, hosts);
    if (!node || (node->data.size() != 4 && node->data.size() != 8)) {
        return std::nullopt;
    }
    std::uint64_t v = 0;
    for (const char c : node->data) {
        v = (v << 8) | static_cast<unsigned char>(c);
    }
    return node->data.size() == 4 ? std::int64_t{static_cast<std::int32_t>(v)}
                                  : static_cast<std::int64_t>(v);
}

/// The incrementers of one run, in slots: incrementer i connects to `hosts[i]`, and a killed one
/// is replaced by a new process (a new history) in its slot.
class incrementers : public client_fleet {
  public:
    incrementers(const std::string& dir, std::string mode, std::string path,
                 std::vector<std::string> hosts)
        : client_fleet(dir) {
        const auto count = hosts.size();
        start({"inc",
               [=](std::size_t i, const std::string& history) {
                   return std::vector<std::string>{ZKR_COUNTER_CLIENT,
                                                   mode,
                                                   hosts[i],
                                                   path,
                                                   history,
                                                   dir + "/stop",
                                                   std::to_string(session_timeout.count())};
               },
               {"A "}},
              count);
        EXPECT_TRUE(progress()) << "no first additions";
    }

    /// SIGSTOP for 2T + 0.5 s, then SIGCONT: the server expires its session meanwhile, perhaps
    /// with an addition in flight.
    void freeze(std::size_t i) { client_fleet::freeze(i, 2 * session_timeout + 500ms); }

    /// Tells every incrementer to stop and waits for each.
    void stop(const std::string& dir) {
        std::ofstream(dir + "/stop").put('\n');
        wait_stopped("inc");
    }
};

/// One run: the counter's layout, where each incrementer connects, and one round of its
/// nemesis (repeated in long mode).
struct counter_run {
    std::string name;
    std::string mode;     ///< shared (shared_count) or long (atomic_long)
    std::string nemesis;  ///< one round, in words (RESULTS.md)
    std::vector<std::string> hosts;
    std::string read_hosts;  ///< where the final value is read
    std::function<void(incrementers&, int round)> round;
};

/// The table of this process's runs, for RESULTS.md.
results_table& table() {
    static results_table t{
        "## Counters under faults",
        "Faults.Counter*",
        "Rules: README.md, \"Counters under faults\". T = " +
            std::to_string(session_timeout.count()) + " ms.",
        "| run | layout | nemesis (per round) | rounds | faults | processes (killed) | "
        "acknowledged | in doubt | of which landed | final value | lost | applied twice | "
        "duplicates | errors | time | verdict |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
        "*acknowledged*: additions whose answer said they landed; *in doubt*: additions "
        "whose answer was lost for good (the session ended under them) or that were in "
        "flight in a killed process; *of which landed*: final value - acknowledged, which "
        "the checker requires to be within 0..in doubt; *lost*, *applied twice*, "
        "*duplicates* (an acknowledged value seen twice), *errors*: violations (README.md); "
        "*time*: the run's wall time, servers' start excluded.",
        {}};
    return t;
}

/// Runs the incrementers and the nemesis, then checks the histories against the final value;
/// prints the run's row.
counter_verdict run_counter(const counter_run& run) {
    const auto started = std::chrono::steady_clock::now();
    const auto dir = test::fresh_temp_dir();
    const auto path = "/counterfaults-" + std::to_string(::getpid()) + "-" + run.name;
    incrementers fleet(dir, run.mode, path, run.hosts);
    // Long mode: at least five rounds and 20,000 acknowledged additions.
    int rounds = 0;
    do {
        run.round(fleet, rounds++);
    } while (long_mode() && (rounds < 5 || count_lines(dir, "inc-", "A ") < 20000));
    fleet.stop(dir);

    const auto final_value = counter_value(path, run.read_hosts);
    EXPECT_TRUE(final_value) << "no counter at " << path;
    auto v = check_counter_run(dir, final_value.value_or(0));
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
    const auto killed = fleet.killed();
    char row[512];
    std::snprintf(row, sizeof row,
                  "| %s | %s | %s | %d | %zu | %zu (%zu) | %zu | %zu | %lld | %lld | %zu | %zu | "
                  "%zu | %zu | %.0f s | %s |",
                  run.name.c_str(), run.mode.c_str(), run.nemesis.c_str(), rounds, fleet.faults(),
                  v.processes, killed, v.acknowledged, v.in_doubt,
                  static_cast<long long>(v.in_doubt_landed), static_cast<long long>(v.final_value),
                  v.lost, v.applied_twice, v.duplicates, v.errors, seconds.count(),
                  v.passed() ? "pass" : "FAIL");
    table().add(row);
    conclude_run(run.name, v.problems, v.passed(), dir);
    return v;
}

TEST(Faults, CounterCountsEveryAcknowledgedAdditionOnceThroughFaults) {
    zk_server server;
    std::size_t rounds = 0;
    const auto v = run_counter(
        {"counter", "shared",
         "an incrementer killed, another frozen 2T + 0.5 s, the server paused 2.5 T, killed and "
         "restarted",
         std::vector<std::string>(4, server.hosts()), server.hosts(),
         [&](incrementers& fleet, int round) {
             ++rounds;
             const auto r = static_cast<std::size_t>(round);
             fleet.kill(r % fleet.size());
             fleet.freeze((r + 1) % fleet.size());
             fleet.fault("pause_server_long", [&] {
                 server.pause(1);  // longer than T: every session expires, and renews
                 pass_time(session_timeout * 5 / 2);
                 server.resume(1);
             });
             fleet.fault("restart_server", [&] {
                 server.kill(1);
                 pass_time(500ms);
                 server.restart(1);
             });
         }});
    EXPECT_EQ(v.processes, 4U + rounds) << "four, and one more for each round's kill";
    EXPECT_GT(v.acknowledged, 0U);
}

/// A three-node ensemble whose links are cut: the leader isolated until the others have a
/// leader, then 1.5 T more (the sessions on the isolated server expire, additions in flight
/// there are in doubt). Incrementer i connects to server i only, so that every side of the cut
/// has one.
TEST(Faults, CounterCountsEveryAcknowledgedAdditionOnceThroughAPartition) {
    partitioned_ensemble net(3);
    std::vector<std::string> hosts;
    for (int i = 1; i <= net.size(); ++i) {
        hosts.push_back(net.client_address(i));
    }
    const auto v = run_counter(
        {"counter-partition", "long",
         "3 nodes, links proxied: the leader isolated past the election + 1.5 T", hosts,
         net.client_address(1) + "," + net.client_address(2) + "," + net.client_address(3),
         [&](incrementers& fleet, int) { fleet.isolate_leader(net, session_timeout * 3 / 2); }});
    EXPECT_EQ(v.processes, 3U);
    EXPECT_GT(v.acknowledged, 0U);
}

/// Histories written by hand: what passes, and each violation found.
TEST(Faults, TheCounterCheckerAllowsAdditionsInDoubtOnlyOnce) {
    // p1: three acknowledged; p2: one acknowledged, one whose answer was lost; p3 killed with
    // one in flight. 4 acknowledged, 2 in doubt: 4, 5 and 6 pass.
    const std::vector<counter_history> run = {
        {"p1", lines_of({"S 1", "I 2", "A 3 1", "I 4", "A 5 2", "I 6", "A 7 5", "D 8"}), false},
        {"p2", lines_of({"S 1", "I 2", "A 3 3", "I 4", "U 9 session_expired", "D 10"}), false},
        {"p3", lines_of({"S 1", "I 2"}), true},
    };
    for (const std::int64_t final_value : {5, 6}) {
        const auto v = check_counter_histories(run, final_value);
        EXPECT_TRUE(v.passed()) << final_value << ": "
                                << (v.problems.empty() ? "" : v.problems.front());
        EXPECT_EQ(v.acknowledged, 4U);
        EXPECT_EQ(v.in_doubt, 2U);
        EXPECT_EQ(v.in_doubt_landed, final_value - 4);
    }
    // 5 is the highest acknowledged value: a final value of 4 cannot hold it.
    auto v = check_counter_histories(run, 4);
    EXPECT_EQ(v.impossible, 1U);
    EXPECT_FALSE(v.passed());
    // Below the acknowledged: an acknowledged addition lost.
    v = check_counter_histories(run, 3);
    EXPECT_EQ(v.lost, 1U);
    EXPECT_FALSE(v.passed());
    // Above acknowledged + in doubt: an addition applied twice.
    v = check_counter_histories(run, 7);
    EXPECT_EQ(v.applied_twice, 1U);
    EXPECT_FALSE(v.passed());

    // Two additions acknowledged with the same value: one overwrote the other.
    v = check_counter_histories({{"p1", lines_of({"I 1", "A 2 1", "I 3", "A 4 2", "D 5"}), false},
                                 {"p2", lines_of({"I 1", "A 2 2", "D 5"}), false}},
                                3);
    EXPECT_EQ(v.duplicates, 1U);
    EXPECT_FALSE(v.passed());
    // Values going down within a process.
    v = check_counter_histories({{"p1", lines_of({"I 1", "A 2 2", "I 3", "A 4 1", "D 5"}), false}},
                                2);
    EXPECT_EQ(v.impossible, 1U);
    EXPECT_FALSE(v.passed());

    // An addition in flight in a process that was not killed, a process that neither ended nor
    // was killed, and an error line are errors; the in-flight one still counts as in doubt.
    v = check_counter_histories({{"p1", lines_of({"I 1", "A 2 1", "I 3"}), false},
                                 {"p2", lines_of({"R 1 connect:refused"}), false}},
                                1);
    EXPECT_EQ(v.in_doubt, 1U);
    EXPECT_EQ(v.errors, 4U) << "p1: no outcome, not ended; p2: R, not ended";
    EXPECT_FALSE(v.passed());
    // No histories at all is no proof.
    EXPECT_FALSE(check_counter_histories({}, 0).passed());
}

}  // namespace
}  // namespace zkr::faults::counter_runs
