// The cache fault run: one writer applies random creates, updates and deletes to the children of
// a directory as fast as round trips allow, three cache processes (zkr_cache_client, each a
// children_cache on a session that renews after expiry) follow it, and a nemesis pauses,
// restarts and freezes in between. The checker (cache_checker.hpp) then reads the histories:
// nothing invented, nothing reordered or stale, every cache at the server's final state.
//
//   zkr_faults_tests --gtest_filter='Faults.Caches*'          short mode (CI)
//   ZKR_FAULTS_LONG=1 ...          the faults repeated: 5 rounds and 20,000 writes at least
#include "cache_checker.hpp"
#include "history.hpp"

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
#include <optional>
#include <random>
#include <thread>

namespace zkr::faults {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::child_process;
using test::zk_server;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

constexpr int session_ms = 2000;
constexpr int children = 8;

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
    std::map<std::string, child_state> state() const {
        std::map<std::string, child_state> out;
        for (const auto& [name, s] : known_) {
            if (s) {
                out[name] = *s;
            }
        }
        return out;
    }

  private:
    asio::awaitable<void> step() {
        const auto name = "c" + std::to_string(rng_() % children);
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

TEST(Faults, CachesFollowAWriterThroughFaults) {
    zk_server server;
    const auto dir = test::fresh_temp_dir();
    const auto zdir = "/cachefaults-" + std::to_string(::getpid());
    test::create_node(server.hosts(), zdir, "");

    // The writer, on a thread of its own, with a session that renews (pauses expire it too).
    asio::io_context ioc;
    auto config = test::config_for(server.hosts(), std::chrono::milliseconds(session_ms));
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

    std::vector<child_process> caches;
    for (int i = 1; i <= 3; ++i) {
        caches.emplace_back(std::vector<std::string>{ZKR_CACHE_CLIENT, server.hosts(), zdir,
                                                     dir + "/cache" + std::to_string(i) + ".hist",
                                                     dir + "/stop", std::to_string(session_ms)});
    }

    // The nemesis, with T + 0.5 s of normal operation before each fault.
    const bool long_mode = std::getenv("ZKR_FAULTS_LONG") != nullptr;
    // Long mode: at least five rounds and 20,000 writes.
    for (int round = 0; round < (long_mode ? 5 : 1) || (long_mode && w.writes() < 20000); ++round) {
        sleep_ms(session_ms + 500);
        server.pause(1);  // longer than T: every session expires, the caches renew and resync
        sleep_ms(session_ms * 5 / 2);
        server.resume(1);
        sleep_ms(session_ms + 500);
        server.kill(1);
        sleep_ms(500);
        server.restart(1);
        sleep_ms(session_ms + 500);
        caches[0].kill(SIGSTOP);  // one cache's session expires while it is frozen
        sleep_ms(2 * session_ms + 500);
        caches[0].kill(SIGCONT);
        sleep_ms(session_ms + 500);
        server.pause(1);  // shorter than T: connections stall, sessions survive
        sleep_ms(session_ms * 6 / 10);
        server.resume(1);
    }
    sleep_ms(session_ms + 500);
    stop = true;
    writing.join();
    ASSERT_TRUE(writer_done);
    const auto final_state = w.state();

    // Every cache reaches the server's state within the session timeout, and some time to read.
    const auto converged = test::wait_until(
        [&] {
            for (int i = 1; i <= 3; ++i) {
                const auto history = dir + "/cache" + std::to_string(i) + ".hist";
                if (replay_cache_history(history) != final_state) {
                    return false;
                }
            }
            return true;
        },
        std::chrono::milliseconds(3 * session_ms + 5000), 50ms);
    EXPECT_TRUE(converged) << "the caches did not reach the server's final state";
    std::ofstream(dir + "/stop").put('\n');
    for (auto& c : caches) {
        EXPECT_EQ(c.wait(30s), 0) << c.report();
    }

    const auto v = check_cache_run(dir, final_state);
    std::printf(
        "\n| run | writes | caches | events | resyncs | invented | stale | unconverged | "
        "inconsistent | errors | verdict |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
        "\n| caches | %zu | %zu | %zu | %zu | %zu | %zu | %zu | %zu | %zu | %s |\n\n",
        v.writes, v.caches, v.events, v.resyncs, v.invented, v.stale, v.unconverged, v.inconsistent,
        v.errors, v.passed() ? "pass" : "FAIL");
    for (const auto& p : v.problems) {
        ADD_FAILURE() << p;
    }
    EXPECT_EQ(v.caches, 3U);
    EXPECT_GT(v.writes, 100U);
    EXPECT_GE(v.resyncs, 3U) << "every cache renews at the long pause";
    EXPECT_TRUE(v.passed());
    if (std::getenv("ZKR_FAULTS_KEEP") == nullptr) {
        std::filesystem::remove_all(dir);
    }
}

/// The checker itself, on histories written by hand: each kind of violation is found.
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
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace zkr::faults
