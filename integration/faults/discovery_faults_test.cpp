// The discovery fault runs: registrant processes keep one instance each registered
// (service_discovery::async_register, on sessions that renew after expiry), observer processes
// follow the service with a service_cache, and a nemesis kills registrants for good, freezes
// registrants and observers past their session's expiry, pauses and restarts the server, and
// cuts an ensemble's links. The checker (discovery_checker.hpp) then reads the histories: after
// every fault heals each live registrant is listed by every observer within the bound, each dead
// one is gone within the bound of its death, and nothing is listed that no registrant wrote.
//
//   zkr_faults_tests --gtest_filter='Faults.Discovery*'    short mode (CI), about 60 s
//   ZKR_FAULTS_LONG=1 ...    every round repeated 5 times; rewrites its section of RESULTS.md
#include "client_fleet.hpp"
#include "discovery_checker.hpp"
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
#include <thread>

namespace zkr::faults::discovery_runs {
namespace {

using namespace std::chrono_literals;
using test::child_process;
using test::partitioned_ensemble;
using test::zk_server;

constexpr auto session_timeout = 2000ms;
/// The observer's own reconnection after a fault (a renewed session, the service read again),
/// allowed beyond the session timeout.
constexpr auto reconnection_slack = 1500ms;
constexpr auto bound = session_timeout + reconnection_slack;
const std::string service = "svc";

bool history_has(const std::string& file, const std::string& prefix) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with(prefix)) {
            return true;
        }
    }
    return false;
}

/// The processes of one run, and the nemesis's history. A registrant the nemesis kills is dead
/// for good: a new one with a new id takes its place (its slot and its server).
class discovery_fleet {
  public:
    discovery_fleet(std::string dir, std::string base, std::vector<std::string> registrant_hosts,
                    std::vector<std::string> observer_hosts)
        : dir_(std::move(dir)),
          base_(std::move(base)),
          registrant_hosts_(std::move(registrant_hosts)),
          observer_hosts_(std::move(observer_hosts)),
          generations_(registrant_hosts_.size(), 0),
          nemesis_(dir_ + "/nemesis.hist") {
        for (std::size_t j = 0; j < observer_hosts_.size(); ++j) {
            const auto history = dir_ + "/obs-" + std::to_string(j + 1) + ".hist";
            observers_.emplace_back(args("observe", observer_hosts_[j], history));
            EXPECT_TRUE(test::wait_until([&] { return history_has(history, "V "); }, 30s))
                << history << ": no first view";
        }
        registrants_.resize(registrant_hosts_.size());
        for (std::size_t i = 0; i < registrants_.size(); ++i) {
            start_registrant(i);
        }
    }

    std::size_t registrants() const { return registrants_.size(); }
    std::size_t observers() const { return observers_.size(); }
    child_process& registrant(std::size_t i) { return *registrants_[i]; }
    child_process& observer(std::size_t j) { return observers_[j]; }
    std::string registrant_id(std::size_t i) const {
        return "r" + std::to_string(i + 1) + "-" + std::to_string(generations_[i]);
    }

    /// Applies one fault (`apply` returns once it has healed) and records it, then lets the
    /// bound pass: the checker looks at every observer then, with no other fault under way.
    void fault(const std::string& kind, const std::string& target,
               const std::function<void()>& apply) {
        const auto start = now_ns();
        apply();
        const auto heal = now_ns();
        nemesis_ << "F " << kind << " " << start << " " << heal << " " << target << "\n"
                 << std::flush;
        pass_time(std::chrono::duration_cast<std::chrono::milliseconds>(bound) + 300ms);
    }

    /// SIGKILL of registrant i, dead for good; a new registrant with a new id in its slot.
    void kill_registrant(std::size_t i) {
        const auto id = registrant_id(i);
        fault("kill_registrant", id, [&] {
            registrants_[i]->kill(SIGKILL);
            nemesis_ << "K " << id << " " << now_ns() << "\n" << std::flush;
            EXPECT_EQ(registrants_[i]->wait(10s), 128 + SIGKILL);
            ++generations_[i];
            start_registrant(i);
        });
    }

    /// SIGSTOP for 2T + 0.5 s, then SIGCONT: the server expires the process's session meanwhile.
    void freeze(const std::string& kind, const std::string& target, child_process& p) {
        fault(kind, target, [&] {
            p.kill(SIGSTOP);
            pass_time(2 * session_timeout + 500ms);
            p.kill(SIGCONT);
        });
    }

    /// Tells every process to stop and waits for each.
    void stop() {
        std::ofstream(dir_ + "/stop").put('\n');
        for (auto& p : registrants_) {
            EXPECT_EQ(p->wait(30s), 0) << p->report();
        }
        for (auto& p : observers_) {
            EXPECT_EQ(p.wait(30s), 0) << p.report();
        }
    }

  private:
    std::vector<std::string> args(const std::string& role, const std::string& hosts,
                                  const std::string& history) const {
        return {ZKR_DISCOVERY_CLIENT,
                role,
                hosts,
                base_,
                service,
                history,
                dir_ + "/stop",
                std::to_string(session_timeout.count())};
    }

    /// Starts registrant i and waits until it has registered.
    void start_registrant(std::size_t i) {
        const auto id = registrant_id(i);
        const auto history = dir_ + "/reg-" + id + ".hist";
        auto argv = args("register", registrant_hosts_[i], history);
        argv.push_back(id);
        registrants_[i].emplace(std::move(argv));
        EXPECT_TRUE(test::wait_until([&] { return history_has(history, "C "); }, 30s))
            << history << ": not registered";
    }

    std::string dir_;
    std::string base_;
    std::vector<std::string> registrant_hosts_;
    std::vector<std::string> observer_hosts_;
    std::vector<int> generations_;
    std::ofstream nemesis_;
    std::vector<child_process> observers_;
    std::vector<std::optional<child_process>> registrants_;
};

/// One run: where each process connects, and one round of its nemesis (repeated in long mode).
struct discovery_run {
    std::string name;
    std::string nemesis;  ///< one round, in words (RESULTS.md)
    std::vector<std::string> registrant_hosts;
    std::vector<std::string> observer_hosts;
    std::function<void(discovery_fleet&, int round)> round;
};

std::string ms(std::int64_t ns) {
    return std::to_string((ns + 500'000) / 1'000'000) + " ms";
}

/// The table of this process's runs, for RESULTS.md.
results_table& table() {
    static results_table t{
        "## Service discovery under faults",
        "Faults.Discovery*",
        "Rules: README.md, \"Service discovery under faults\". T = " +
            std::to_string(session_timeout.count()) + " ms; the bound B = T + " +
            std::to_string(reconnection_slack.count()) + " ms.",
        "| run | nemesis (per round) | rounds | faults | registrants (killed) | observers | "
        "views | missing | stale | lingering | invented | errors | heal to listed (max) | death "
        "to gone (max) | time | verdict |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
        "*faults*: checkpoints (each fault's heal + B, and a last quiet one), each checked "
        "for every observer; *views*: changes of what the observers list; *missing*, "
        "*stale*, *lingering*, *invented*, *errors*: violations (README.md); *heal to "
        "listed*: the longest time from a heal to an observer listing a registrant for good "
        "(0 when it never stopped); *death to gone*: from a registrant's SIGKILL to its "
        "removal from an observer's list (the server expires the session after T, then the "
        "observers hear of it); *time*: the run's wall time, servers' start excluded.",
        {}};
    return t;
}

/// Runs the processes and the nemesis, then checks the histories; prints the run's row.
discovery_verdict run_discovery(const discovery_run& run) {
    const auto started = std::chrono::steady_clock::now();
    const auto dir = test::fresh_temp_dir();
    const auto base = "/discoveryfaults-" + std::to_string(::getpid()) + "-" + run.name;
    discovery_fleet fleet(dir, base, run.registrant_hosts, run.observer_hosts);
    const int rounds = long_mode() ? 5 : 1;
    for (int round = 0; round < rounds; ++round) {
        run.round(fleet, round);
    }
    fleet.fault("none", "-", [] {});  // the last checkpoint: all quiet
    fleet.stop();

    const auto v = check_discovery_run(dir, bound);
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
    char row[512];
    std::snprintf(
        row, sizeof row,
        "| %s | %s | %d | %zu | %zu (%zu) | %zu | %zu | %zu | %zu | %zu | %zu | %zu | %s | %s | "
        "%.0f s | %s |",
        run.name.c_str(), run.nemesis.c_str(), rounds, v.faults, v.registrants, v.killed,
        v.observers, v.views, v.missing, v.stale, v.lingering, v.invented, v.errors,
        ms(v.max_listed_ns).c_str(), ms(v.max_gone_ns).c_str(), seconds.count(),
        v.passed() ? "pass" : "FAIL");
    table().add(row);
    conclude_run(run.name, v.problems, v.passed(), dir);
    return v;
}

TEST(Faults, DiscoveryListsLiveInstancesAndDropsDeadOnesThroughFaults) {
    zk_server server;
    const std::vector<std::string> hosts(4, server.hosts());
    const auto v = run_discovery(
        {"discovery",
         "a registrant killed, a registrant frozen 2T + 0.5 s, an observer frozen 2T + 0.5 s, the "
         "server paused 2.5 T; long mode: also the server paused 0.6 T, killed and restarted",
         hosts,
         {server.hosts(), server.hosts()},
         [&](discovery_fleet& fleet, int round) {
             const auto r = static_cast<std::size_t>(round);
             fleet.kill_registrant(r % fleet.registrants());
             const auto frozen = (r + 1) % fleet.registrants();
             fleet.freeze("freeze_registrant", fleet.registrant_id(frozen),
                          fleet.registrant(frozen));
             const auto observer = r % fleet.observers();
             fleet.freeze("freeze_observer", "obs-" + std::to_string(observer + 1),
                          fleet.observer(observer));
             fleet.fault("pause_server_long", "-", [&] {
                 server.pause(1);  // longer than T: every session expires, and renews
                 pass_time(session_timeout * 5 / 2);
                 server.resume(1);
             });
             if (long_mode()) {
                 fleet.fault("pause_server_short", "-", [&] {
                     server.pause(1);  // shorter than T: sessions survive
                     pass_time(session_timeout * 6 / 10);
                     server.resume(1);
                 });
                 fleet.fault("restart_server", "-", [&] {
                     server.kill(1);
                     pass_time(500ms);
                     server.restart(1);
                 });
             }
         }});
    EXPECT_GE(v.killed, 1U);
    EXPECT_EQ(v.registrants, 4U + v.killed) << "four, and one more per kill";
    EXPECT_GE(v.faults, 5U);
}

/// A three-node ensemble whose links are cut: the leader isolated until the others have a
/// leader, then 1.5 T more (the sessions on the isolated server expire), and (long mode) a
/// follower the same way, and a registrant killed. Process i connects to one server only, so
/// that every side of a cut has registrants and observers.
TEST(Faults, DiscoveryListsLiveInstancesAndDropsDeadOnesThroughPartitions) {
    partitioned_ensemble net(3);
    std::vector<std::string> registrant_hosts, observer_hosts;
    for (int i = 0; i < 4; ++i) {
        registrant_hosts.push_back(net.client_address(i % net.size() + 1));
    }
    for (int i = 1; i <= net.size(); ++i) {
        observer_hosts.push_back(net.client_address(i));
    }
    const auto isolate = [&](discovery_fleet& fleet, const std::string& kind, int server) {
        // Healed once every server serves again, the isolated one included (it rejoins the
        // quorum in ZooKeeper's own time): its processes can reach the ensemble from then on.
        fleet.fault(kind, "server" + std::to_string(server), [&] {
            EXPECT_TRUE(net.isolate_past_election(server, session_timeout * 3 / 2))
                << "no quorum left, or none after the heal";
            EXPECT_TRUE(net.wait_all_serving(30s)) << "server " << server << " did not rejoin";
        });
    };
    const auto v = run_discovery(
        {"discovery-partition",
         "3 nodes, links proxied: the leader isolated; long mode: then a follower, and a "
         "registrant killed",
         registrant_hosts, observer_hosts, [&](discovery_fleet& fleet, int round) {
             const int leader = net.wait_for_quorum(net.every_server(), 10s);
             isolate(fleet, "isolate_leader", leader > 0 ? leader : 1);
             if (long_mode()) {
                 const int now = net.wait_for_quorum(net.every_server(), 10s);
                 isolate(fleet, "isolate_follower", now == 1 ? 2 : 1);
                 fleet.kill_registrant(static_cast<std::size_t>(round) % fleet.registrants());
             }
         }});
    EXPECT_GE(v.faults, 2U);
}

/// Histories written by hand, times in ms from t0: what passes, and each violation found.
class discovery_histories {
  public:
    discovery_histories() : dir_(test::fresh_temp_dir()) {}
    ~discovery_histories() { std::filesystem::remove_all(dir_); }
    static std::string at(std::int64_t ms) { return std::to_string(t0 + ms * 1'000'000); }
    /// A registrant that wrote each JSON at its time (ms), registered with the first, and
    /// ended cleanly unless killed.
    void registrant(const std::string& id,
                    const std::vector<std::pair<std::int64_t, std::string>>& writes,
                    bool ended = true) {
        std::ofstream out(dir_ + "/reg-" + id + ".hist");
        out << "S " << at(0) << " register " << id << "\n";
        for (const auto& [t, json] : writes) {
            out << "W " << at(t) << " " << json << "\n"
                << (t == writes.front().first ? "C " + at(t) + "\n" : "");
        }
        out << (ended ? "D " + at(90'000) + "\n" : "");
    }
    /// An observer's history: V lines given as (ms, {id: json}).
    void observer(
        const std::string& name,
        const std::vector<std::pair<std::int64_t, std::map<std::string, std::string>>>& views,
        const std::string& extra = "D " + at(90'000) + "\n") {
        std::ofstream out(dir_ + "/obs-" + name + ".hist");
        out << "S " << at(0) << " observe\n";
        for (const auto& [t, listed] : views) {
            out << "V " << at(t) << " " << listed.size() << "\n";
            for (const auto& [id, json] : listed) {
                out << "I " << id << " " << json << "\n";
            }
        }
        out << extra;
    }
    void nemesis(const std::string& text) { std::ofstream(dir_ + "/nemesis.hist") << text; }
    discovery_verdict check() const {
        return check_discovery_run(dir_, std::chrono::milliseconds(3500));
    }

  private:
    static constexpr std::int64_t t0 = 1'000'000'000'000;
    std::string dir_;
};

TEST(Faults, TheDiscoveryCheckerFindsMissingLingeringInventedAndStaleInstances) {
    discovery_histories h;
    const std::string a = R"({"name":"svc","id":"a","address":"127.0.0.1","port":1})";
    const std::string b = R"({"name":"svc","id":"b","address":"127.0.0.1","port":2})";
    h.registrant("a", {{100, a}});
    h.registrant("b", {{100, b}}, false);
    // a frozen from 1 s to 5.5 s, listed again 1.2 s after the heal; b killed at 10 s, gone
    // 2.4 s later.
    h.nemesis("F freeze_registrant " + h.at(1000) + " " + h.at(5500) + " a\nK b " + h.at(10'000) +
              "\nF kill_registrant " + h.at(10'000) + " " + h.at(10'000) + " b\n");
    h.observer("1", {{50, {}},
                     {200, {{"a", a}, {"b", b}}},
                     {3100, {{"b", b}}},
                     {6700, {{"a", a}, {"b", b}}},
                     {12'400, {{"a", a}}}});
    auto v = h.check();
    EXPECT_TRUE(v.passed()) << (v.problems.empty() ? "" : v.problems.front());
    EXPECT_EQ(v.faults, 2U);
    EXPECT_EQ(v.killed, 1U);
    EXPECT_EQ(v.views, 5U);
    EXPECT_EQ(v.max_listed_ns, 1'200'000'000);
    EXPECT_EQ(v.max_gone_ns, 2'400'000'000);

    // a listed again only 3.6 s after the heal (past the bound of 3.5 s); b still listed 3.6 s
    // after its death; a listed with a port nobody wrote.
    const std::string forged = R"({"name":"svc","id":"a","address":"127.0.0.1","port":9})";
    h.observer("1", {{50, {}},
                     {200, {{"a", a}, {"b", b}}},
                     {3100, {{"b", b}}},
                     {9100, {{"a", forged}, {"b", b}}},
                     {13'600, {{"a", a}}}});
    v = h.check();
    EXPECT_EQ(v.missing, 1U);
    EXPECT_EQ(v.lingering, 1U);
    EXPECT_EQ(v.invented, 1U);
    EXPECT_FALSE(v.passed());

    // A dead instance listed again later lingers too; an observer listing nothing at all misses
    // everything live; an error line, and an observer that did not end, are errors.
    h.observer("1", {{50, {}},
                     {200, {{"a", a}, {"b", b}}},
                     {3100, {{"b", b}}},
                     {6700, {{"a", a}, {"b", b}}},
                     {12'400, {{"a", a}}},
                     {20'000, {{"a", a}, {"b", b}}}});
    h.observer("2", {}, "R " + h.at(4000) + " wait:boom\n");
    v = h.check();
    EXPECT_EQ(v.lingering, 1U);
    EXPECT_EQ(v.missing, 3U) << "obs-2 listed nothing: a and b at the first checkpoint, a at "
                                "the second";
    EXPECT_EQ(v.errors, 2U);
    EXPECT_FALSE(v.passed());

    // Data updated at 2 s and 8 s: at the checkpoint (9 s), the data of 2 s (replaced at 8 s,
    // within the bound: the update may be on its way) passes; the first (replaced at 2 s) is
    // stale.
    discovery_histories u;
    const std::string c0 = R"({"name":"svc","id":"c","payload":0})";
    const std::string c1 = R"({"name":"svc","id":"c","payload":1})";
    const std::string c2 = R"({"name":"svc","id":"c","payload":2})";
    u.registrant("c", {{100, c0}, {2000, c1}, {8000, c2}});
    u.nemesis("F pause_server_long " + u.at(500) + " " + u.at(5500) + " -\n");
    u.observer("1", {{200, {{"c", c0}}}, {2100, {{"c", c1}}}, {9200, {{"c", c2}}}});
    v = u.check();
    EXPECT_TRUE(v.passed()) << (v.problems.empty() ? "" : v.problems.front());
    u.observer("1", {{200, {{"c", c0}}}, {9200, {{"c", c2}}}});
    v = u.check();
    EXPECT_EQ(v.stale, 1U);
    EXPECT_EQ(v.invented, 0U);
    EXPECT_FALSE(v.passed());
}

}  // namespace
}  // namespace zkr::faults::discovery_runs
