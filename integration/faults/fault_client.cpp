// A client process of the fault-injection harness (see README.md beside this file).
//
//   zkr_fault_client MODE HOSTS PATH HISTORY RESOURCE STOP_FILE [SESSION_MS] [SEED] [DRIVER]
//                    [MAX_HOLD_MS]
//
// MODE: lock (zkr::mutex), election (zkr::leader_election), semaphore:MAX (one lease of a
// zkr::semaphore of MAX leases). The client loops until STOP_FILE exists: acquire (one in four
// acquisitions with a short timeout that cancels), critical section, release. A lost session is
// replaced by a new one. Each event is one line appended to HISTORY (see history.hpp), with
// CLOCK_MONOTONIC nanoseconds, which every process on the machine shares.
//
// Critical section: record the entry, write our fencing token to the resource stand-in, hold
// 1-8 ms, write again WITHOUT checking ownership first (what a paused process would do: the
// resource must reject it if a newer holder has written), record the exit with lost = 1 when the
// handle no longer owns the lock or zkr reported the loss during the section.
//
// The resource write blocks (flock: it waits while another process holds the resource, a frozen
// one included), and the thread that drives a session must not block (docs/session.md): DRIVER
// "dedicated" gives the session zkr's own I/O thread and writes from the application's thread,
// "shared" (the default) drives the session from the application's io_context and writes from
// a helper thread.
//
// SIGUSR1 asks for a hold through a partition: the section that is open when it arrives, or the
// next one to start within 2 s, records an H line and goes on holding until zkr reports the loss
// (at most 4 x SESSION_MS), then writes again and leaves. The harness sends it to the clients of
// servers about to lose their quorum, so that a holder is cut off in the middle of its section.
//
// MAX_HOLD_MS > 0 bounds every hold (mutex_options::max_hold, semaphore_options::max_hold): holds
// longer than that are taken back in the middle of the section, which the holder is told of.
//
// ZKR_FAULT_TLS_CA=FILE: every session goes over TLS (session_config::tls), trusting the CAs of
// FILE only; HOSTS then names the servers' TLS ports.
#include "history.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/mutex.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <variant>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;
using zkr::faults::now_ns;

namespace {

struct options {
    std::string mode;
    int max_leases = 1;
    std::string hosts, path, history, resource, stop_file;
    int session_ms = 2000;
    unsigned seed = 0;
    bool dedicated = false;
    int max_hold_ms = 0;
    bool renew = false;  // MODE+renew: one session for the whole run, renewed after each expiry
};

const options* opt = nullptr;
std::string pid_text;

void record(const std::string& line) {
    const int fd = ::open(opt->history.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    const std::string text = line + "\n";
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        std::perror("history");
        std::exit(1);
    }
    ::close(fd);
}

std::string words(std::string text) {
    for (auto& c : text) {
        if (c == ' ' || c == '\n' || c == '\t') {
            c = '_';
        }
    }
    return text.empty() ? "-" : text;
}

/// When SIGUSR1 last arrived (CLOCK_MONOTONIC ns; 0: never, or consumed by a section).
std::atomic<std::int64_t> hold_through_asked_at{0};
static_assert(std::atomic<std::int64_t>::is_always_lock_free, "stored from a signal handler");

void ask_hold_through(int) {
    hold_through_asked_at.store(now_ns());  // clock_gettime is async-signal-safe
}

/// Consumes a hold-through request made in the last 2 s.
bool hold_through_requested() {
    const auto at = hold_through_asked_at.exchange(0);
    return at != 0 && now_ns() - at < 2'000'000'000;
}

bool stop_requested() {
    return ::access(opt->stop_file.c_str(), F_OK) == 0;
}

/// The resource stand-in: RESOURCE holds the highest token accepted so far; RESOURCE.log gets
/// one line per write, in the order the writes were decided (under the file lock). A token lower
/// than the highest accepted is rejected.
bool resource_write(std::int64_t token) {
    const int fd = ::open(opt->resource.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) {
        std::perror("resource");
        std::exit(1);
    }
    char buf[64] = {};
    const auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    const std::int64_t highest = n > 0 ? std::atoll(buf) : 0;
    const bool accepted = token >= highest;
    if (accepted) {
        const auto text = std::to_string(token) + " " + pid_text + "\n";
        if (::ftruncate(fd, 0) != 0 ||
            ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
            std::perror("resource write");
            std::exit(1);
        }
    }
    const int log = ::open((opt->resource + ".log").c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    const auto line = std::string(accepted ? "A " : "J ") + pid_text + " " + std::to_string(token) +
                      " " + std::to_string(now_ns()) + "\n";
    if (log < 0 || ::write(log, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        std::perror("resource log");
        std::exit(1);
    }
    ::close(log);
    ::flock(fd, LOCK_UN);
    ::close(fd);
    return accepted;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

/// Completes when the stop file appears or `limit` passes (whichever first). Returns true on
/// timeout.
asio::awaitable<bool> stop_or_timeout(std::optional<std::chrono::milliseconds> limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit.value_or(24h);
    for (;;) {
        if (stop_requested()) {
            co_return false;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            co_return true;
        }
        co_await sleep_for(std::min(left, std::chrono::milliseconds(25)));
    }
}

/// The helper thread of DRIVER "shared".
asio::thread_pool* blocking_pool = nullptr;

/// resource_write, from where it may block without stalling the session.
asio::awaitable<bool> write_resource(std::int64_t token) {
    if (opt->dedicated) {
        co_return resource_write(token);  // the session is driven from zkr's own thread
    }
    co_return co_await asio::co_spawn(
        *blocking_pool, [token]() -> asio::awaitable<bool> { co_return resource_write(token); },
        asio::use_awaitable);
}

/// One critical section with a held handle (lock, leadership or lease).
template <class Handle>
asio::awaitable<void> section(Handle& handle, std::mt19937& rng) {
    // ZKR_FAULTS_SLOW_ENTRY_MS=N: one section in eight starts N ms late, this thread blocked as a
    // process that is descheduled between the lock's delivery and its first look at the handle
    // (a loaded machine), so that bounded holds can pass before their holder asks to be told.
    static const long slow_entry_ms = [] {
        const char* v = std::getenv("ZKR_FAULTS_SLOW_ENTRY_MS");
        return v != nullptr ? std::atol(v) : 0L;
    }();
    if (slow_entry_ms > 0 && rng() % 8 == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(slow_entry_ms));
    }
    const auto token = handle.fencing_token();
    const auto tok = std::to_string(token);
    record("E " + pid_text + " " + tok + " " + std::to_string(now_ns()));
    struct loss_flag {
        bool lost = false;
    };
    auto flag = std::make_shared<loss_flag>();
    handle.async_wait_lost([flag, tok](zkr::error_code ec) {
        if (ec != asio::error::operation_aborted) {
            flag->lost = true;
            record("L " + pid_text + " " + tok + " " + std::to_string(now_ns()) + " " +
                   words(ec.message()));
        }
    });
    // Lost before we asked to be told (a bounded hold whose max_hold passed while this process
    // was slow to get here): the waiter completes only behind the node's deletion, which may
    // already be on its way. What the handle says now is what we know now, and nothing of the
    // deletion runs on this thread before we have recorded it.
    if (!handle) {
        flag->lost = true;
        record("L " + pid_text + " " + tok + " " + std::to_string(now_ns()) +
               " at_entry:" + words(handle.lost_reason().message()));
    }
    bool ok = co_await write_resource(token);
    record("W " + pid_text + " " + tok + " " + (ok ? "1" : "0") + " " + std::to_string(now_ns()));
    co_await sleep_for(std::chrono::milliseconds(1 + rng() % 8));
    if (hold_through_requested()) {
        record("H " + pid_text + " " + tok + " " + std::to_string(now_ns()));
        const auto limit =
            std::chrono::steady_clock::now() + 4 * std::chrono::milliseconds(opt->session_ms);
        while (!flag->lost && handle && !stop_requested() &&
               std::chrono::steady_clock::now() < limit) {
            co_await sleep_for(10ms);
        }
    }
    ok = co_await write_resource(token);
    record("W " + pid_text + " " + tok + " " + (ok ? "1" : "0") + " " + std::to_string(now_ns()));
    const bool lost = flag->lost || !static_cast<bool>(handle);
    record("X " + pid_text + " " + tok + " " + std::to_string(now_ns()) + " " + (lost ? "1" : "0") +
           " " + words(lost ? handle.lost_reason().message() : ""));
}

void note_error(const char* what, const zkr::error_code& ec) {
    record("R " + pid_text + " " + std::to_string(now_ns()) + " " + what + ":" +
           words(ec.message()));
}

/// Acquires through `start(as_tuple(use_awaitable))` with an optional timeout; returns the handle
/// if acquired.
template <class Handle, class Start>
asio::awaitable<std::optional<Handle>> acquire(Start start, bool timed, std::mt19937& rng) {
    std::optional<std::chrono::milliseconds> limit;
    if (timed) {
        limit = std::chrono::milliseconds(5 + rng() % 60);
    }
    auto result = co_await (start() || stop_or_timeout(limit));
    if (result.index() == 1) {
        if (std::get<1>(result)) {
            record("T " + pid_text + " " + std::to_string(now_ns()));
        }
        co_return std::nullopt;
    }
    auto [ec, handle] = std::get<0>(std::move(result));
    if (ec) {
        note_error("acquire", ec);
        co_return std::nullopt;
    }
    co_return std::optional<Handle>(std::move(handle));
}

asio::awaitable<void> run() {
    auto ex = co_await asio::this_coro::executor;
    std::mt19937 rng(opt->seed != 0 ? opt->seed : static_cast<unsigned>(::getpid()));
    zkr::session_config config;
    config.hosts = opt->hosts;
    config.session_timeout = std::chrono::milliseconds(opt->session_ms);
    config.connect_timeout = 3s;
    config.dedicated_io_thread = opt->dedicated;
    config.renew_after_expiry = opt->renew;
    if (const char* ca = std::getenv("ZKR_FAULT_TLS_CA"); ca != nullptr && *ca != '\0') {
        config.tls.emplace();
        config.tls->ca_file = ca;
    }
    const auto tuple = asio::as_tuple(asio::use_awaitable);
    record("S " + pid_text + " " + std::to_string(now_ns()));
    while (!stop_requested()) {
        auto session = std::make_unique<zkr::session>(ex, config);
        auto [cec] = co_await session->async_connect(tuple);
        if (cec) {
            note_error("connect", cec);
            co_await session->async_close(tuple);
            co_await sleep_for(100ms);
            continue;
        }
        record("C " + pid_text + " " + std::to_string(now_ns()) + " " +
               std::to_string(session->session_id()));
        std::optional<std::chrono::milliseconds> max_hold;
        if (opt->max_hold_ms > 0) {
            max_hold = std::chrono::milliseconds(opt->max_hold_ms);
        }
        zkr::mutex mutex(*session, opt->path, zkr::mutex_options{.max_hold = max_hold});
        zkr::leader_election election(*session, opt->path, "p" + pid_text);
        zkr::semaphore semaphore(*session, opt->path, opt->max_leases,
                                 zkr::semaphore_options{.max_hold = max_hold});
        auto generation = session->generation();
        while (!stop_requested()) {
            const auto state = session->state();
            if ((state == zkr::session_state::expired && !opt->renew) ||
                state == zkr::session_state::closed || state == zkr::session_state::auth_failed) {
                break;
            }
            if (session->generation() != generation && state == zkr::session_state::connected) {
                generation = session->generation();  // renewed: the same objects carry on
                record("C " + pid_text + " " + std::to_string(now_ns()) + " " +
                       std::to_string(session->session_id()));
            }
            const bool timed = rng() % 4 == 0;
            if (opt->mode == "lock") {
                auto h = co_await acquire<zkr::lock>([&] { return mutex.async_lock(tuple); }, timed,
                                                     rng);
                if (h) {
                    co_await section(*h, rng);
                    auto [rec] = co_await h->async_release(tuple);
                    if (rec) {
                        note_error("release", rec);
                    }
                }
            } else if (opt->mode == "election") {
                auto h = co_await acquire<zkr::leadership>(
                    [&] { return election.async_campaign(tuple); }, timed, rng);
                if (h) {
                    co_await section(*h, rng);
                    auto [rec] = co_await h->async_resign(tuple);
                    if (rec) {
                        note_error("release", rec);
                    }
                }
            } else {
                auto h = co_await acquire<zkr::lease>(
                    [&] { return semaphore.async_acquire(1, tuple); }, timed, rng);
                if (h) {
                    co_await section(*h, rng);
                    auto [rec] = co_await h->async_release(tuple);
                    if (rec) {
                        note_error("release", rec);
                    }
                }
            }
            if (session->state() != zkr::session_state::connected) {
                co_await sleep_for(20ms);  // no busy loop while disconnected (or renewing)
            }
        }
        record("R " + pid_text + " " + std::to_string(now_ns()) +
               " session:" + zkr::to_string(session->state()));
        co_await session->async_close(tuple);
    }
    record("D " + pid_text + " " + std::to_string(now_ns()));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 7) {
        std::fprintf(
            stderr,
            "usage: %s lock|election|semaphore:MAX[+renew] HOSTS PATH HISTORY RESOURCE STOP_FILE "
            "[SESSION_MS] [SEED] [dedicated|shared]\n",
            argv[0]);
        return 2;
    }
    options o;
    std::string mode = argv[1];
    if (mode.ends_with("+renew")) {
        o.renew = true;
        mode.resize(mode.size() - 6);
    }
    if (mode.rfind("semaphore:", 0) == 0) {
        o.max_leases = std::atoi(mode.c_str() + 10);
        mode = "semaphore";
    }
    if (mode != "lock" && mode != "election" && mode != "semaphore") {
        std::fprintf(stderr, "unknown mode %s\n", argv[1]);
        return 2;
    }
    o.mode = mode;
    o.hosts = argv[2];
    o.path = argv[3];
    o.history = argv[4];
    o.resource = argv[5];
    o.stop_file = argv[6];
    if (argc > 7) {
        o.session_ms = std::atoi(argv[7]);
    }
    if (argc > 8) {
        o.seed = static_cast<unsigned>(std::strtoul(argv[8], nullptr, 10));
    }
    if (argc > 9) {
        o.dedicated = std::string(argv[9]) == "dedicated";
    }
    if (argc > 10) {
        o.max_hold_ms = std::atoi(argv[10]);
    }
    opt = &o;
    pid_text = std::to_string(::getpid());
    ::signal(SIGUSR1, ask_hold_through);
    boost::log::core::get()->set_logging_enabled(false);

    asio::thread_pool pool(1);
    blocking_pool = &pool;
    asio::io_context ioc;
    int status = 1;
    asio::co_spawn(ioc, run(), [&](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::fprintf(stderr, "fault client failed: %s\n", x.what());
                record("R " + pid_text + " " + std::to_string(now_ns()) +
                       " exception:" + words(x.what()));
            }
        }
        status = e ? 1 : 0;
    });
    ioc.run();
    return status;
}
