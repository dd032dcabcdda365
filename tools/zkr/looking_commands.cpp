// The commands that look and change nothing: leader, status and members.
#include "handlers.hpp"
#include "json_text.hpp"

#include <zkr/group.hpp>
#include <zkr/leader_election.hpp>
#include <zkr/lock_queue.hpp>
#include <zkr/sequencer.hpp>
#include <zkr/session.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>

namespace zkr::cli {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

// The leader's id (its node's data); with --watch, a line again at every change: another
// leader, or a value the leader published (leadership::async_publish).
asio::awaitable<int> run_leader(session& s, const options& o) {
    leader_observer observer(s, o.path);
    asio::signal_set interrupts(co_await asio::this_coro::executor, SIGINT, SIGTERM, SIGHUP);
    do {
        auto r = co_await (observer.async_wait_update(tuple) || interrupts.async_wait(tuple));
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

// Exit 0 while the sequencer's holder holds, exit_lost (76) once it does not: a shell step's
// check before an action it cannot undo.
asio::awaitable<int> run_check(session& s, const options& o) {
    const auto seq = *sequencer::parse(o.path);  // checked with the command line
    auto [ec] = co_await async_check(s, seq, tuple);
    if (ec == errc::lock_lost) {
        std::fprintf(stderr, "zkr: %s (token %lld) does not hold its lock\n", seq.node.c_str(),
                     static_cast<long long>(seq.token));
        co_return exit_lost;
    }
    if (ec == errc::not_a_lock_node) {
        std::fprintf(stderr, "zkr: %s: %s\n", seq.node.c_str(), ec.message().c_str());
        co_return exit_lost;  // vouches for nothing
    }
    if (ec) {
        std::fprintf(stderr, "zkr: %s\n", ec.message().c_str());
        co_return exit_unavailable;
    }
    co_return 0;
}

// One line per member, "ID<TAB>DATA"; with --watch, the list again after every change, each
// list ended by an empty line, until interrupted.
asio::awaitable<int> run_members(session& s, const options& o) {
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

asio::awaitable<int> run_status(session& s, const options& o) {
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

}  // namespace zkr::cli
