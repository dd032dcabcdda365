// The commands that run CMD while holding something: lock (a mutex or a side of a read-write
// lock), semaphore (a lease) and elect (leadership). Each waits for it (with --timeout, --try,
// progress reports and signals), runs CMD under it (supervisor.hpp), then lets go of it.
#include "handlers.hpp"
#include "supervisor.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/lock_queue.hpp>
#include <zkr/mutex.hpp>
#include <zkr/names.hpp>
#include <zkr/path.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_mutex.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <cstdio>
#include <variant>

namespace zkr::cli {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

/// A holder's data as a progress line shows it: printable, and not a whole megabyte.
std::string shown(const std::string& data) {
    constexpr std::size_t limit = 64;
    std::string out;
    for (char c : data.substr(0, limit)) {
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    }
    if (data.size() > limit) {
        out += "... (" + std::to_string(data.size()) + " bytes)";
    }
    return out;
}

/// Tells on stderr, every few seconds after the first, what we are waiting for. One listing per
/// report, and the holder's node read only when the holder changed: what a report costs the
/// server does not grow with the queue (k waiters reporting cost k listings, not k squared
/// reads).
asio::awaitable<void> report_progress(session& s, std::string dir, std::string what) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::string holder_node;
    node_data holder;
    for (auto delay = std::chrono::seconds(1);; delay = std::chrono::seconds(5)) {
        timer.expires_after(delay);
        co_await timer.async_wait(asio::use_awaitable);
        auto [ec, queue] = co_await async_list_queue(s, dir, tuple);
        if (ec || queue.empty()) {
            continue;
        }
        if (queue[0].node != holder_node) {
            auto [dec, data] = co_await s.async_get_data(join_path(dir, queue[0].node), tuple);
            if (dec) {
                continue;  // released meanwhile: the next report tells
            }
            holder_node = queue[0].node;
            holder = std::move(data);
        }
        std::fprintf(stderr, "zkr: waiting for %s: %zu in the queue, held by %s (%s, for %llds)\n",
                     what.c_str(), queue.size(), shown(holder.data).c_str(),
                     hex(holder.stat.ephemeral_owner).c_str(),
                     static_cast<long long>((now_ms() - holder.stat.ctime) / 1000));
    }
}

/// Races an acquisition against --timeout, signals and progress reports. Returns the handle
/// (or an exit code when there is none).
template <class Handle, class Acquire>
asio::awaitable<std::variant<Handle, int>> acquire(session& s, const options& o, std::string dir,
                                                   std::string what, Acquire start) {
    auto ex = co_await asio::this_coro::executor;
    asio::signal_set interrupts(ex, SIGINT, SIGTERM, SIGHUP);
    // A try (--try, --timeout 0) is one look: its own answer ends it, not a timer.
    asio::steady_timer deadline(ex, o.timeout && !o.try_only ? *o.timeout : no_deadline);
    auto progress = [&]() -> asio::awaitable<void> {
        if (o.show_progress() && !o.try_only) {
            co_await report_progress(s, dir, what);
        }
        asio::steady_timer forever(co_await asio::this_coro::executor, no_deadline);
        co_await forever.async_wait(tuple);
    };
    auto result = co_await (start(tuple) || interrupts.async_wait(tuple) ||
                            deadline.async_wait(tuple) || progress());
    switch (result.index()) {
        case 0: {
            auto [ec, handle] = std::move(std::get<0>(result));
            if (ec) {
                std::fprintf(stderr, "zkr: could not acquire %s: %s\n", what.c_str(),
                             ec.message().c_str());
                co_return exit_unavailable;
            }
            if (!handle) {
                if (!o.quiet) {
                    std::fprintf(stderr, "zkr: %s is busy\n", what.c_str());
                }
                co_return exit_not_acquired;
            }
            co_return std::move(handle);
        }
        case 1:
            co_return 128 + std::get<1>(std::get<1>(result));
        default:
            if (!o.quiet) {
                std::fprintf(stderr, "zkr: %s not acquired within %llds\n", what.c_str(),
                             static_cast<long long>(o.timeout->count()));
            }
            co_return exit_not_acquired;
    }
}

/// How a command run under a handle ended: zkr's exit status, and whether the handle was lost
/// (then the status is exit_lost).
struct run_outcome {
    int status = 0;
    bool lost = false;
};

/// Runs the command under `handle` (a lock, a lease or a leadership), then lets go of it: only
/// once the command's whole process tree is gone (supervisor.hpp).
template <class Handle>
asio::awaitable<run_outcome> run_under(const options& o, Handle& handle) {
    held h;
    if constexpr (std::is_same_v<Handle, lease>) {
        h.path = handle.locks().front().path();
    } else {
        h.path = handle.path();
    }
    h.fencing_token = handle.fencing_token();
    h.wait_lost = [&handle](std::function<void(boost::system::error_code)> f) {
        handle.async_wait_lost(std::move(f));
    };
    if constexpr (std::is_same_v<Handle, lock> || std::is_same_v<Handle, lease>) {
        h.wait_revocation = [&handle](std::function<void(boost::system::error_code)> f) {
            handle.async_wait_revocation(std::move(f));
        };
        h.heed_revocation = !o.ignore_revocation;
    }
    auto outcome = co_await run_child(o.command, h, hold_limits{o.grace, o.max_hold, o.quiet});
    if constexpr (std::is_same_v<Handle, leadership>) {
        co_await handle.async_resign(tuple);
    } else {
        co_await handle.async_release(tuple);
    }
    if (outcome.revoked) {
        // Asked for, then stopped or evicted: one status either way.
        co_return run_outcome{exit_revoked};
    }
    if (outcome.lost || outcome.held_too_long) {
        co_return run_outcome{exit_lost, outcome.lost};
    }
    co_return run_outcome{outcome.exit_code};
}

/// Acquires, runs the command, lets go; with `again` (elect --requeue), acquires and runs it
/// anew each time the handle is lost under it, until the command ends by itself.
template <class Handle, class Acquire>
asio::awaitable<int> acquire_and_run(session& s, const options& o, std::string dir,
                                     std::string what, Acquire start, bool again = false) {
    for (;;) {
        auto got = co_await acquire<Handle>(s, o, dir, what, start);
        if (got.index() == 1) {
            co_return std::get<1>(got);
        }
        const auto ran = co_await run_under(o, std::get<0>(got));
        if (!again || !ran.lost) {
            co_return ran.status;
        }
        if (!o.quiet) {
            std::fprintf(stderr, "zkr: %s lost: waiting for it again (--requeue)\n", what.c_str());
        }
    }
}

}  // namespace

asio::awaitable<int> run_lock(session& s, const options& o) {
    // --max-hold is the supervisor's, not the library's: the lock may go only once the
    // command's tree has stopped, which only the supervisor knows.
    if (o.side.empty()) {
        mutex m(s, o.path);
        co_return co_await acquire_and_run<lock>(s, o, o.path, "lock " + o.path, [&](auto token) {
            return o.try_only ? m.async_try_lock(token) : m.async_lock(token);
        });
    }
    shared_mutex rw(s, o.path);
    auto& side = o.side == "read" ? rw.reader() : rw.writer();
    co_return co_await acquire_and_run<lock>(
        s, o, o.path, o.side + " lock " + o.path, [&](auto token) {
            return o.try_only ? side.async_try_lock(token) : side.async_lock(token);
        });
}

asio::awaitable<int> run_semaphore(session& s, const options& o) {
    semaphore sem(s, o.path, o.max);
    // Its contenders queue in a folder of PATH: that is what progress reports list.
    co_return co_await acquire_and_run<lease>(
        s, o, join_path(o.path, names::semaphore_queue), "a lease of " + o.path, [&](auto token) {
            return o.try_only ? sem.async_try_acquire(token) : sem.async_acquire(token);
        });
}

asio::awaitable<int> run_elect(session& s, const options& o) {
    leader_election e(s, o.path, o.id);
    co_return co_await acquire_and_run<leadership>(
        s, o, o.path, "leadership of " + o.path,
        [&](auto token) { return e.async_campaign(token); }, o.requeue);
}

}  // namespace zkr::cli
