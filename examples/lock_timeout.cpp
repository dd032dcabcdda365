// Waiting for a lock with a deadline, the coroutine way: race the acquisition against a timer
//   co_await (m.async_lock(as_tuple(use_awaitable)) || timer.async_wait(use_awaitable))
// When the timer wins, the acquisition is cancelled and zkr deletes its queue node before the race
// completes, so nothing is left behind. (as_tuple matters: `||` waits for the first success, and
// a failed acquisition would otherwise wait for the timer.)
//   lock_timeout HOSTS
#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include "example.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/log/core.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

asio::awaitable<void> release_after(zkr::lock lock, std::chrono::milliseconds delay) {
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(use_awaitable);
    std::printf("holder: lets go\n");
    co_await lock.async_release(use_awaitable);
}

asio::awaitable<bool> run(std::string hosts) {
    const std::string path = "/zkr/timeout-demo";
    auto holder = co_await example::connect(hosts), waiter = co_await example::connect(hosts);
    zkr::mutex held_mutex(holder, path), mutex(waiter, path);
    auto held = co_await held_mutex.async_lock(use_awaitable);
    std::printf("holder: holds %s\n", held.path().c_str());

    // 1. The lock stays busy: the timer wins.
    asio::steady_timer timer(co_await asio::this_coro::executor, 300ms);
    auto first = co_await (mutex.async_lock(asio::as_tuple(use_awaitable)) ||
                           timer.async_wait(use_awaitable));
    auto left = co_await waiter.async_get_children(path, use_awaitable);
    std::printf("waiter: %s after 300 ms; nodes left in %s: %zu\n",
                first.index() == 1 ? "timed out" : "ACQUIRED", path.c_str(), left.names.size());
    const bool timed_out = first.index() == 1 && left.names.size() == 1 &&
                           path + "/" + left.names.front() == held.path();

    // 2. The holder lets go after 100 ms: now the lock wins the race.
    asio::co_spawn(holder.get_executor(), release_after(std::move(held), 100ms), asio::detached);
    timer.expires_after(2s);
    auto second = co_await (mutex.async_lock(asio::as_tuple(use_awaitable)) ||
                            timer.async_wait(use_awaitable));
    bool acquired = false;
    if (second.index() == 0) {
        auto [ec, lock] = std::get<0>(std::move(second));
        acquired = !ec && lock.owns();
        std::printf("waiter: %s (token %lld)\n", acquired ? "acquired" : ec.message().c_str(),
                    static_cast<long long>(lock.fencing_token()));
        if (acquired) {
            co_await lock.async_release(use_awaitable);
        }
    } else {
        std::printf("waiter: TIMED OUT although the lock was released\n");
    }
    auto [ec, after] = co_await waiter.async_get_children(path, asio::as_tuple(use_awaitable));
    const bool clean = after.names.empty();
    std::printf("waiter: released; nodes left: %zu\n", after.names.size());
    const bool holds = timed_out && acquired && clean;
    co_return holds;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s HOSTS\n", argv[0]);
        return 64;
    }
    return example::run("lock_timeout", [&] { return run(argv[1]); });
}
