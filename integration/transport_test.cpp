// The transport against a real server: no threads of its own, many sessions on one thread,
// sessions on several io_contexts and threads, the dedicated I/O thread, a close that never
// blocks the io_context.
#include "test_support.hpp"

#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <sys/resource.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

/// Threads of this process, as the kernel counts them.
int thread_count() {
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "Threads:") {
            int n = 0;
            status >> n;
            return n;
        }
        status.ignore(4096, '\n');
    }
    return -1;
}

/// Raises the descriptor limit to at least `wanted` (each session holds its socket and the
/// transport's duplicate of it).
bool allow_descriptors(rlim_t wanted) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return false;
    }
    if (limit.rlim_cur >= wanted) {
        return true;
    }
    if (limit.rlim_max < wanted) {
        return false;
    }
    limit.rlim_cur = wanted;
    return setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

TEST(Transport, AThousandSessionsOnOneThreadAddNoThread) {
    constexpr int sessions = 1000;
    ASSERT_TRUE(allow_descriptors(3 * sessions + 256))
        << "needs " << 3 * sessions + 256 << " file descriptors (ulimit -n)";
    const auto root = fresh_root();
    run(
        [&](asio::io_context& ioc) -> asio::awaitable<void> {
            std::vector<std::unique_ptr<session>> all;
            std::vector<lock> locks;
            const auto open_one = [&](int i) -> asio::awaitable<void> {
                auto& s = *all.emplace_back(std::make_unique<session>(
                    ioc.get_executor(), config_for(shared_hosts(), 20000ms)));
                co_await s.async_connect(asio::use_awaitable);
                mutex m(s, root + "/" + std::to_string(i));
                locks.push_back(co_await m.async_lock(asio::use_awaitable));
            };
            co_await open_one(0);
            const int with_one = thread_count();
            EXPECT_GT(with_one, 0);
            // The rest connect and lock concurrently, all on this one thread.
            int done = 1;
            for (int i = 1; i < sessions; ++i) {
                asio::co_spawn(ioc, open_one(i), [&](std::exception_ptr e) {
                    EXPECT_FALSE(e) << "a session failed to connect or lock";
                    ++done;
                });
            }
            CO_REQUIRE(co_await eventually([&] { return done == sessions; }, 120s));
            // At most: a thread left over by an earlier test may end meanwhile.
            EXPECT_LE(thread_count(), with_one);
            EXPECT_EQ(locks.size(), std::size_t(sessions));
            for (const auto& l : locks) {
                EXPECT_TRUE(l.owns());
            }
            locks.clear();  // each releases its node
            for (auto& s : all) {
                co_await s->async_close(asio::use_awaitable);
            }
            EXPECT_LE(thread_count(), with_one);
        },
        240s);
}

/// Sessions on four io_contexts, each run by two threads, contend for one mutex: every C call
/// goes through the one gate (under TSan this is the race detector's test of it).
TEST(Transport, SessionsOnSeveralIoContextsAndThreadsShareOneMutexSafely) {
    constexpr int contexts = 4;
    constexpr int sessions_per_context = 2;
    constexpr int rounds = 15;
    const auto dir = fresh_root() + "/lock";
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
    std::atomic<int> sections{0};
    std::vector<std::unique_ptr<asio::io_context>> ios;
    std::vector<std::future<void>> results;
    for (int c = 0; c < contexts; ++c) {
        auto& io = *ios.emplace_back(std::make_unique<asio::io_context>(2));
        for (int k = 0; k < sessions_per_context; ++k) {
            results.push_back(asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    session s(co_await asio::this_coro::executor,
                              config_for(shared_hosts(), 10000ms));
                    co_await s.async_connect(asio::use_awaitable);
                    mutex m(s, dir);
                    for (int r = 0; r < rounds; ++r) {
                        auto lk = co_await m.async_lock(asio::use_awaitable);
                        if (inside.fetch_add(1) != 0) {
                            ++overlaps;
                        }
                        asio::steady_timer hold(co_await asio::this_coro::executor, 1ms);
                        co_await hold.async_wait(asio::use_awaitable);
                        inside.fetch_sub(1);
                        ++sections;
                        co_await lk.async_release(asio::use_awaitable);
                    }
                    co_await s.async_close(asio::use_awaitable);
                },
                asio::use_future));
        }
    }
    std::vector<std::thread> threads;
    for (auto& io : ios) {
        for (int t = 0; t < 2; ++t) {
            threads.emplace_back([&io] { io->run_for(120s); });
        }
    }
    for (auto& r : results) {
        ASSERT_EQ(r.wait_for(150s), std::future_status::ready);
        EXPECT_NO_THROW(r.get());
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(overlaps.load(), 0);
    EXPECT_EQ(sections.load(), contexts * sessions_per_context * rounds);
    EXPECT_EQ(children_count(dir), 0u);
}

/// Blocks the calling thread for `d`: what an application handler must not do on the thread
/// that drives a session, and what it may do when the session has its own thread.
void block_thread(std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);  // deliberately blocking: the point of the test
}

/// Takes a lock, then blocks the io_context's only thread for 1.5 session timeouts, then asks
/// whether the session and the lock survived it.
struct blocked_outcome {
    bool lock_owned_after = false;
    bool same_session = false;
    std::vector<session_state> states;
};

blocked_outcome block_while_holding(bool dedicated) {
    blocked_outcome out;
    const auto dir = fresh_root() + "/lock";
    run(
        [&](asio::io_context& ioc) -> asio::awaitable<void> {
            auto config = config_for(shared_hosts(), 1200ms);
            config.dedicated_io_thread = dedicated;
            session s(ioc.get_executor(), config);
            co_await s.async_connect(asio::use_awaitable);
            const auto id = s.session_id();
            const auto timeout = s.negotiated_timeout();
            mutex m(s, dir);
            auto lk = co_await m.async_lock(asio::use_awaitable);
            CO_REQUIRE(lk.owns());
            // Every state the session passes through, recorded by a waiter that keeps waiting.
            auto watcher = std::make_shared<std::function<void(session_state)>>();
            *watcher = [&, watcher](session_state seen) {
                s.async_wait_state_change(seen, [&, watcher](error_code ec, session_state now) {
                    if (!ec) {
                        out.states.push_back(now);
                        (*watcher)(now);
                    }
                });
            };
            (*watcher)(session_state::connected);
            block_thread(timeout * 3 / 2);
            // Let whatever the session has to say arrive (the dedicated thread saw no gap).
            co_await pause_for(timeout);
            out.lock_owned_after = lk.owns();
            out.same_session = s.state() == session_state::connected && s.session_id() == id;
            *watcher = [](session_state) {};
            co_await s.async_close(asio::use_awaitable);
        },
        30s);
    return out;
}

TEST(Transport, ADedicatedThreadKeepsTheSessionThroughABlockedApplicationThread) {
    const auto out = block_while_holding(true);
    EXPECT_TRUE(out.lock_owned_after);
    EXPECT_TRUE(out.same_session);
    EXPECT_TRUE(out.states.empty() || out.states == std::vector{session_state::closed})
        << "the session changed state " << out.states.size() << " times";
}

TEST(Transport, WithoutADedicatedThreadABlockedThreadCostsTheSession) {
    // The rule the dedicated thread exists for: the thread that drives a session sends its
    // pings. Blocked past the session timeout, the server expires the session.
    const auto out = block_while_holding(false);
    EXPECT_FALSE(out.lock_owned_after);
    EXPECT_FALSE(out.same_session);
}

TEST(Transport, ClosingNeverBlocksTheIoContextEvenWhenTheServerIsFrozen) {
    zk_server server;
    run(
        [&](asio::io_context& ioc) -> asio::awaitable<void> {
            session s(ioc.get_executor(), config_for(server.hosts(), 10000ms));
            co_await s.async_connect(asio::use_awaitable);
            server.pause();  // the server will never answer the close request
            bool closed = false;
            const auto started = std::chrono::steady_clock::now();
            s.async_close([&](error_code) { closed = true; });
            // Meanwhile the io_context keeps serving: 20 ticks of 10 ms arrive on time.
            std::chrono::milliseconds worst{0};
            for (int i = 0; i < 20; ++i) {
                const auto before = std::chrono::steady_clock::now();
                co_await pause_for(10ms);
                worst = std::max(worst, std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - before));
            }
            EXPECT_LT(worst, 200ms);
            CO_REQUIRE(co_await eventually([&] { return closed; }, 5s));
            EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
            EXPECT_EQ(s.state(), session_state::closed);
            server.resume();
        },
        30s);
}

TEST(Transport, DestroyingASessionReleasesItsLockWithoutBlocking) {
    const auto dir = fresh_root() + "/lock";
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session other(ioc.get_executor(), config_for(shared_hosts()));
        co_await other.async_connect(asio::use_awaitable);
        std::optional<lock> kept;  // outlives its session: the node goes with the session
        {
            session s(ioc.get_executor(), config_for(shared_hosts(), 30000ms));
            co_await s.async_connect(asio::use_awaitable);
            mutex m(s, dir);
            kept = co_await m.async_lock(asio::use_awaitable);
            CO_REQUIRE(kept->owns());
        }
        // The destructor's close told the server at once: the next holder does not wait out
        // the 30 s session timeout.
        const auto started = std::chrono::steady_clock::now();
        mutex m(other, dir);
        auto [ec, next] = co_await m.async_lock(tuple);
        EXPECT_FALSE(ec);
        EXPECT_TRUE(next.owns());
        EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
        EXPECT_FALSE(kept->owns());
        EXPECT_EQ(kept->lost_reason(), errc::session_closed);
        co_await other.async_close(asio::use_awaitable);
    });
}

}  // namespace
}  // namespace zkr::test
