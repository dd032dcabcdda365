// The zkr rows of the queue benchmark: one process, zkr::queue through the public API, in
// coroutines, one session, one io_context run by one thread. Boost.Log is disabled, as in the
// lock driver. Puts with async_put, one at a time; consumes with async_take (--mode take: at
// most once) or async_claim then queue_claim::async_complete (--mode claim: exactly once), each
// awaited before the next, until handed the sentinel.
//
//   zkr-bench-queue-zkr --hosts HOST:PORT --mode take|claim
// then the protocol of bench/queue_protocol.hpp on stdin/stdout.
#include "common.hpp"
#include "queue_protocol.hpp"
#include "session_thread.hpp"

#include <zkr/queue.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/log/core.hpp>

#include <chrono>
#include <exception>
#include <future>
#include <memory>
#include <string>

namespace {

namespace asio = boost::asio;

asio::awaitable<std::vector<std::int64_t>> put_items(zkr::session& s, std::string path,
                                                     std::int64_t first, std::int64_t n) {
    zkr::queue q(s, std::move(path));
    std::vector<std::int64_t> latency;
    for (std::int64_t id = first; id < first + n; ++id) {
        const auto start = bench::now_ns();
        co_await q.async_put(std::to_string(id), asio::use_awaitable);
        latency.push_back(bench::now_ns() - start);
    }
    co_return latency;
}

/// The next item's data: taken, or claimed and completed.
asio::awaitable<std::string> next_item(zkr::queue& q, bool claim) {
    if (!claim) {
        co_return (co_await q.async_take(asio::use_awaitable)).data;
    }
    auto held = co_await q.async_claim(asio::use_awaitable);
    co_await held.async_complete({}, asio::use_awaitable);
    co_return held.item().data;
}

asio::awaitable<bench::consumption> take_items(zkr::session& s, std::string path, bool claim) {
    zkr::queue q(s, std::move(path));
    bench::consumption c;
    for (c.begin(); c.handed(co_await next_item(q, claim)); c.begin()) {
    }
    co_return c;
}

}  // namespace

int main(int argc, char** argv) {
    auto opt = bench::options(argc, argv);
    const auto& mode = opt["--mode"];
    if (opt["--hosts"].empty() || (mode != "take" && mode != "claim")) {
        std::cerr << "usage: zkr-bench-queue-zkr --hosts HOST:PORT --mode take|claim\n";
        return 2;
    }
    boost::log::core::get()->set_logging_enabled(false);
    bench::session_thread zk(opt["--hosts"], std::chrono::seconds(30));
    auto& ioc = zk.ioc();
    auto& session = zk.session();
    bench::queue_protocol(
        session.session_id(),
        [&](const std::string& path, std::int64_t first, std::int64_t n) {
            return bench::wait_on(ioc, [&] {
                return asio::co_spawn(ioc, put_items(session, path, first, n), asio::use_future);
            });
        },
        [&](const std::string& path) -> std::function<bench::consumption()> {
            auto done = std::make_shared<std::future<bench::consumption>>(
                asio::co_spawn(ioc, take_items(session, path, mode == "claim"), asio::use_future));
            return [done] {
                try {
                    return done->get();
                } catch (const std::exception& x) {
                    bench::die(x.what());
                }
            };
        });
    return 0;
}
