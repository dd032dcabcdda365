// The fault-injection proof: client processes loop on a lock (an election, a semaphore) while a
// nemesis kills, freezes and restarts them and the ZooKeeper servers; a checker then reads the
// histories. See README.md beside this file for the rules and the modes.
//
//   zkr_faults_tests --gtest_filter='Faults.*'                   short mode (CI)
//   ZKR_FAULTS_LONG=1 zkr_faults_tests --gtest_filter='Faults.*' long mode, writes RESULTS.md
#include "checker.hpp"
#include "history.hpp"
#include "results_file.hpp"

#include "../partitioned_ensemble.hpp"
#include "../test_support.hpp"
#include "../tls_material.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

namespace zkr::faults {
namespace {

using namespace std::chrono_literals;
using test::child_process;
using test::partitioned_ensemble;
using test::zk_server;

/// Target number of critical sections per run in long mode (5 processes x 2,000 by default).
std::size_t long_target() {
    const char* v = std::getenv("ZKR_FAULTS_SECTIONS");
    return v != nullptr ? std::strtoull(v, nullptr, 10) : 10000;
}

/// ZKR_FAULTS_ONLY=NAME: only the run of that name (e.g. lock-bounded) of the selected tests;
/// the others are skipped. Unset: every run.
bool selected(const std::string& run) {
    const char* v = std::getenv("ZKR_FAULTS_ONLY");
    return v == nullptr || *v == '\0' || run == v;
}

void sleep_ms(long ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

/// How the clients reach the servers: in plaintext, or with every client session over TLS to the
/// servers' TLS ports, trusting `ca_file`: the fault clients' sessions and those of the `zkr`
/// commands the nemesis runs. The harness itself then watches through the servers' plaintext
/// ports (the lock directory, srvr), which the TLS servers keep open for it.
struct client_transport {
    std::string ca_file;  // empty: plaintext

    bool tls() const { return !ca_file.empty(); }
    /// A run's name in the tables: "-tls" after it over TLS.
    std::string run_name(const std::string& name) const { return tls() ? name + "-tls" : name; }
};

/// The TLS servers of the runs over TLS, with their plaintext ports kept for the harness, and
/// the clients that trust their CA.
test::tls_server_options tls_servers() {
    test::tls_server_options tls{test::shared_test_ca().dir()};
    tls.plaintext = true;
    return tls;
}
client_transport tls_clients() {
    return {test::shared_test_ca().ca()};
}

/// The runs of this process whose long-mode table goes to one section of RESULTS.md.
struct results_section {
    std::string filter;  // the gtest filter of the long run that writes it
    std::string note;    // what the runs have in common, before the rules
    std::vector<report> reports;
};

/// Every section this process has runs for, by heading: plaintext runs in the first section,
/// the runs over TLS in a section of their own.
std::map<std::string, results_section>& results_sections() {
    static std::map<std::string, results_section> sections;
    return sections;
}

results_section& results_of(const client_transport& clients) {
    if (!clients.tls()) {
        return results_sections()
            .try_emplace("# Fault-injection results (long mode)",
                         results_section{"Faults.*", "", {}})
            .first->second;
    }
    return results_sections()
        .try_emplace("## Locks over TLS",
                     results_section{"Faults.*OverTls",
                                     "The runs of Faults.StandaloneServer and "
                                     "Faults.Partitions (the first two sections) with every "
                                     "client session over TLS, to the servers' TLS ports; the "
                                     "harness watches through their plaintext ports.\n\n",
                                     {}})
        .first->second;
}

struct run_spec {
    std::string name;
    std::string mode;  // lock, election, semaphore:N; +renew: sessions renew after expiry
    int max_holders = 1;
    int clients = 5;
    int session_ms = 2000;
    std::vector<std::string> schedule;  // fault kinds, applied in order, repeated in long mode
    int max_hold_ms = 0;                // > 0: every hold bounded (fault_client's MAX_HOLD_MS)
};

/// A partition's pattern without its "_silent" suffix (which cuts links by silencing them, as
/// a network that drops packets, instead of closing their connections).
std::string pattern_of(const std::string& kind) {
    const std::string silent = "_silent";
    return kind.ends_with(silent) ? kind.substr(0, kind.size() - silent.size()) : kind;
}

/// Faults that cut links between servers (partitioned_ensemble), healed at their end.
bool is_partition(const std::string& kind) {
    const auto p = pattern_of(kind);
    return p == "isolate_leader" || p == "isolate_follower" || p == "split_leader_minority" ||
           p == "bridge" || p == "flapping";
}

class harness {
  public:
    /// With `net`, client i connects to server i mod n + 1 only, and the partition faults apply.
    harness(zk_server& server, run_spec spec, partitioned_ensemble* net, client_transport clients)
        : server_(server), net_(net), spec_(std::move(spec)), clients_(std::move(clients)) {
        char templ[] = "/tmp/zkr-faults-XXXXXX";
        dir_ = ::mkdtemp(templ);
        zpath_ = "/faults/" + spec_.name + "-" + std::to_string(::getpid()) + "-" +
                 std::to_string(now_ns() % 1000000);
        for (auto& c : zpath_) {
            if (c == ':') {
                c = '_';
            }
        }
        slots_.resize(static_cast<std::size_t>(spec_.clients));
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            start(i);
        }
    }

    ~harness() {
        slots_.clear();
        if (std::getenv("ZKR_FAULTS_KEEP") == nullptr) {
            std::filesystem::remove_all(dir_);
        } else {
            std::fprintf(stderr, "histories kept in %s\n", dir_.c_str());
        }
    }

    std::size_t sections_so_far() const {
        std::size_t n = 0;
        for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
            if (entry.path().extension() != ".hist") {
                continue;
            }
            std::ifstream in(entry.path());
            std::string line;
            while (std::getline(in, line)) {
                n += line.rfind("E ", 0) == 0 ? 1 : 0;
            }
        }
        return n;
    }

    void fault(const std::string& kind) {
        const long t_ms = spec_.session_ms;
        const auto start = now_ns();
        std::int64_t end = 0;
        std::string quorum;  // partitions: when a quorum served again after the heal
        long target = 0;
        if (is_partition(kind)) {
            const auto times = partition(kind);
            end = times.healed;
            quorum = " " + std::to_string(times.quorum);
        } else if (kind == "kill_holder") {
            const auto i = holder_slot();
            target = slots_[i]->pid();
            slots_[i]->kill(SIGKILL);
            nemesis("K " + std::to_string(target) + " " + std::to_string(now_ns()));
            slots_[i]->wait(10s);
            sleep_ms(300);
            start_slot(i);
        } else if (kind == "freeze_client") {
            // Longer than the session timeout: the server expires the session (a realistic
            // forced expiry); the frozen process learns of it only once thawed.
            const auto i = holder_slot();
            target = slots_[i]->pid();
            const auto stop = now_ns();
            slots_[i]->kill(SIGSTOP);
            sleep_ms(2 * t_ms + 500);
            slots_[i]->kill(SIGCONT);
            nemesis("Z " + std::to_string(target) + " " + std::to_string(stop) + " " +
                    std::to_string(now_ns()));
        } else if (kind == "pause_server_short") {
            server_.pause(1);
            sleep_ms(t_ms * 6 / 10);
            server_.resume(1);
        } else if (kind == "pause_server_long") {
            server_.pause(1);
            sleep_ms(t_ms * 5 / 2);
            server_.resume(1);
        } else if (kind == "restart_server") {
            server_.kill(1);
            sleep_ms(500);
            server_.restart(1);
        } else if (kind == "revoke_force") {
            target = revoke_holder();
        } else if (kind == "kill_leader" || kind == "kill_follower") {
            const int leader = server_.leader();
            const int n = kind == "kill_leader" ? (leader > 0 ? leader : 1) : (leader == 1 ? 2 : 1);
            server_.kill(n);
            sleep_ms(t_ms);
            server_.restart(n);
        } else {
            ADD_FAILURE() << "unknown fault " << kind;
        }
        nemesis("F " + kind + " " + std::to_string(start) + " " +
                std::to_string(end != 0 ? end : now_ns()) + " " + std::to_string(target) + quorum);
    }

    /// Stops the clients, waits for them, checks the histories and the lock directory.
    report finish() {
        std::ofstream(dir_ + "/stop").put('\n');
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            const int status = slots_[i]->wait(60s);
            EXPECT_EQ(status, 0) << spec_.name << ": client " << i << " exit status";
        }
        auto r = check_run(spec_.name, dir_, spec_.max_holders, spec_.max_holders == 1);
        // Every acquisition path deletes its node; the last sessions were closed cleanly.
        std::vector<std::string> dirs{zpath_};
        if (spec_.mode.rfind("semaphore", 0) == 0) {
            dirs = {zpath_ + "/leases", zpath_ + "/locks"};
        }
        std::vector<std::string> left;
        const bool empty = test::wait_until(
            [&] {
                left.clear();
                for (const auto& d : dirs) {
                    for (auto& n : test::list_children(watching_hosts(), d)) {
                        left.push_back(d + "/" + n);
                    }
                }
                return left.empty();
            },
            std::chrono::milliseconds(spec_.session_ms + 5000));
        (void)empty;
        r.leftover_znodes = static_cast<std::int64_t>(left.size());
        r.leftover_names = left;
        return r;
    }

    const run_spec& spec() const { return spec_; }

    /// Waits until every client has connected once (its history's "C" line): by then it heeds
    /// SIGUSR1, which would otherwise kill it. A client slowed down at start (sanitizers, a busy
    /// machine) must not meet a partition's request first.
    void wait_started() {
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            const auto history = dir_ + "/c" + std::to_string(i + 1) + ".hist";
            const auto connected = "C " + std::to_string(slots_[i]->pid()) + " ";
            const bool started = test::wait_until(
                [&] {
                    std::ifstream in(history);
                    std::string line;
                    while (std::getline(in, line)) {
                        if (line.rfind(connected, 0) == 0) {
                            return true;
                        }
                    }
                    return false;
                },
                30s);
            if (!started) {
                ADD_FAILURE() << spec_.name << ": client " << i << " did not connect within 30 s\n"
                              << slots_[i]->report();
            }
        }
    }

  private:
    void start(std::size_t i) { start_slot(i); }

    /// Where the harness itself looks at the lock directory: the plaintext ports.
    std::string watching_hosts() const {
        return clients_.tls() ? server_.plaintext_hosts() : server_.hosts();
    }

    /// A partition pattern, for the ensemble as it is now.
    struct partition_plan {
        std::function<void()> cut;     // cuts the links (once)
        std::vector<int> quorum_side;  // the servers that must go on serving (may be empty)
    };

    partition_plan plan_partition(const std::string& kind, int leader) {
        auto& net = *net_;
        const auto followers = net.others_than(leader);  // in order of id
        if (kind == "isolate_leader") {
            return {[&net, leader] { net.isolate(leader); }, followers};
        }
        if (kind == "isolate_follower") {
            const int cut_off = followers.front();
            return {[&net, cut_off] { net.isolate(cut_off); }, net.others_than(cut_off)};
        }
        if (kind == "split_leader_minority") {
            // The leader and as many followers as keep it a minority, against the rest.
            const auto stay = static_cast<std::ptrdiff_t>(net.size() - 1) / 2 - 1;
            std::vector<int> minority{leader};
            minority.insert(minority.end(), followers.begin(), followers.begin() + stay);
            std::vector<int> majority(followers.begin() + stay, followers.end());
            return {[&net, minority, majority] { net.split({minority, majority}); }, majority};
        }
        if (kind == "bridge") {
            // {leader, ...} - middle - {...}: the leader keeps a quorum through the middle
            // follower; the far side sees only the middle, which follows a leader it cannot reach.
            const auto half = static_cast<std::ptrdiff_t>(followers.size() - 1) / 2;
            std::vector<int> left{leader};
            left.insert(left.end(), followers.begin(), followers.begin() + half);
            const int middle = followers[static_cast<std::size_t>(half)];
            std::vector<int> right(followers.begin() + half + 1, followers.end());
            auto quorum_side = left;
            quorum_side.push_back(middle);
            return {[&net, left, middle, right] { net.bridge(left, middle, right); }, quorum_side};
        }
        if (kind == "flapping") {
            // One random link cut or healed every 100-400 ms, for as long as the partition lasts.
            const auto until = std::chrono::steady_clock::now() + partition_time();
            return {[this, &net, until] {
                        while (std::chrono::steady_clock::now() < until) {
                            const int i = 1 + static_cast<int>(rng_() % unsigned(net.size()));
                            const auto peers = net.others_than(i);
                            const int j = peers[rng_() % peers.size()];
                            if (net.linked(i, j)) {
                                net.cut(i, j);
                            } else {
                                net.heal(i, j);
                            }
                            sleep_ms(100 + static_cast<long>(rng_() % 300));
                        }
                    },
                    {}};
        }
        ADD_FAILURE() << "unknown partition " << kind;
        return {[] {}, {}};
    }

    /// 2T + 0.5 s: long enough for the sessions on a side without a quorum to expire and for
    /// the side with one to hand the lock on.
    std::chrono::milliseconds partition_time() const {
        return std::chrono::milliseconds(2 * spec_.session_ms + 500);
    }

    struct partition_times {
        std::int64_t healed = 0;  // every link healed
        std::int64_t quorum = 0;  // then, a quorum of the ensemble served again
    };

    /// Cuts the links `kind` says, keeps them cut for partition_time(), heals every link and
    /// waits until every server serves again. Before the cut, the clients of the servers about to
    /// lose their quorum are asked to hold through it (SIGUSR1), and the cut waits up to 2 s for
    /// one of them to be inside a section that does.
    partition_times partition(const std::string& kind) {
        if (net_ == nullptr) {
            ADD_FAILURE() << kind << " needs a partitioned ensemble";
            return {};
        }
        auto& net = *net_;
        const int leader = net.wait_for_quorum(net.every_server(), 10s);
        if (leader == 0) {
            ADD_FAILURE() << kind << ": no leader to start from";
            return {};
        }
        net.set_cut_style(kind == pattern_of(kind) ? partitioned_ensemble::cut_style::close
                                                   : partitioned_ensemble::cut_style::silence);
        const auto plan = plan_partition(pattern_of(kind), leader);
        const auto& keep = plan.quorum_side;
        if (!keep.empty()) {
            wait_started();  // a client restarted by an earlier fault included
            const auto cut_off = [&](std::size_t slot) {
                return std::find(keep.begin(), keep.end(), server_of(slot)) == keep.end();
            };
            for (std::size_t i = 0; i < slots_.size(); ++i) {
                if (cut_off(i)) {
                    slots_[i]->kill(SIGUSR1);
                }
            }
            holder_slot(cut_off, "H");
        }
        const auto cut_at = std::chrono::steady_clock::now();
        plan.cut();
        if (!keep.empty() && net.wait_for_quorum(keep, 15s) == 0) {
            ADD_FAILURE() << kind << ": no quorum formed among the servers that keep a majority";
        }
        std::this_thread::sleep_until(cut_at + partition_time());
        net.heal_all();
        partition_times times;
        times.healed = now_ns();
        if (net.wait_for_quorum(net.every_server(), 30s) == 0) {
            ADD_FAILURE() << kind << ": no quorum served within 30 s of the heal";
        }
        times.quorum = now_ns();
        if (!net.wait_all_serving(30s)) {
            ADD_FAILURE() << kind << ": the ensemble did not serve again within 30 s of the heal";
        }
        return times;
    }

    /// The one server client slot i connects to (0: every server of server_.hosts()). Each
    /// server of a partitioned ensemble has clients of its own, so each side of a cut has some.
    int server_of(std::size_t slot) const {
        return net_ != nullptr ? static_cast<int>(slot) % net_->size() + 1 : 0;
    }

    void start_slot(std::size_t i) {
        const auto history = dir_ + "/c" + std::to_string(i + 1) + ".hist";
        // Both ways of keeping a blocked resource write from stalling the session's pings:
        // even slots give the session zkr's own thread, odd ones write from a helper thread.
        const auto hosts = net_ != nullptr ? net_->client_address(server_of(i)) : server_.hosts();
        std::vector<std::string> argv;
        if (clients_.tls()) {
            argv = {"env", "ZKR_FAULT_TLS_CA=" + clients_.ca_file};  // env execs: the same pid
        }
        argv.insert(argv.end(),
                    {ZKR_FAULT_CLIENT, spec_.mode, hosts, zpath_, history, dir_ + "/resource",
                     dir_ + "/stop", std::to_string(spec_.session_ms), "0",
                     i % 2 == 0 ? "dedicated" : "shared", std::to_string(spec_.max_hold_ms)});
        slots_[i] = std::make_unique<child_process>(argv);
    }

    /// Another client takes the lock away from its holder: `zkr revoke --force --grace 0`, which
    /// deletes the holder's node at once. Holds last milliseconds, so the holder is stopped
    /// (SIGSTOP, far shorter than the session timeout) while it is looked up and evicted, then
    /// resumed: a slow holder evicted in the middle of its section, which must not know yet.
    /// It answers for its section until the eviction starts (nothing could enter before its node
    /// went); its later writes must be refused. Returns the evicted token.
    long revoke_holder() {
        std::string zkr = std::string(ZKR_CLI) + " --hosts " + server_.hosts() + " ";
        if (clients_.tls()) {
            zkr += "--tls-ca '" + clients_.ca_file + "' ";
        }
        const std::regex node(R"re("node": ?"([^"]+)")re"), token(R"re("fencing_token": ?(\d+))re");
        for (int attempt = 0; attempt < 20; ++attempt) {
            const auto i = holder_slot();
            const auto stopped = slots_[i]->pid();
            const auto stop = now_ns();
            slots_[i]->kill(SIGSTOP);
            auto [status, json] = test::run_shell(zkr + "status --json " + zpath_);
            std::smatch n, t;
            long evicted = 0;
            if (status == 0 && std::regex_search(json, n, node) &&
                std::regex_search(json, t, token)) {
                const auto start = now_ns();
                auto [rstatus, out] = test::run_shell(zkr + "revoke --force --grace 0 --node " +
                                                      n[1].str() + " " + zpath_);
                if (rstatus == 0 && out.rfind("evicted ", 0) == 0) {
                    nemesis("V " + t[1].str() + " " + std::to_string(start));
                    evicted = std::stol(t[1].str());
                }
            }
            slots_[i]->kill(SIGCONT);
            // A freeze like freeze_client's, if shorter: the process chosen may not hold the lock
            // by the time it stops (holds last milliseconds), or may have lost it just before,
            // with its loss handler still to run; stopped, it can be told nothing.
            nemesis("Z " + std::to_string(stopped) + " " + std::to_string(stop) + " " +
                    std::to_string(now_ns()));
            if (evicted != 0) {
                return evicted;
            }
        }
        ADD_FAILURE() << spec_.name << ": no holder could be evicted in 20 attempts";
        return 0;
    }

    void nemesis(const std::string& line) {
        std::ofstream(dir_ + "/nemesis.hist", std::ios::app) << line << "\n";
    }

    /// The slot whose client is inside a critical section now (waits up to 2 s for one; only
    /// slots that are `eligible`; with `kinds`, only a section whose last line is one of those
    /// kinds), else a random slot.
    std::size_t holder_slot(const std::function<bool(std::size_t)>& eligible = {},
                            const std::string& kinds = "EW") {
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        do {
            for (std::size_t i = 0; i < slots_.size(); ++i) {
                if (eligible && !eligible(i)) {
                    continue;
                }
                std::ifstream in(dir_ + "/c" + std::to_string(i + 1) + ".hist");
                std::string line, last;
                while (std::getline(in, line)) {
                    last = line;
                }
                std::istringstream f(last);
                std::string kind;
                long pid = 0;
                f >> kind >> pid;
                if (kind.size() == 1 && kinds.find(kind[0]) != std::string::npos &&
                    pid == slots_[i]->pid()) {
                    return i;
                }
            }
            sleep_ms(2);
        } while (std::chrono::steady_clock::now() < deadline);
        return static_cast<std::size_t>(rng_() % slots_.size());
    }

    zk_server& server_;
    partitioned_ensemble* net_;
    run_spec spec_;
    client_transport clients_;
    std::string dir_, zpath_;
    std::vector<std::unique_ptr<child_process>> slots_;
    std::mt19937 rng_{std::random_device{}()};
};

/// One run: `spec`'s faults under its clients, reached as `clients` says (the run's name marked
/// as theirs), then the checks.
void run_faults(zk_server& server, run_spec spec, partitioned_ensemble* net = nullptr,
                const client_transport& clients = {}) {
    spec.name = clients.run_name(spec.name);
    if (!selected(spec.name)) {
        return;
    }
    harness h(server, spec, net, clients);
    h.wait_started();
    const auto t0 = std::chrono::steady_clock::now();
    int round = 0;
    do {
        for (const auto& kind : spec.schedule) {
            h.fault(kind);
            sleep_ms(spec.session_ms + 500);  // recovery, then normal operation
        }
        ++round;
        if (long_mode()) {
            const auto done = h.sections_so_far();
            std::fprintf(
                stderr, "[faults] %s: round %d, %zu sections, %.0f s\n", spec.name.c_str(), round,
                done, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            if (done >= long_target() && round >= 5) {
                break;
            }
        }
    } while (long_mode());
    auto r = h.finish();
    for (const auto& v : r.violations) {
        ADD_FAILURE() << spec.name << ": " << v;
    }
    for (const auto& n : r.leftover_names) {
        ADD_FAILURE() << spec.name << ": left behind " << n;
    }
    EXPECT_EQ(r.overlaps, 0u) << spec.name;
    EXPECT_EQ(r.stale_accepted, 0u) << spec.name;
    EXPECT_EQ(r.token_order_violations, 0u) << spec.name;
    EXPECT_EQ(r.unterminated, 0u) << spec.name;
    EXPECT_EQ(r.held_through_untold, 0u) << spec.name;
    EXPECT_EQ(r.leftover_znodes, 0) << spec.name;
    EXPECT_GT(r.sections, 0u) << spec.name;
    EXPECT_LE(r.max_inside, static_cast<std::size_t>(spec.max_holders)) << spec.name;
    for (const auto& [kind, st] : r.faults) {
        EXPECT_EQ(st.without_recovery, 0) << spec.name << ": " << kind;
        if (is_partition(kind)) {
            // Liveness after the heal: a new holder within the session timeout and a second of
            // the first quorum after it.
            EXPECT_LE(st.max_recovery_ns, (spec.session_ms + 1000) * 1000000LL)
                << spec.name << ": " << kind;
        }
    }
    std::printf("%s\n", summary_table({r}).c_str());
    results_of(clients).reports.push_back(std::move(r));
}

/// Forced revocation, on holds bounded by max_hold: both take locks away from holders.
run_spec bounded_lock_run() {
    return {"lock-bounded",
            "lock",
            1,
            5,
            2000,
            long_mode() ? std::vector<std::string>{"revoke_force", "kill_holder", "revoke_force",
                                                   "freeze_client"}
                        : std::vector<std::string>{"revoke_force"},
            5};
}

std::vector<std::string> standalone_lock_faults() {
    return {"kill_holder", "freeze_client", "pause_server_short", "pause_server_long",
            "restart_server"};
}

/// The runs on a standalone server, its clients reaching it as `clients` says.
void standalone_server_runs(zk_server& server, const client_transport& clients) {
    const auto run = [&](run_spec spec) { run_faults(server, std::move(spec), nullptr, clients); };
    run({"lock", "lock", 1, 5, 2000, standalone_lock_faults()});
    run({"election", "election", 1, 5, 2000,
         long_mode()
             ? standalone_lock_faults()
             : std::vector<std::string>{"kill_holder", "freeze_client", "pause_server_long"}});
    run({"semaphore-2", "semaphore:2", 2, 5, 2000,
         long_mode()
             ? standalone_lock_faults()
             : std::vector<std::string>{"kill_holder", "freeze_client", "pause_server_long"}});
    run(bounded_lock_run());
    // Sessions that renew after expiry: the same session objects carry on through every expiry.
    run({"lock-renewing", "lock+renew", 1, 5, 2000,
         long_mode() ? standalone_lock_faults()
                     : std::vector<std::string>{"freeze_client", "pause_server_long"}});
}

TEST(Faults, StandaloneServer) {
    zk_server server;
    standalone_server_runs(server, {});
}

/// The same runs with every client session over TLS: the lock's holders and waiters through the
/// server's restart, kills, freezes, pauses and forced revocations (`zkr revoke` over TLS too),
/// each client's tunnel connecting and handshaking again after every one of them.
TEST(Faults, StandaloneServerOverTls) {
    zk_server server(tls_servers());
    standalone_server_runs(server, tls_clients());
}

TEST(Faults, Ensemble) {
    zk_server server(3);
    run_faults(server, {"lock-ensemble", "lock", 1, 5, 2000,
                        long_mode() ? std::vector<std::string>{"kill_leader", "kill_follower",
                                                               "kill_holder", "freeze_client"}
                                    : std::vector<std::string>{"kill_leader", "kill_follower"}});
}

/// Three servers in short mode, five in long mode.
int partitioned_ensemble_size() {
    return long_mode() ? 5 : 3;
}

/// Partitions between the servers of `net`, clients on every server, reaching it as `clients`
/// says.
void partition_runs(partitioned_ensemble& net, const client_transport& clients) {
    const auto patterns = [](std::vector<std::string> short_mode) {
        return long_mode() ? std::vector<std::string>{"isolate_leader",
                                                      "split_leader_minority",
                                                      "bridge",
                                                      "isolate_follower",
                                                      "flapping",
                                                      "isolate_leader_silent",
                                                      "isolate_follower_silent",
                                                      "bridge_silent"}
                           : short_mode;
    };
    const auto run = [&](run_spec spec) {
        run_faults(net.servers(), std::move(spec), &net, clients);
    };
    // Short mode: the silent cut here; Partition.* closes connections.
    run({"lock-partition", "lock", 1, 5, 2000, patterns({"isolate_leader_silent"})});
    run({"election-partition", "election", 1, 5, 2000, patterns({"bridge"})});
    run({"semaphore-2-partition", "semaphore:2", 2, 5, 2000, patterns({"isolate_follower"})});
}

TEST(Faults, Partitions) {
    partitioned_ensemble net(partitioned_ensemble_size());
    partition_runs(net, {});
}

/// The same partitions with every client session over TLS to its own server's TLS port (the
/// servers' links still proxied): holders cut off with their server are told of the loss through
/// their tunnels, which connect again after the heal.
TEST(Faults, PartitionsOverTls) {
    partitioned_ensemble net(partitioned_ensemble_size(), tls_servers());
    partition_runs(net, tls_clients());
}

/// The checker on a history written by hand: a holder told of its loss 2 ms after the next one
/// entered is an overlap, reported with the histories' lines around it; told when it entered
/// (it looked at its handle and found it lost), it is none.
TEST(Faults, TheCheckerShowsTheHistoriesAroundAnOverlap) {
    const auto check = [](const std::string& first_loss) {
        char templ[] = "/tmp/zkr-checker-XXXXXX";
        const std::string dir = ::mkdtemp(templ);
        const std::int64_t ms = 1'000'000, t0 = 1'000'000 * ms;
        const auto at = [&](std::int64_t m) { return std::to_string(t0 + m * ms); };
        std::ofstream(dir + "/c1.hist") << "S 11 " << at(0) << "\nE 11 100 " << at(10) << "\n"
                                        << first_loss << "L 11 100 " << at(14)
                                        << " max_hold\nX 11 100 " << at(15) << " 1 max_hold\n";
        std::ofstream(dir + "/c2.hist")
            << "S 12 " << at(0) << "\nE 12 102 " << at(12) << "\nX 12 102 " << at(16) << " 0 -\n";
        std::ofstream(dir + "/nemesis.hist")
            << "F revoke_force " << at(1) << " " << at(2) << " 0\n";
        std::ofstream(dir + "/resource.log") << "A 12 102 " << at(13) << "\n";
        auto r = check_run("checker", dir, 1, true);
        std::filesystem::remove_all(dir);
        return r;
    };
    const auto late = check("");
    EXPECT_EQ(late.overlaps, 1u);
    ASSERT_FALSE(late.violations.empty());
    const auto& v = late.violations.front();
    EXPECT_NE(v.find("overlap: pid 11 token 100"), std::string::npos) << v;
    EXPECT_NE(v.find("c1.hist @14.0: L 11 100"), std::string::npos) << v;
    EXPECT_NE(v.find("c2.hist @12.0: E 12 102"), std::string::npos) << v;
    EXPECT_NE(v.find("resource.log @13.0: A 12 102"), std::string::npos) << v;
    EXPECT_NE(v.find("nemesis.hist @1.0: F revoke_force"), std::string::npos) << v;
    const std::string at_entry =
        "L 11 100 " + std::to_string(1'000'000'000'000 + 10'000'000) + " at_entry:max_hold\n";
    const auto told = check(at_entry);
    EXPECT_EQ(told.overlaps, 0u);
    EXPECT_TRUE(told.violations.empty()) << told.violations.front();
}

/// A long run rewrites its own section of RESULTS.md: the other sections, written by hand or by
/// other runs, stay as they were.
TEST(Faults, ALongRunRewritesOnlyItsOwnSectionOfTheResults) {
    const auto dir = test::fresh_temp_dir();
    const auto file = dir + "/RESULTS.md";
    std::ofstream(file) << "# Top\n\nold table\n\n## Mine\n\nold rows\n\n## Notes\n\nkept\n";
    replace_results_section(file, "## Mine", "new rows\n");
    replace_results_section(file, "# Top", "new table\n");
    replace_results_section(file, "## Added", "added rows\n");
    std::ostringstream text;
    text << std::ifstream(file).rdbuf();
    EXPECT_EQ(text.str(),
              "# Top\n\nnew table\n\n## Mine\n\nnew rows\n\n## Notes\n\nkept\n\n## Added\n\n"
              "added rows\n");
    std::filesystem::remove_all(dir);
}

/// Prints the table of every run of this process; in long mode writes each section's table.
class summary_writer : public ::testing::Environment {
  public:
    void TearDown() override {
        std::vector<report> every;
        for (const auto& [heading, section] : results_sections()) {
            every.insert(every.end(), section.reports.begin(), section.reports.end());
        }
        if (every.empty()) {
            return;
        }
        std::printf("\n== fault-injection summary ==\n%s\n", summary_table(every).c_str());
        if (!long_mode()) {
            return;
        }
        for (const auto& [heading, section] : results_sections()) {
            write(heading, section);
        }
    }

  private:
    static void write(const std::string& heading, const results_section& section) {
        const auto file = results_path();
        std::ostringstream out;
        out << produced_by(
                   "ZKR_FAULTS_LONG=1 ZKR_FAULTS_SECTIONS=" + std::to_string(long_target()) +
                   " build/integration/faults/zkr_faults_tests --gtest_filter='" + section.filter +
                   "'")
            << section.note
            << "Rules: integration/faults/README.md. The time without a holder is measured from "
               "the start of each fault; the time to the next holder from the fault's end, and "
               "for partitions from the first quorum after the heal.\n\n"
            << summary_table(section.reports);
        // The other sections (other tests' results, and what was written about them) stay.
        replace_results_section(file, heading, out.str());
        std::printf("written to %s\n", file.c_str());
    }
};

[[maybe_unused]] auto* const summary_env = ::testing::AddGlobalTestEnvironment(new summary_writer);

}  // namespace
}  // namespace zkr::faults
