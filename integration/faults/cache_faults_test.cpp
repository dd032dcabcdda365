// The cache fault runs: one writer applies random creates, updates and deletes to the nodes of
// a directory (two levels) as fast as round trips allow, three cache processes (zkr_cache_client,
// a children_cache, a tree_cache and a node_cache, each on a session that renews after expiry)
// follow it, and a nemesis pauses, restarts, freezes and kills in between: on a standalone
// server, on a three-node ensemble that loses its leader, and on one whose links are cut. The
// checker (cache_checker.hpp) then reads the histories: nothing invented, nothing reordered or
// stale, every cache at the server's final state.
//
//   zkr_faults_tests --gtest_filter='Faults.Caches*'          short mode (CI)
//   ZKR_FAULTS_LONG=1 ...          the faults repeated: 5 rounds and 20,000 writes at least, per
//   run
#include "cache_checker.hpp"
#include "history.hpp"
#include "results_file.hpp"

#include "../partitioned_ensemble.hpp"
#include "../test_support.hpp"

#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <thread>

namespace zkr::faults {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::child_process;
using test::partitioned_ensemble;
using test::zk_server;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

constexpr int session_ms = 2000;

/// The nodes the writer writes, by name below its directory: eight children, and four
/// grandchildren under the child "t" (made first, never deleted) for the tree cache.
const std::vector<std::string> written_nodes = {"c0", "c1", "c2",   "c3",   "c4",   "c5",
                                                "c6", "c7", "t/g0", "t/g1", "t/g2", "t/g3"};
/// One cache process of each kind (cache_client.cpp's MODE); the node cache follows c0.
const std::vector<std::string> cache_modes = {"children", "tree", "node:c0"};

void sleep_ms(long ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));  // time passing, not a wait
}

/// The only writer of the directory: it knows every state it makes, and after a request whose
/// answer was lost it reads the child back and records what it finds.
class writer {
  public:
    writer(session& s, std::string dir, const std::string& history)
        : s_(s), dir_(std::move(dir)), out_(history) {}

    asio::awaitable<void> run(const std::atomic<bool>& stop) {
        auto [ec, made] = co_await s_.async_create(dir_ + "/t", "", create_mode::persistent, tuple);
        if (ec) {
            ADD_FAILURE() << "the writer could not make " << dir_ << "/t: " << ec.message();
            co_return;
        }
        saw("t", child_state{made.stat.czxid, made.stat.mzxid});
        asio::steady_timer pace(co_await asio::this_coro::executor);
        while (!stop) {
            co_await step();
            pace.expires_after(2ms);
            co_await pace.async_wait(tuple);
        }
    }

    /// Any thread.
    std::size_t writes() const { return writes_.load(); }
    /// The directory as the server has it now.
    directory_state state() const {
        directory_state out;
        for (const auto& [name, s] : known_) {
            if (s) {
                out[name] = *s;
            }
        }
        return out;
    }

  private:
    asio::awaitable<void> step() {
        const auto& name = written_nodes[rng_() % written_nodes.size()];
        const auto path = dir_ + "/" + name;
        auto& known = known_[name];
        const auto data = std::to_string(writes_);
        error_code ec;
        if (!known) {
            auto [cec, made] = co_await s_.async_create(path, data, create_mode::persistent, tuple);
            ec = cec;
            if (!ec) {
                saw(name, child_state{made.stat.czxid, made.stat.mzxid});
            }
        } else if (rng_() % 10 < 7) {
            auto [sec, st] = co_await s_.async_set_data(path, data, -1, tuple);
            ec = sec;
            if (!ec) {
                saw(name, child_state{st.czxid, st.mzxid});
            }
        } else {
            auto [rec] = co_await s_.async_remove(path, -1, tuple);
            ec = rec;
            if (!ec) {
                gone(name);
            }
        }
        if (ec) {
            co_await settle(name, path);
        }
    }

    /// After an unanswered request: the child as the server has it, once it can be read.
    asio::awaitable<void> settle(const std::string& name, const std::string& path) {
        asio::steady_timer wait(co_await asio::this_coro::executor);
        for (;;) {
            if (s_.state() == session_state::connected) {
                auto [ec, st] = co_await s_.async_exists(path, tuple);
                if (!ec) {
                    if (st) {
                        saw(name, child_state{st->czxid, st->mzxid});
                    } else if (known_[name]) {
                        gone(name);
                    }
                    co_return;
                }
            }
            wait.expires_after(20ms);
            co_await wait.async_wait(tuple);
        }
    }

    void saw(const std::string& name, child_state s) {
        auto& known = known_[name];
        if (known == s) {
            return;  // unchanged: the unanswered request was not applied
        }
        known = s;
        out_ << "S " << name << " " << s.czxid << " " << s.mzxid << "\n" << std::flush;
        ++writes_;
    }

    void gone(const std::string& name) {
        auto& known = known_[name];
        out_ << "A " << name << " " << known->czxid << "\n" << std::flush;
        known.reset();
        ++writes_;
    }

    session& s_;
    std::string dir_;
    std::ofstream out_;
    std::map<std::string, std::optional<child_state>> known_;
    std::mt19937 rng_{std::random_device{}()};
    std::atomic<std::size_t> writes_{0};
};

/// The cache processes of one run, one per kind, each on its own hosts. A process the nemesis
/// kills is replaced by a new one with a history of its own (cacheN-G.hist, G its generation).
class cache_fleet {
  public:
    cache_fleet(std::string dir, std::string zdir, std::vector<std::string> hosts)
        : dir_(std::move(dir)),
          zdir_(std::move(zdir)),
          hosts_(std::move(hosts)),
          generations_(cache_modes.size(), 0),
          processes_(cache_modes.size()) {
        for (std::size_t i = 0; i < cache_modes.size(); ++i) {
            start(i);
        }
    }

    std::size_t size() const { return processes_.size(); }
    child_process& process(std::size_t i) { return *processes_[i]; }

    /// SIGKILL of cache i, and a new process in its place (it starts from nothing).
    void replace(std::size_t i) {
        processes_[i]->kill(SIGKILL);
        EXPECT_EQ(processes_[i]->wait(10s), 128 + SIGKILL);
        std::ofstream(history(i), std::ios::app) << "X\n";  // dead: nobody else writes it now
        ++generations_[i];
        start(i);
    }

    /// The histories of the processes running now.
    std::vector<std::string> live_histories() const {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < size(); ++i) {
            out.push_back(history(i));
        }
        return out;
    }

    /// How many lines of cache i's current history begin with `tag` ("Y " for its resyncs).
    std::size_t lines_tagged(std::size_t i, const std::string& tag) const {
        std::ifstream in(history(i));
        std::size_t n = 0;
        for (std::string line; std::getline(in, line);) {
            n += line.starts_with(tag) ? 1 : 0;
        }
        return n;
    }

    /// Tells every process to stop and waits for each.
    void stop() {
        std::ofstream(dir_ + "/stop").put('\n');
        for (auto& p : processes_) {
            EXPECT_EQ(p->wait(30s), 0) << p->report();
        }
    }

  private:
    std::string history(std::size_t i) const {
        return dir_ + "/cache" + std::to_string(i + 1) + "-" + std::to_string(generations_[i]) +
               ".hist";
    }

    void start(std::size_t i) {
        processes_[i].emplace(std::vector<std::string>{ZKR_CACHE_CLIENT, cache_modes[i], hosts_[i],
                                                       zdir_, history(i), dir_ + "/stop",
                                                       std::to_string(session_ms)});
    }

    std::string dir_;
    std::string zdir_;
    std::vector<std::string> hosts_;
    std::vector<int> generations_;
    std::vector<std::optional<child_process>> processes_;
};

/// One run: where the writer and each cache connect, and one round of its nemesis (the rounds
/// are repeated in long mode). Each fault follows T + 0.5 s of normal operation.
struct cache_run {
    std::string name;
    std::string writer_hosts;
    std::vector<std::string> cache_hosts;  ///< one per cache_modes entry
    std::function<void(cache_fleet&, int round)> round;
};

/// Runs the writer, the caches and the nemesis, then checks the histories; prints the run's row.
cache_verdict run_caches(const cache_run& run) {
    const auto started = std::chrono::steady_clock::now();
    const auto dir = test::fresh_temp_dir();
    const auto zdir = "/cachefaults-" + std::to_string(::getpid()) + "-" + run.name;
    test::create_node(run.writer_hosts, zdir, "");

    // The writer, on a thread of its own, with a session that renews (pauses expire it too).
    asio::io_context ioc;
    auto config = test::config_for(run.writer_hosts, std::chrono::milliseconds(session_ms));
    config.renew_after_expiry = true;
    config.dedicated_io_thread = true;
    session s(ioc.get_executor(), config);
    writer w(s, zdir, dir + "/writer.hist");
    std::atomic<bool> stop{false};
    bool writer_done = false;
    std::thread writing([&] {
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                co_await s.async_connect(asio::use_awaitable);
                co_await w.run(stop);
                co_await s.async_close(tuple);
            },
            [&](std::exception_ptr e) { writer_done = !e; });
        ioc.run();
    });

    cache_fleet caches(dir, zdir, run.cache_hosts);
    // Every cache has its first snapshot before the first fault, which it would not notice else.
    EXPECT_TRUE(test::wait_until(
        [&] {
            for (std::size_t i = 0; i < caches.size(); ++i) {
                if (caches.lines_tagged(i, "I ") == 0) {
                    return false;
                }
            }
            return true;
        },
        30s, 50ms))
        << run.name << ": a cache did not start";
    // Long mode: at least five rounds and 20,000 writes.
    for (int round = 0; round < (long_mode() ? 5 : 1) || (long_mode() && w.writes() < 20000);
         ++round) {
        run.round(caches, round);
    }
    sleep_ms(session_ms + 500);
    stop = true;
    writing.join();
    EXPECT_TRUE(writer_done);
    const auto final_state = w.state();

    // Every cache reaches the server's state within the session timeout, and some time to read.
    const auto converged = test::wait_until(
        [&] {
            for (const auto& history : caches.live_histories()) {
                if (replay_cache_history(history) != seen_by(cache_mode(history), final_state)) {
                    return false;
                }
            }
            return true;
        },
        std::chrono::milliseconds(3 * session_ms + 5000), 50ms);
    EXPECT_TRUE(converged) << run.name << ": the caches did not reach the server's final state";
    caches.stop();

    const auto v = check_cache_run(dir, final_state);
    const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
    std::printf(
        "\n| run | writes | caches (killed) | events | resyncs | invented | stale | unconverged | "
        "inconsistent | errors | time | verdict |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n"
        "| %s | %zu | %zu (%zu) | %zu | %zu | %zu | %zu | %zu | %zu | %zu | %.0f s | %s |\n\n",
        run.name.c_str(), v.writes, v.caches, v.killed, v.events, v.resyncs, v.invented, v.stale,
        v.unconverged, v.inconsistent, v.errors, seconds.count(), v.passed() ? "pass" : "FAIL");
    EXPECT_GT(v.writes, 100U);
    conclude_run(run.name, v.problems, v.passed(), dir);
    return v;
}

/// The cache killed in `round`: each kind in turn.
std::size_t victim(const cache_fleet& caches, int round) {
    return static_cast<std::size_t>(round) % caches.size();
}

TEST(Faults, CachesFollowAWriterThroughFaults) {
    zk_server server;
    const auto v = run_caches({"caches", server.hosts(),
                               std::vector<std::string>(cache_modes.size(), server.hosts()),
                               [&](cache_fleet& caches, int round) {
                                   sleep_ms(session_ms + 500);
                                   server.pause(1);  // longer than T: every session expires
                                   sleep_ms(session_ms * 5 / 2);
                                   server.resume(1);
                                   sleep_ms(session_ms + 500);
                                   server.kill(1);
                                   sleep_ms(500);
                                   server.restart(1);
                                   sleep_ms(session_ms + 500);
                                   auto& frozen = caches.process(victim(caches, round));
                                   frozen.kill(SIGSTOP);  // its session alone expires
                                   sleep_ms(2 * session_ms + 500);
                                   frozen.kill(SIGCONT);
                                   sleep_ms(session_ms + 500);
                                   server.pause(1);  // shorter than T: sessions survive
                                   sleep_ms(session_ms * 6 / 10);
                                   server.resume(1);
                                   sleep_ms(session_ms + 500);
                                   caches.replace(victim(caches, round + 1));
                               }});
    EXPECT_GE(v.killed, 1U);
    EXPECT_EQ(v.caches, 3U + v.killed) << "three, and one more per kill";
    EXPECT_GE(v.resyncs, 3U) << "every cache renews at the long pause";
}

/// A three-node ensemble that loses its leader: killed and restarted after T, and (long mode)
/// paused for 2.5 T. Every cache is given every member (the C client picks one at random).
TEST(Faults, CachesFollowAWriterThroughLeaderLoss) {
    zk_server server(3);
    const auto v = run_caches({"caches-leader-loss", server.hosts(),
                               std::vector<std::string>(cache_modes.size(), server.hosts()),
                               [&](cache_fleet& caches, int round) {
                                   sleep_ms(session_ms + 500);
                                   int leader = server.leader();
                                   server.kill(leader > 0 ? leader : 1);
                                   sleep_ms(session_ms);
                                   server.restart(leader > 0 ? leader : 1);
                                   if (long_mode()) {
                                       sleep_ms(session_ms + 500);
                                       leader = server.leader();
                                       server.pause(leader > 0 ? leader : 1);
                                       sleep_ms(session_ms * 5 / 2);
                                       server.resume(leader > 0 ? leader : 1);
                                   }
                                   sleep_ms(session_ms + 500);
                                   caches.replace(victim(caches, round));
                               }});
    EXPECT_GE(v.killed, 1U);
}

/// A three-node ensemble whose links are cut: the leader isolated until the others have a leader,
/// then 1.5 T more, and (long mode) a
/// follower. Cache i connects to server i only, so that the isolated server has a cache, whose
/// session expires (its server serves nobody without a quorum) and renews after the heal.
TEST(Faults, CachesFollowAWriterThroughPartitions) {
    partitioned_ensemble net(3);
    std::vector<std::string> hosts;
    for (int i = 1; i <= net.size(); ++i) {
        hosts.push_back(net.client_address(i));
    }
    std::size_t renewals = 0;
    const auto isolate = [&](cache_fleet& caches, int server) {
        // The isolated server's cache session expires, and renews after the heal: waited for
        // here, as a cache that saw no change of its node meanwhile already matches the final
        // state without it.
        const auto cache = static_cast<std::size_t>(server - 1);
        const auto resyncs = caches.lines_tagged(cache, "Y ");
        EXPECT_TRUE(
            net.isolate_past_election(server, std::chrono::milliseconds(session_ms * 3 / 2)))
            << "no quorum left, or none after the heal";
        const bool renewed =
            test::wait_until([&] { return caches.lines_tagged(cache, "Y ") > resyncs; },
                             std::chrono::milliseconds(2 * session_ms + 5000), 50ms);
        EXPECT_TRUE(renewed) << "the cache on server " << server
                             << " did not resync after the heal";
        renewals += renewed ? 1 : 0;
    };
    const auto v = run_caches(
        {"caches-partition", net.servers().hosts(), hosts, [&](cache_fleet& caches, int round) {
             sleep_ms(session_ms + 500);
             const int leader = net.wait_for_quorum(net.every_server(), 10s);
             isolate(caches, leader > 0 ? leader : 1);
             if (long_mode()) {
                 sleep_ms(session_ms + 500);
                 const int now = net.wait_for_quorum(net.every_server(), 10s);
                 isolate(caches, now == 1 ? 2 : 1);  // a follower
             }
             if (long_mode()) {
                 sleep_ms(session_ms + 500);
                 caches.replace(victim(caches, round));
             }
         }});
    EXPECT_GE(v.resyncs, renewals);
    EXPECT_GE(renewals, 1U);
}

/// The checker itself, on histories written by hand: each kind of violation is found, for each
/// kind of cache.
TEST(Faults, TheCacheCheckerFindsInventedStaleAndUnconvergedReports) {
    const auto dir = test::fresh_temp_dir();
    std::ofstream(dir + "/writer.hist") << "S a 10 10\nS a 10 12\nS a 10 15\nA a 10\n"
                                           "S a 20 20\nS b 30 30\n";
    const std::map<std::string, child_state> final_state{{"a", {20, 20}}, {"b", {30, 30}}};
    // A faithful cache: it missed a's middle state (coalesced), then saw a deleted and
    // created again as removed then added.
    std::ofstream(dir + "/cache1.hist") << "E added a 10 10\nE updated a 10 15\nE removed a 10 15\n"
                                           "E added a 20 20\nE added b 30 30\nI 1\n"
                                           "F a 20 20\nF b 30 30\nD\n";
    auto v = check_cache_run(dir, final_state);
    EXPECT_TRUE(v.passed()) << (v.problems.empty() ? "" : v.problems.front());
    EXPECT_EQ(v.events, 5U);

    // Reordered (an older state after a newer), invented (a state the server never had), and a
    // final snapshot that is not the server's.
    std::ofstream(dir + "/cache2.hist") << "E added a 10 12\nE updated a 10 10\nE added b 30 31\n"
                                           "F a 10 10\nF b 30 31\nD\n";
    v = check_cache_run(dir, final_state);
    EXPECT_EQ(v.stale, 1U);
    EXPECT_EQ(v.invented, 1U);
    EXPECT_EQ(v.unconverged, 1U);
    EXPECT_FALSE(v.passed());
    std::filesystem::remove(dir + "/cache2.hist");

    // The same state twice is a repeat; a snapshot its events do not give is inconsistent.
    std::ofstream(dir + "/cache3.hist") << "E added b 30 30\nE updated b 30 30\n"
                                           "F a 20 20\nF b 30 30\nD\n";
    v = check_cache_run(dir, final_state);
    EXPECT_EQ(v.stale, 1U);
    EXPECT_EQ(v.inconsistent, 1U);
    std::filesystem::remove(dir + "/cache3.hist");

    // Each kind is held to what it sees of a deeper tree: the children cache to the children,
    // the tree cache to every level, the node cache to its node; a killed cache (X, written by
    // the test) to its reports, with neither end nor snapshot.
    std::ofstream(dir + "/writer.hist", std::ios::app) << "S t 40 40\nS t/g 41 41\n";
    auto deeper = final_state;
    deeper["t"] = {40, 40};
    deeper["t/g"] = {41, 41};
    std::ofstream(dir + "/cache1.hist") << "K children\nE added a 20 20\nE added b 30 30\n"
                                           "E added t 40 40\nF a 20 20\nF b 30 30\nF t 40 40\nD\n";
    std::ofstream(dir + "/cache4.hist") << "K tree\nE added a 20 20\nE added b 30 30\n"
                                           "E added t 40 40\nE added t/g 41 41\nF a 20 20\n"
                                           "F b 30 30\nF t 40 40\nF t/g 41 41\nD\n";
    std::ofstream(dir + "/cache5.hist") << "K node:a\nE initialized a 10 10\nE updated a 10 15\n"
                                           "E removed a 10 15\nE added a 20 20\nF a 20 20\nD\n";
    std::ofstream(dir + "/cache6.hist") << "K tree\nE added a 10 12\nX\n";
    v = check_cache_run(dir, deeper);
    EXPECT_TRUE(v.passed()) << (v.problems.empty() ? "" : v.problems.front());
    EXPECT_EQ(v.caches, 4U);
    EXPECT_EQ(v.killed, 1U);

    // A tree cache without the second level has not converged, nor has a node cache that holds
    // nothing; a killed cache's invented report still counts.
    std::ofstream(dir + "/cache4.hist") << "K tree\nE added a 20 20\nE added b 30 30\n"
                                           "E added t 40 40\nF a 20 20\nF b 30 30\nF t 40 40\nD\n";
    std::ofstream(dir + "/cache5.hist")
        << "K node:a\nE initialized a 10 10\nE removed a 10 10\nD\n";
    std::ofstream(dir + "/cache6.hist") << "K tree\nE added t/g 41 42\nX\n";
    v = check_cache_run(dir, deeper);
    EXPECT_EQ(v.unconverged, 2U);
    EXPECT_EQ(v.invented, 1U);
    EXPECT_FALSE(v.passed());
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zkr::faults
