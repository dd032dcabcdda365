// Following a cache from the command line (zkr watch, zkr service watch): its events, each
// printed as it comes, until interrupted.
#pragma once

#include "handlers.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <string>

namespace zkr::cli {

/// Starts `cache` and calls `print` with each of its events until an interrupt (0: interrupting
/// is how a watch ends, as leader --watch and members --watch) or the cache's end
/// (exit_unavailable). `what` names what is followed in the messages.
template <class Cache, class Print>
boost::asio::awaitable<int> follow(Cache& cache, const std::string& what, Print print) {
    using namespace boost::asio::experimental::awaitable_operators;
    boost::asio::signal_set interrupts(co_await boost::asio::this_coro::executor, SIGINT, SIGTERM,
                                       SIGHUP);
    {
        auto r = co_await (cache.async_start(tuple) || interrupts.async_wait(tuple));
        if (r.index() == 1) {
            co_return 0;
        }
        if (auto [ec] = std::get<0>(r); ec) {
            std::fprintf(stderr, "zkr: cannot watch %s: %s\n", what.c_str(), ec.message().c_str());
            co_return exit_unavailable;
        }
    }
    for (;;) {
        auto r = co_await (cache.async_wait_event(tuple) || interrupts.async_wait(tuple));
        if (r.index() == 1) {
            co_return 0;
        }
        auto [ec, event] = std::get<0>(std::move(r));
        if (ec) {
            std::fprintf(stderr, "zkr: stopped watching %s: %s\n", what.c_str(),
                         ec.message().c_str());
            co_return exit_unavailable;
        }
        print(event);
        std::fflush(stdout);
    }
}

}  // namespace zkr::cli
