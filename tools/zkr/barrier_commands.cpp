// zkr barrier: a barrier's set, remove and wait, and a double barrier's enter, which runs CMD.
#include "handlers.hpp"
#include "supervisor.hpp"

#include <zkr/barrier.hpp>
#include <zkr/double_barrier.hpp>
#include <zkr/session.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <cstdio>

namespace zkr::cli {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

// enter: joins a double barrier of --members, runs the command once all are in, then leaves
// (waiting for the others) and exits with the command's status; 75 if --timeout passes first.
asio::awaitable<int> run_barrier_enter(session& s, const options& o) {
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
    auto outcome = co_await run_child(o.command, h, hold_limits{o.grace, std::nullopt, o.quiet});
    if (auto [ec] = co_await round.async_leave(tuple); ec) {
        std::fprintf(stderr, "zkr: cannot leave %s: %s\n", o.path.c_str(), ec.message().c_str());
        co_return exit_unavailable;
    }
    co_return outcome.exit_code;
}

// set and remove act at once; wait returns once the barrier is not set (75 if --timeout passes).
asio::awaitable<int> run_barrier(session& s, const options& o) {
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
        if (r.index() == 1) {
            co_return exit_not_acquired;
        }
        if (r.index() == 2) {
            co_return 128 + std::get<1>(std::get<2>(r));
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

}  // namespace zkr::cli
