// The zkr row: zkr::mutex used the way an application would, through the public API only.
// One io_context run by one thread carries every session; contention loops are coroutines
// (use_awaitable), the queued waiters plain callbacks (so that "memory per waiter" is zkr's own,
// not a coroutine frame of ours). Boost.Log is disabled, as in the examples: with logging enabled
// the library formats its debug records (see bench/README.md).
//
//   zkr-bench-zkr --hosts HOST:PORT [--tls-ca FILE]
// then the line protocol of common.hpp on stdin/stdout. With --tls-ca, every session goes over
// TLS (HOST:PORT is then the server's secure port) trusting that CA (bench/tls.sh).
#include "common.hpp"

#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <thread>

namespace {

namespace asio = boost::asio;
using bench::die;
using bench::now_ns;

std::string g_hosts;
std::string g_tls_ca;  // empty: plaintext
asio::io_context g_ioc;

/// Runs `aw` on the io_context thread; the calling (protocol) thread waits for it.
template <class T>
T block_on(asio::awaitable<T> aw) {
    std::promise<T> done;
    auto result = done.get_future();
    asio::co_spawn(g_ioc, std::move(aw), [&done](std::exception_ptr e, T value) {
        if (e) {
            done.set_exception(e);
        } else {
            done.set_value(std::move(value));
        }
    });
    try {
        return result.get();
    } catch (const std::exception& x) {
        die(x.what());
    }
}

void block_on(asio::awaitable<void> aw) {
    std::promise<void> done;
    auto result = done.get_future();
    asio::co_spawn(g_ioc, std::move(aw), [&done](std::exception_ptr e) {
        if (e) {
            done.set_exception(e);
        } else {
            done.set_value();
        }
    });
    try {
        result.get();
    } catch (const std::exception& x) {
        die(x.what());
    }
}

/// The sessions of one scenario, each its own ZooKeeper session (its own C-client handle).
struct sessions {
    std::vector<std::unique_ptr<zkr::session>> list;

    asio::awaitable<void> open(std::size_t n) {
        zkr::session_config config;
        config.hosts = g_hosts;
        config.session_timeout = std::chrono::seconds(30);
        if (!g_tls_ca.empty()) {
            config.tls.emplace();
            config.tls->ca_file = g_tls_ca;
        }
        for (std::size_t i = 0; i < n; ++i) {
            list.push_back(std::make_unique<zkr::session>(g_ioc.get_executor(), config));
        }
        for (auto& s : list) {
            co_await s->async_connect(asio::use_awaitable);
        }
    }

    asio::awaitable<void> close() {
        for (auto& s : list) {
            co_await s->async_close(asio::use_awaitable);
        }
    }

    zkr::session& operator[](std::size_t i) { return *list[i]; }
};

/// The lock directory and its ancestors, as persistent nodes, before anything is measured.
asio::awaitable<void> ensure_dir(zkr::session& s, std::string dir) {
    for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos == dir.size() || dir[pos] == '/') {
            auto [ec, node] = co_await s.async_create(dir.substr(0, pos), std::string(),
                                                      zkr::create_mode::persistent,
                                                      asio::as_tuple(asio::use_awaitable));
            if (ec && ec != zkr::zk_errc::node_exists) {
                throw boost::system::system_error(ec, "create " + dir.substr(0, pos));
            }
        }
    }
}

/// Connects, creates the directory, says "ready" and waits for "go".
void setup(sessions& ss, std::size_t n, const std::string& dir) {
    block_on([&]() -> asio::awaitable<void> {
        co_await ss.open(n);
        co_await ensure_dir(ss[0], dir);
    }());
}

void teardown(sessions& ss) {
    bench::expect("end");
    block_on(ss.close());
}

// ---- scenarios ----

void run_uncontended(const bench::command& cmd) {
    const auto dir = cmd.get("dir");
    const auto secs = cmd.get_double("secs", 2.0);
    sessions ss;
    setup(ss, 1, dir);
    std::vector<std::int64_t> acquire_ns;
    std::vector<std::int64_t> release_ns;
    acquire_ns.reserve(200000);
    release_ns.reserve(200000);
    bench::say("ready");
    bench::expect("go");
    const auto cpu0 = bench::cpu_ns();
    const auto start = now_ns();
    const auto end = start + static_cast<std::int64_t>(secs * 1e9);
    block_on([&]() -> asio::awaitable<void> {
        zkr::mutex m(ss[0], dir);
        for (;;) {
            const auto t0 = now_ns();
            auto lk = co_await m.async_lock(asio::use_awaitable);
            const auto t1 = now_ns();
            co_await lk.async_release(asio::use_awaitable);
            const auto t2 = now_ns();
            acquire_ns.push_back(t1 - t0);
            release_ns.push_back(t2 - t1);
            if (t2 >= end) {
                break;
            }
        }
    }());
    const auto wall = now_ns() - start;
    const auto cpu = bench::cpu_ns() - cpu0;
    bench::say("done " + bench::json()
                             .num("cycles", static_cast<std::int64_t>(acquire_ns.size()))
                             .num("wall_ns", wall)
                             .num("cpu_ns", cpu)
                             .array("acquire_ns", acquire_ns)
                             .array("release_ns", release_ns)
                             .text());
    teardown(ss);
}

struct contention {
    std::int64_t start = 0;
    std::int64_t end = 0;
    bool stop = false;  // io thread only
    int holders = 0;    // io thread only
    long violations = 0;
    bench::contended_records records;
};

asio::awaitable<void> contend(zkr::session& s, std::string dir, contention& st, std::int64_t who) {
    zkr::mutex m(s, dir);
    for (;;) {
        auto lk = co_await m.async_lock(asio::use_awaitable);
        const auto t = now_ns();
        if (st.holders++ != 0) {
            ++st.violations;
        }
        st.records.acquired.push_back(t - st.start);
        st.records.who.push_back(who);
        --st.holders;
        st.records.released.push_back(now_ns() - st.start);
        co_await lk.async_release(asio::use_awaitable);
        if (st.stop || now_ns() >= st.end) {
            st.stop = true;
            break;
        }
    }
}

void run_contended(const bench::command& cmd) {
    const auto dir = cmd.get("dir");
    const auto secs = cmd.get_double("secs", 2.0);
    const auto n = static_cast<std::size_t>(cmd.get_int("n", 8));
    sessions ss;
    setup(ss, n, dir);
    contention st;
    st.records.acquired.reserve(200000);
    st.records.released.reserve(200000);
    st.records.who.reserve(200000);
    bench::say("ready");
    bench::expect("go");
    const auto cpu0 = bench::cpu_ns();
    st.start = now_ns();
    st.end = st.start + static_cast<std::int64_t>(secs * 1e9);
    std::promise<void> all_done;
    std::size_t left = n;
    std::exception_ptr failure;
    for (std::size_t i = 0; i < n; ++i) {
        asio::co_spawn(g_ioc, contend(ss[i], dir, st, static_cast<std::int64_t>(i)),
                       [&](std::exception_ptr e) {
                           if (e && !failure) {
                               failure = e;
                           }
                           if (--left == 0) {
                               all_done.set_value();
                           }
                       });
    }
    all_done.get_future().get();
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& x) {
            die(x.what());
        }
    }
    const auto wall = now_ns() - st.start;
    const auto cpu = bench::cpu_ns() - cpu0;
    bench::say("done " + bench::json()
                             .num("cycles", static_cast<std::int64_t>(st.records.acquired.size()))
                             .num("wall_ns", wall)
                             .num("cpu_ns", cpu)
                             .num("violations", st.violations)
                             .array("acquired", st.records.acquired)
                             .array("released", st.records.released)
                             .array("who", st.records.who)
                             .text());
    teardown(ss);
}

/// A holder, then N waiters queued behind it (each on its own session, or all on one), then a
/// drain: the holder releases and every waiter releases as soon as it acquires.
void run_waiters(const bench::command& cmd) {
    const auto dir = cmd.get("dir");
    const auto n = static_cast<std::size_t>(cmd.get_int("n", 32));
    // shared=1: every waiter on the holder's session; sessions=K: waiters spread over K sessions
    // (as K processes would be); else a session each.
    const bool shared = cmd.get_int("shared", 0) != 0;
    const auto spread = static_cast<std::size_t>(cmd.get_int("sessions", 0));
    const std::size_t count = shared ? 1 : spread > 0 ? spread + 1 : n + 1;
    sessions ss;
    setup(ss, count, dir);
    auto session_of = [&](std::size_t i) -> zkr::session& {
        return ss[shared ? 0 : spread > 0 && i > 0 ? 1 + (i - 1) % spread : i];
    };

    auto holder = block_on([&]() -> asio::awaitable<zkr::lock> {
        zkr::mutex m(session_of(0), dir);
        co_return co_await m.async_lock(asio::use_awaitable);
    }());
    bench::say("setup");
    bench::expect("queue");  // the orchestrator has counted the watches of the sessions alone

    // Every callback below runs on the io_context's one thread.
    std::vector<std::int64_t> order;  // sequence numbers in acquisition order
    order.reserve(n);
    int holders = 0;
    long violations = 0;
    std::size_t left = n;
    std::promise<void> drained;
    std::exception_ptr failure;
    std::int64_t refused = 0;
    auto fail = [&](const boost::system::error_code& ec) {
        if (ec == zkr::errc::too_many_watches) {
            ++refused;  // the session's watch budget: refused at once, by design
        } else if (!failure) {
            failure = std::make_exception_ptr(boost::system::system_error(ec, "waiter"));
        }
        if (--left == 0) {
            drained.set_value();
        }
    };
    std::vector<zkr::mutex> mutexes;
    mutexes.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        mutexes.emplace_back(session_of(i + 1), dir);
    }
    const auto heap0 = bench::heap_bytes();
    const auto rss0 = bench::rss_bytes();
    const auto queue_start = now_ns();
    asio::post(g_ioc, [&] {
        for (auto& m : mutexes) {
            m.async_lock([&](boost::system::error_code ec, zkr::lock lk) {
                if (ec) {
                    fail(ec);
                    return;
                }
                if (holders++ != 0) {
                    ++violations;
                }
                order.push_back(bench::sequence_of(lk.path()));
                --holders;
                lk.async_release([&](boost::system::error_code rec) {
                    if (rec) {
                        fail(rec);
                    } else if (--left == 0) {
                        drained.set_value();
                    }
                });
            });
        }
    });
    bench::say("ready");
    bench::expect("go");  // the orchestrator has seen every waiter's watch on the server
    const auto queued_ns = now_ns() - queue_start;
    const auto heap1 = bench::heap_bytes();
    const auto rss1 = bench::rss_bytes();
    const auto cpu0 = bench::cpu_ns();
    const auto start = now_ns();
    holder.async_release([](boost::system::error_code) {});
    drained.get_future().get();
    const auto wall = now_ns() - start;
    const auto cpu = bench::cpu_ns() - cpu0;
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& x) {
            die(x.what());
        }
    }
    bench::say_done({n, std::move(order), wall, cpu, queued_ns, heap1 - heap0, rss1 - rss0,
                     violations, refused});
    teardown(ss);
}

/// N idle sessions: what each costs the process in threads and resident memory.
void run_sessions(const bench::command& cmd) {
    const auto n = static_cast<std::size_t>(cmd.get_int("n", 1000));
    bench::say("ready");
    bench::expect("go");
    bench::trim_memory();
    const auto threads0 = bench::thread_count();
    const auto rss0 = bench::rss_bytes();
    const auto heap0 = bench::heap_bytes();
    const auto cpu0 = bench::cpu_ns();
    const auto start = now_ns();
    sessions ss;
    block_on(ss.open(n));
    const auto wall = now_ns() - start;
    bench::say_sessions({n, wall, bench::thread_count() - threads0, bench::rss_bytes() - rss0,
                         bench::heap_bytes() - heap0, bench::cpu_ns() - cpu0});
    teardown(ss);
}

}  // namespace

int main(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) == "--hosts") {
            g_hosts = argv[i + 1];
        } else if (std::string(argv[i]) == "--tls-ca") {
            g_tls_ca = argv[i + 1];
        }
    }
    if (g_hosts.empty()) {
        std::cerr << "usage: zkr-bench-zkr --hosts HOST:PORT [--tls-ca FILE]\n";
        return 2;
    }
    boost::log::core::get()->set_logging_enabled(false);
    auto work = asio::make_work_guard(g_ioc);
    std::thread io([] { g_ioc.run(); });
    bench::command_loop({{"uncontended", run_uncontended},
                         {"contended", run_contended},
                         {"waiters", run_waiters},
                         {"sessions", run_sessions}});
    work.reset();
    io.join();
    return 0;
}
