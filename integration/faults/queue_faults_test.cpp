// The queue fault runs: producer processes put items one at a time and consumer processes claim
// and complete them (or take them), each operation recorded before it is sent and its outcome
// after, on sessions that renew after expiry, while a nemesis kills producers and consumers,
// freezes consumers past their session's expiry, pauses and restarts the server, or cuts an
// ensemble's links. Then the producers stop, the consumers drain the queue, and the checker
// (queue_checker.hpp) holds the histories to the delivery mode's promise: in claim mode every
// acknowledged item completed exactly once, in take mode taken at most once; no item invented;
// each producer's items queued in its order.
//
//   zkr_faults_tests --gtest_filter='Faults.Queue*'    short mode (CI)
//   ZKR_FAULTS_LONG=1 ...    rounds repeated until each run has put 20,000 items; rewrites its
//                            section of RESULTS.md
#include "client_fleet.hpp"
#include "queue_checker.hpp"
#include "results_file.hpp"

#include "../partitioned_ensemble.hpp"
#include "../test_support.hpp"

#include <zkr/names.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace zkr::faults::queue_runs {
namespace {

using namespace std::chrono_literals;
using test::partitioned_ensemble;
using test::zk_server;

constexpr auto session_timeout = 2000ms;
constexpr std::size_t producers = 2;
constexpr std::size_t consumers = 3;
constexpr std::size_t long_mode_items = 20000;

/// Between two puts of a producer, and a consumer's work on a claimed item: 50 items a second
/// from each producer. Long runs go faster, so that 20,000 items take minutes, not an hour,
/// with the consumers well ahead of the producers: a backlog that a fault leaves must not grow.
std::chrono::milliseconds put_pace() {
    return long_mode() ? 10ms : 20ms;
}
std::chrono::milliseconds work_time() {
    return long_mode() ? 5ms : 20ms;
}

/// The last line of `file` ("" if none).
std::string last_line(const std::string& file) {
    std::ifstream in(file);
    std::string line, last;
    while (std::getline(in, line)) {
        last = line;
    }
    return last;
}

/// Items and claims the queue at `path` still holds.
std::size_t left_in(const std::string& path, const std::string& hosts) {
    std::size_t n = 0;
    for (const auto& child : test::list_children(hosts, path)) {
        n += child.starts_with(names::queue_item_prefix) ? 1 : 0;
    }
    const auto claims = path + "/" + std::string(names::queue_claims);
    return n + (test::node_exists(hosts, claims) ? test::list_children(hosts, claims).size() : 0);
}

/// The producers and consumers of one run: client i of a role connects to `hosts[i % size]`.
class queue_clients : public client_fleet {
  public:
    queue_clients(const std::string& dir, const std::string& mode, const std::string& path,
                  const std::vector<std::string>& hosts)
        : client_fleet(dir), dir_(dir) {
        auto role = [&](std::string prefix, std::string client_role, std::string stop,
                        std::vector<std::string> progress) {
            return client_fleet::role{
                prefix,
                [=](std::size_t i, const std::string& history) {
                    return std::vector<std::string>{
                        ZKR_QUEUE_CLIENT, client_role, hosts[i % hosts.size()], path, history,
                        dir + "/" + stop, std::to_string(session_timeout.count()),
                        // Each producer process names its items apart: slot and history.
                        std::filesystem::path(history).stem().string(),
                        std::to_string(put_pace().count()), std::to_string(work_time().count())};
                },
                progress};
        };
        // Consumers first: the producers' first items find them waiting.
        start(role("cons", mode, "stop-consumers", {mode == "claim" ? "K " : "T "}), consumers);
        start(role("prod", "produce", "stop-producers", {"A "}), producers);
        EXPECT_TRUE(progress()) << "no first puts, or no first deliveries";
    }

    /// Consumer slots come first (0 .. consumers - 1), then the producers'.
    std::size_t producer(std::size_t i) const { return consumers + i; }

    /// SIGSTOP of consumer i for 2T + 0.5 s while it holds a claim (claim mode; in take mode,
    /// at once): its session expires meanwhile, its claim goes and its item back to the queue,
    /// so its completion must be refused once it wakes up.
    void freeze_consumer(std::size_t i, bool holding) {
        client_fleet::freeze(i, 2 * session_timeout + 500ms, [=](const std::string& history) {
            return !holding || last_line(history).starts_with("C ");
        });
    }

    /// Stops the producers, lets the consumers drain the queue, then stops them. Returns what
    /// the queue still holds (none once drained).
    std::size_t drain(const std::string& path, const std::string& hosts) {
        std::ofstream(dir_ + "/stop-producers").put('\n');
        wait_stopped("prod");
        const bool drained = test::wait_until([&] { return left_in(path, hosts) == 0; }, 60s);
        std::ofstream(dir_ + "/stop-consumers").put('\n');
        wait_stopped("cons");
        EXPECT_TRUE(drained) << "the consumers did not drain the queue";
        return left_in(path, hosts);
    }

  private:
    std::string dir_;
};

/// One run: the consumers' mode, where clients connect, and one round of its nemesis (repeated
/// in long mode).
struct queue_run {
    std::string name;
    std::string mode;     ///< claim (exactly once) or take (at most once)
    std::string nemesis;  ///< one round, in words (RESULTS.md)
    std::vector<std::string> hosts;
    std::string read_hosts;  ///< where the queue is read at the end
    std::function<void(queue_clients&, int round)> round;
};

/// The table of this process's runs, for RESULTS.md.
results_table& table() {
    static results_table t{
        "## Queues under faults",
        "Faults.Queue*",
        "Rules: README.md, \"Queues under faults\". T = " +
            std::to_string(session_timeout.count()) + " ms; " + std::to_string(producers) +
            " producers, " + std::to_string(consumers) + " consumers.",
        "| run | mode | nemesis (per round) | rounds | faults | processes (killed) | "
        "acknowledged | puts in doubt | delivered | refused | deliveries in doubt | lost | "
        "duplicates | invented | out of order | errors | time | verdict |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        "---|\n",
        "*acknowledged*: items whose put was answered; *puts in doubt*: puts whose answer "
        "was lost for good or that were in flight in a killed producer; *delivered*: "
        "completions (claim) or takes (take); *refused*: completions the server or the "
        "claim refused because the claim had gone with its session (the item went back); "
        "*deliveries in doubt*: completions or takes whose answer was lost; *lost*, "
        "*duplicates*, *invented*, *out of order*, *errors*: violations (README.md); *time*: "
        "the run's wall time, servers' start excluded.",
        {}};
    return t;
}

/// Runs the producers, the consumers and the nemesis, drains the queue, then checks the
/// histories; prints the run's row.
queue_verdict run_queue(const queue_run& run) {
    const auto started = std::chrono::steady_clock::now();
    const auto dir = test::fresh_temp_dir();
    const auto path = "/queuefaults-" + std::to_string(::getpid()) + "-" + run.name;
    queue_clients clients(dir, run.mode, path, run.hosts);
    int rounds = 0;
    do {
        run.round(clients, rounds++);
    } while (long_mode() && (rounds < 5 || count_lines(dir, "prod-", "A ") < long_mode_items));
    const auto left = clients.drain(path, run.read_hosts);

    auto v = check_queue_run(dir, run.mode == "claim");
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
    char row[640];
    std::snprintf(
        row, sizeof row,
        "| %s | %s | %s | %d | %zu | %zu (%zu) | %zu | %zu | %zu | %zu | %zu | %zu | %zu | "
        "%zu | %zu | %zu | %.0f s | %s |",
        run.name.c_str(), run.mode.c_str(), run.nemesis.c_str(), rounds, clients.faults(),
        v.producers + v.consumers, clients.killed(), v.acknowledged, v.put_in_doubt, v.delivered,
        v.refused, v.delivery_in_doubt, v.lost, v.duplicates, v.invented, v.out_of_order, v.errors,
        seconds.count(), v.passed() && left == 0 ? "pass" : "FAIL");
    table().add(row);
    EXPECT_EQ(left, 0U) << run.name << ": items or claims left in " << path;
    conclude_run(run.name, v.problems, v.passed() && left == 0, dir);
    return v;
}

/// One round on a standalone server: a consumer killed, a producer killed, a consumer frozen
/// past its session's expiry, the server paused past every session's expiry, the server killed
/// and restarted.
void standalone_round(zk_server& server, queue_clients& clients, int round, bool claims) {
    const auto r = static_cast<std::size_t>(round);
    clients.kill(r % consumers);
    clients.kill(clients.producer(r % producers));
    clients.freeze_consumer((r + 1) % consumers, claims);
    clients.fault("pause_server_long", [&] {
        server.pause(1);  // longer than T: every session expires, and renews
        pass_time(session_timeout * 5 / 2);
        server.resume(1);
    });
    clients.fault("restart_server", [&] {
        server.kill(1);
        pass_time(500ms);
        server.restart(1);
    });
}

constexpr const char* standalone_nemesis =
    "a consumer and a producer killed, a consumer frozen 2T + 0.5 s (holding a claim, in claim "
    "mode), the server paused 2.5 T, killed and restarted";

TEST(Faults, QueueCompletesEachItemOnceThroughFaults) {
    zk_server server;
    const auto v = run_queue({"queue-claim",
                              "claim",
                              standalone_nemesis,
                              {server.hosts()},
                              server.hosts(),
                              [&](queue_clients& clients, int round) {
                                  standalone_round(server, clients, round, true);
                              }});
    EXPECT_GT(v.acknowledged, 0U);
    EXPECT_GT(v.refused, 0U) << "the frozen consumer's completion was not refused";
}

TEST(Faults, QueueTakesEachItemAtMostOnceThroughFaults) {
    zk_server server;
    const auto v = run_queue({"queue-take",
                              "take",
                              standalone_nemesis,
                              {server.hosts()},
                              server.hosts(),
                              [&](queue_clients& clients, int round) {
                                  standalone_round(server, clients, round, false);
                              }});
    EXPECT_GT(v.acknowledged, 0U);
}

/// A three-node ensemble whose links are cut: the leader isolated until the others have a
/// leader, then 1.5 T more (the sessions on the isolated server expire: its consumers' claims go,
/// operations in flight there are in doubt). Client i connects to server i % 3 only, so that
/// every side of the cut has clients.
TEST(Faults, QueueCompletesEachItemOnceThroughAPartition) {
    partitioned_ensemble net(3);
    std::vector<std::string> hosts;
    for (int i = 1; i <= net.size(); ++i) {
        hosts.push_back(net.client_address(i));
    }
    const auto v = run_queue(
        {"queue-claim-partition", "claim",
         "3 nodes, links proxied: the leader isolated past the election + 1.5 T", hosts,
         net.client_address(1) + "," + net.client_address(2) + "," + net.client_address(3),
         [&](queue_clients& clients, int) {
             clients.isolate_leader(net, session_timeout * 3 / 2);
         }});
    EXPECT_GT(v.acknowledged, 0U);
}

/// Histories written by hand: what passes, and each violation found.
TEST(Faults, TheQueueCheckerFindsLostDuplicatedAndInventedItems) {
    // prod-1 puts a, b (acknowledged) and c (in doubt); prod-2 was killed with d in flight.
    const queue_history prod1{
        "prod-1-0.hist",
        lines_of({"S 1 produce", "P 2 a", "A 3 a qn-0000000001", "P 4 b", "A 5 b qn-0000000003",
                  "P 6 c", "U 7 c connection_loss", "D 8"}),
        false};
    const queue_history prod2{"prod-2-0.hist", lines_of({"S 1 produce", "P 2 d"}), true};
    // Claim mode: a completed once; b claimed by a consumer whose completion was refused, then
    // completed by another; c never completed (in doubt: fine); d completed (its put landed).
    const queue_history cons1{
        "cons-1-0.hist",
        lines_of({"S 1 claim", "W 2", "C 3 a qn-0000000001 10", "M 4 a", "K 5 a", "W 6",
                  "C 7 b qn-0000000003 11", "M 8 b", "L 9 b claim_lost", "W 10", "D 11"}),
        false};
    const queue_history cons2{
        "cons-2-0.hist",
        lines_of({"S 1 claim", "W 2", "C 12 b qn-0000000003 12", "M 13 b", "K 14 b", "W 15",
                  "C 16 d qn-0000000004 13", "M 17 d", "K 18 d", "W 19", "D 20"}),
        false};
    auto v = check_queue_histories({prod1, prod2, cons1, cons2}, true);
    EXPECT_TRUE(v.passed()) << (v.problems.empty() ? "" : v.problems.front());
    EXPECT_EQ(v.acknowledged, 2U);
    EXPECT_EQ(v.put_in_doubt, 2U);
    EXPECT_EQ(v.delivered, 3U);
    EXPECT_EQ(v.refused, 1U);

    // b never completed: lost. Unless a completion of it is in doubt (an M in a killed consumer).
    const queue_history only_a{
        "cons-1-0.hist",
        lines_of({"S 1 claim", "W 2", "C 3 a qn-0000000001 10", "M 4 a", "K 5 a", "W 6", "D 7"}),
        false};
    v = check_queue_histories({prod1, only_a}, true);
    EXPECT_EQ(v.lost, 1U);
    EXPECT_FALSE(v.passed());
    const queue_history killed_completing{
        "cons-2-0.hist", lines_of({"S 1 claim", "W 2", "C 3 b qn-0000000003 11", "M 4 b"}), true};
    v = check_queue_histories({prod1, only_a, killed_completing}, true);
    EXPECT_TRUE(v.passed()) << (v.problems.empty() ? "" : v.problems.front());
    EXPECT_EQ(v.delivery_in_doubt, 1U);

    // a completed twice; an item nobody put.
    const queue_history again{
        "cons-2-0.hist",
        lines_of({"S 1 claim", "W 2", "C 3 a qn-0000000001 12", "M 4 a", "K 5 a", "W 6",
                  "C 7 z qn-0000000009 13", "M 8 z", "K 9 z", "W 10", "D 11"}),
        false};
    v = check_queue_histories({prod1, prod2, cons1, cons2, again}, true);
    EXPECT_EQ(v.duplicates, 1U);
    EXPECT_EQ(v.invented, 1U);
    EXPECT_FALSE(v.passed());

    // A producer's items queued out of its order.
    const queue_history swapped{"prod-1-0.hist",
                                lines_of({"S 1 produce", "P 2 a", "A 3 a qn-0000000005", "P 4 b",
                                          "A 5 b qn-0000000003", "D 6"}),
                                false};
    v = check_queue_histories({swapped, prod2, cons1, cons2}, true);
    EXPECT_EQ(v.invented, 0U);
    EXPECT_EQ(v.out_of_order, 1U);
    EXPECT_FALSE(v.passed());

    // Take mode: an acknowledged item never taken is lost only beyond the takes in doubt (a V,
    // or a wait in flight in a killed consumer); an item taken twice is a duplicate.
    const queue_history took_a{
        "cons-1-0.hist", lines_of({"S 1 take", "W 2", "T 3 a qn-0000000001", "W 4", "D 5"}), false};
    v = check_queue_histories({prod1, took_a}, false);
    EXPECT_EQ(v.lost, 1U);
    EXPECT_FALSE(v.passed());
    const queue_history killed_taking{"cons-2-0.hist", lines_of({"S 1 take", "W 2"}), true};
    v = check_queue_histories({prod1, took_a, killed_taking}, false);
    EXPECT_TRUE(v.passed()) << (v.problems.empty() ? "" : v.problems.front());
    const queue_history took_a_too{
        "cons-2-0.hist", lines_of({"S 1 take", "W 2", "T 3 a qn-0000000001", "W 4", "D 5"}), false};
    v = check_queue_histories({prod1, took_a, took_a_too}, false);
    EXPECT_EQ(v.duplicates, 1U);
    EXPECT_FALSE(v.passed());

    // Errors: an R line; a process that neither ended nor was killed. No histories: no proof.
    const queue_history failing{"cons-1-0.hist", lines_of({"S 1 claim", "R 2 claim:no_auth"}),
                                false};
    v = check_queue_histories({prod1, failing}, true);
    EXPECT_EQ(v.errors, 2U);
    EXPECT_FALSE(v.passed());
    EXPECT_FALSE(check_queue_histories({}, true).passed());
}

}  // namespace
}  // namespace zkr::faults::queue_runs
