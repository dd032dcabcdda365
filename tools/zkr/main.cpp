// zkr: ZooKeeper locks, semaphores and leader election from the shell.
//
//   zkr [--hosts HOSTS] [--session-timeout MS] [--auth USER:PASS] [--verbose] COMMAND ...
//   zkr lock [--read|--write] [--timeout S] [--try] [--grace S] [--quiet] PATH -- CMD [ARGS...]
//   zkr semaphore --max N [--timeout S] [--try] [--grace S] [--quiet] PATH -- CMD [ARGS...]
//   zkr elect --id ID [--grace S] [--quiet] PATH -- CMD [ARGS...]
//   zkr leader [--watch] PATH
//   zkr status [--json] PATH
//   zkr barrier set|remove|wait [--timeout S] PATH
//   zkr barrier enter --members N [--timeout S] [--grace S] [--quiet] PATH -- CMD [ARGS...]
//   zkr members [--watch] PATH
//
// Built on zkr's public API only. Exit status: the command's own (128+N if killed by signal
// N); 64 usage error; 69 cannot connect, or the session failed before acquiring; 75 not acquired
// (--try busy, or --timeout passed, a barrier still set); 76 lock or leadership lost while the
// command ran.
#include "options.hpp"
#include "supervisor.hpp"

#include <zkr/barrier.hpp>
#include <zkr/double_barrier.hpp>
#include <zkr/group.hpp>
#include <zkr/leader_election.hpp>
#include <zkr/log.hpp>
#include <zkr/mutex.hpp>
#include <zkr/queue.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_mutex.hpp>
#include <zkr/version.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/utility/setup/console.hpp>

#include <cstdio>
#include <ctime>
#include <iostream>
#include <string_view>

namespace zkr::cli {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

constexpr int exit_usage = 64, exit_unavailable = 69, exit_not_acquired = 75, exit_lost = 76;
constexpr auto no_deadline =
    std::chrono::hours(24 * 365);  // what the timers wait without --timeout

std::string hex(std::int64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

// The headers' version, and the library's when the installed libzkr is another one.
void print_version() {
    if (std::string_view(zkr::version()) == zkr::version_string) {
        std::printf("zkr %s\n", zkr::version_string);
    } else {
        std::printf("zkr %s (libzkr %s)\n", zkr::version_string, zkr::version());
    }
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

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
            auto [dec, data] = co_await s.async_get_data(dir + "/" + queue[0].node, tuple);
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

/// Runs the command under `handle` (a lock, a lease or a leadership), then lets go of it.
template <class Handle>
asio::awaitable<int> run_under(const options& o, Handle& handle) {
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
    auto outcome = co_await run_child(o.command, h, o.grace, o.quiet);
    if constexpr (std::is_same_v<Handle, leadership>) {
        co_await handle.async_resign(tuple);
    } else {
        co_await handle.async_release(tuple);
    }
    co_return outcome.lost ? exit_lost : outcome.exit_code;
}

template <class Handle, class Acquire>
asio::awaitable<int> acquire_and_run(session& s, const options& o, std::string dir,
                                     std::string what, Acquire start) {
    auto got = co_await acquire<Handle>(s, o, std::move(dir), std::move(what), start);
    if (got.index() == 1) {
        co_return std::get<1>(got);
    }
    co_return co_await run_under(o, std::get<0>(got));
}

asio::awaitable<int> cmd_lock(session& s, const options& o) {
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

asio::awaitable<int> cmd_semaphore(session& s, const options& o) {
    semaphore sem(s, o.path, o.max);
    co_return co_await acquire_and_run<lease>(
        s, o, o.path + "/locks", "a lease of " + o.path, [&](auto token) {
            return o.try_only ? sem.async_try_acquire(token) : sem.async_acquire(token);
        });
}

asio::awaitable<int> cmd_elect(session& s, const options& o) {
    leader_election e(s, o.path, o.id);
    co_return co_await acquire_and_run<leadership>(
        s, o, o.path, "leadership of " + o.path,
        [&](auto token) { return e.async_campaign(token); });
}

asio::awaitable<int> cmd_leader(session& s, const options& o) {
    leader_observer observer(s, o.path);
    asio::signal_set interrupts(co_await asio::this_coro::executor, SIGINT, SIGTERM, SIGHUP);
    do {
        auto r =
            co_await (observer.async_wait_leader_change(tuple) || interrupts.async_wait(tuple));
        if (r.index() == 1) {
            co_return 0;
        }
        auto [ec, leader] = std::get<0>(std::move(r));
        if (ec) {
            std::fprintf(stderr, "zkr: %s\n", ec.message().c_str());
            co_return exit_unavailable;
        }
        std::printf("%s\n", leader ? leader->id.c_str() : "(none)");
        std::fflush(stdout);
    } while (o.watch);
    co_return 0;
}

// enter: joins a double barrier of --members, runs the command once all are in, then leaves
// (waiting for the others) and exits with the command's status; 75 if --timeout passes first.
asio::awaitable<int> cmd_barrier_enter(session& s, const options& o) {
    double_barrier round(s, o.path, o.max);
    {
        auto ex = co_await asio::this_coro::executor;
        asio::steady_timer deadline(ex, o.timeout ? *o.timeout : no_deadline);
        asio::signal_set interrupts(ex, SIGINT, SIGTERM, SIGHUP);  // gone before the command runs
        auto r = co_await (round.async_enter(tuple) || deadline.async_wait(tuple) ||
                           interrupts.async_wait(tuple));
        if (r.index() == 1) {
            co_return exit_not_acquired;
        }
        if (r.index() == 2) {
            co_return 128 + std::get<1>(std::get<2>(r));
        }
        if (auto [ec] = std::get<0>(r); ec) {
            std::fprintf(stderr, "zkr: cannot enter %s: %s\n", o.path.c_str(),
                         ec.message().c_str());
            co_return exit_unavailable;
        }
    }
    held h;  // a barrier cannot be lost: wait_lost never reports
    h.path = o.path;
    h.wait_lost = [](std::function<void(boost::system::error_code)>) {};
    auto outcome = co_await run_child(o.command, h, o.grace, o.quiet);
    if (auto [ec] = co_await round.async_leave(tuple); ec) {
        std::fprintf(stderr, "zkr: cannot leave %s: %s\n", o.path.c_str(), ec.message().c_str());
        co_return exit_unavailable;
    }
    co_return outcome.exit_code;
}

// set and remove act at once; wait returns once the barrier is not set (75 if --timeout passes).
asio::awaitable<int> cmd_barrier(session& s, const options& o) {
    if (o.action == "enter") {
        co_return co_await cmd_barrier_enter(s, o);
    }
    barrier gate(s, o.path);
    error_code ec;
    if (o.action == "set") {
        std::tie(ec) = co_await gate.async_set(tuple);
    } else if (o.action == "remove") {
        std::tie(ec) = co_await gate.async_remove(tuple);
    } else {
        asio::steady_timer deadline(co_await asio::this_coro::executor,
                                    o.timeout ? *o.timeout : no_deadline);
        asio::signal_set interrupts(co_await asio::this_coro::executor, SIGINT, SIGTERM, SIGHUP);
        auto r = co_await (gate.async_wait(tuple) || deadline.async_wait(tuple) ||
                           interrupts.async_wait(tuple));
        if (r.index() != 0) {
            co_return exit_not_acquired;
        }
        std::tie(ec) = std::get<0>(r);
    }
    if (ec) {
        std::fprintf(stderr, "zkr: barrier %s %s: %s\n", o.action.c_str(), o.path.c_str(),
                     ec.message().c_str());
        co_return exit_unavailable;
    }
    co_return 0;
}

// One line per member, "ID<TAB>DATA"; with --watch, the list again after every change, each
// list ended by an empty line, until interrupted.
asio::awaitable<int> cmd_members(session& s, const options& o) {
    group g(s, o.path);
    asio::signal_set interrupts(co_await asio::this_coro::executor, SIGINT, SIGTERM, SIGHUP);
    do {
        auto r = co_await (g.async_wait_change(tuple) || interrupts.async_wait(tuple));
        if (r.index() == 1) {
            co_return 0;
        }
        auto [ec, members] = std::get<0>(std::move(r));
        if (ec) {
            std::fprintf(stderr, "zkr: cannot read %s: %s\n", o.path.c_str(), ec.message().c_str());
            co_return exit_unavailable;
        }
        for (const auto& m : members) {
            std::printf("%s\t%s\n", m.id.c_str(), m.data.c_str());
        }
        if (o.watch) {
            std::printf("\n");
        }
        std::fflush(stdout);
    } while (o.watch);
    co_return 0;
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

asio::awaitable<int> cmd_status(session& s, const options& o) {
    auto [ec, queue] = co_await async_read_queue(s, o.path, tuple);
    if (ec) {
        std::fprintf(stderr, "zkr: cannot read %s: %s\n", o.path.c_str(), ec.message().c_str());
        co_return exit_unavailable;
    }
    const auto now = now_ms();
    if (o.json) {
        std::printf("{\"path\": %s, \"contenders\": [", json_string(o.path).c_str());
        for (std::size_t i = 0; i < queue.size(); ++i) {
            const auto& e = queue[i];
            std::printf(
                "%s\n  {\"position\": %zu, \"node\": %s, \"kind\": %s, \"holds\": %s, "
                "\"session\": %s, \"age_ms\": %lld, \"fencing_token\": %lld, \"data\": %s}",
                i ? "," : "", i + 1, json_string(e.node).c_str(), json_string(e.kind).c_str(),
                e.holds ? "true" : "false", json_string(hex(e.session_id)).c_str(),
                static_cast<long long>(now - e.ctime), static_cast<long long>(e.czxid),
                json_string(e.data).c_str());
        }
        std::printf("%s]}\n", queue.empty() ? "" : "\n");
        co_return 0;
    }
    if (queue.empty()) {
        std::printf("%s: free (no contenders)\n", o.path.c_str());
        co_return 0;
    }
    std::printf("%-4s %-7s %-6s %-19s %8s  %-24s %s\n", "#", "kind", "state", "session", "age",
                "data", "node");
    for (std::size_t i = 0; i < queue.size(); ++i) {
        const auto& e = queue[i];
        std::printf("%-4zu %-7s %-6s %-19s %7.1fs  %-24s %s\n", i + 1, e.kind.c_str(),
                    e.holds ? "holds" : "waits", hex(e.session_id).c_str(),
                    static_cast<double>(now - e.ctime) / 1000.0, e.data.c_str(), e.node.c_str());
    }
    co_return 0;
}

asio::awaitable<int> run(const options& o) {
    auto ex = co_await asio::this_coro::executor;
    session_config config;
    config.hosts = o.hosts;
    config.session_timeout = o.session_timeout;
    config.digest_credentials = o.auth;
    session s(ex, config);
    if (auto [ec] = co_await s.async_connect(tuple); ec) {
        std::fprintf(stderr, "zkr: cannot connect to %s: %s\n", o.hosts.c_str(),
                     ec.message().c_str());
        co_return exit_unavailable;
    }
    int status = 0;
    if (o.command_name == "lock") {
        status = co_await cmd_lock(s, o);
    } else if (o.command_name == "semaphore") {
        status = co_await cmd_semaphore(s, o);
    } else if (o.command_name == "elect") {
        status = co_await cmd_elect(s, o);
    } else if (o.command_name == "leader") {
        status = co_await cmd_leader(s, o);
    } else if (o.command_name == "barrier") {
        status = co_await cmd_barrier(s, o);
    } else if (o.command_name == "members") {
        status = co_await cmd_members(s, o);
    } else {
        status = co_await cmd_status(s, o);
    }
    co_await s.async_close(tuple);
    co_return status;
}

}  // namespace
}  // namespace zkr::cli

int main(int argc, char** argv) {
    using namespace zkr::cli;
    std::string error;
    auto parsed = parse_options(argc, argv, error);
    if (!parsed) {
        if (!error.empty()) {
            std::fprintf(stderr, "zkr: %s\n\n", error.c_str());
        }
        std::fputs(usage_text(), error.empty() ? stdout : stderr);
        return error.empty() ? 0 : exit_usage;
    }
    const auto& o = *parsed;
    if (o.version) {
        print_version();
        return 0;
    }
    namespace logging = boost::log;
    if (o.verbose) {
        logging::add_console_log(std::clog, logging::keywords::format = "[%Channel%] %Message%");
        zkr::log::set_level(zkr::log::level::debug);
    } else {
        zkr::log::set_level(zkr::log::level::off);  // the CLI reports what matters itself
    }
    boost::asio::io_context ioc;
    int status = exit_unavailable;
    boost::asio::co_spawn(ioc, run(o), [&](std::exception_ptr e, int s) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::fprintf(stderr, "zkr: %s\n", x.what());
            }
            return;
        }
        status = s;
    });
    ioc.run();
    return status;
}
