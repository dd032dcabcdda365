// zkr_queue_client: one process of the queue fault runs (queue_faults_test.cpp), on a session
// that renews after expiry, in one of three roles:
//   produce   puts items NAME-1, NAME-2, ... one at a time (zkr::queue::async_put) until told
//             to stop
//   claim     claims items (async_claim), works on each for WORK_MS and completes it
//             (queue_claim::async_complete): exactly once
//   take      takes items (async_take): at most once
// Each operation is recorded before it is sent and its outcome after.
//
//   zkr_queue_client ROLE HOSTS PATH HISTORY STOP_FILE SESSION_MS NAME PUT_MS WORK_MS
//
// PUT_MS: between two puts of a producer; WORK_MS: what the work on a claimed item takes.
//
// History lines (queue_checker.hpp), times in CLOCK_MONOTONIC ns:
//   S t role           started
//   P t item           (produce) a put of `item` about to be sent
//   A t item node      it landed at `node` (acknowledged)
//   U t item message   its answer is lost for good: it may or may not have landed
//   W t                (claim, take) waiting for an item
//   C t item node tok  (claim) `item` claimed, with the claim's fencing token
//   M t item           (claim) its completion about to be sent
//   K t item           the completion landed: the item is done
//   L t item message   the completion was refused (the claim went with a session): the item is
//                      back in the queue, someone else's
//   Q t item message   the completion's answer is lost for good: done or back in the queue
//   T t item node      (take) `item` taken
//   V t message        (take) a take whose answer was lost: an item may be gone unseen
//   E t                (claim, take) the wait ended with the session (expired: the session
//                      renews, and the consumer waits again in the new one)
//   R t what:message   an error outside these
//   D t                ended cleanly
// A line that starts an operation (P, W, M) with no outcome after it is an operation in flight
// when the process was killed.
#include "client_files.hpp"
#include "history.hpp"

#include <zkr/queue.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

namespace asio = boost::asio;
using namespace zkr::faults;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

/// Between two puts of a producer (PUT_MS): the items come at a steady pace, not as fast as the
/// server takes them, so that the consumers keep up and a run's queue stays short.
std::chrono::milliseconds put_pace{20};

/// What the work a claimed item asks for takes (WORK_MS): a consumer holds each claim this long
/// before it completes it (the nemesis freezes a consumer then).
std::chrono::milliseconds work_time{20};

asio::awaitable<void> produce(zkr::queue q, std::string name) {
    asio::steady_timer pace(co_await asio::this_coro::executor);
    for (int n = 1; !stop_asked(); ++n) {
        pace.expires_after(put_pace);
        co_await pace.async_wait(tuple);
        const auto item = name + "-" + std::to_string(n);
        record_now("P", item);
        auto [ec, node] = co_await q.async_put(item, tuple);
        if (ec) {
            record_now("U", item + " " + words(ec.message()));
        } else {
            record_now("A", item + " " + node);
        }
    }
}

/// Waits for an item, or for the stop file: nullopt once asked to stop.
template <class Result, class Start>
asio::awaitable<std::optional<Result>> next(Start start) {
    record_now("W");
    auto r = co_await (start(tuple) || stop_requested());
    if (r.index() == 1) {
        co_return std::nullopt;  // cancelled: the wait left nothing behind
    }
    co_return std::get<0>(std::move(r));
}

asio::awaitable<void> claim(zkr::queue q) {
    asio::steady_timer work(co_await asio::this_coro::executor);
    for (;;) {
        auto got = co_await next<std::tuple<zkr::error_code, zkr::queue_claim>>(
            [&](auto token) { return q.async_claim(token); });
        if (!got) {
            co_return;
        }
        auto& [ec, claimed] = *got;
        if (ec == zkr::zk_errc::session_expired) {
            record_now("E");
            continue;
        }
        if (ec) {
            record_now("R", "claim:" + words(ec.message()));
            continue;
        }
        const auto& item = claimed.item();
        record_now("C",
                   item.data + " " + item.node + " " + std::to_string(claimed.fencing_token()));
        work.expires_after(work_time);
        co_await work.async_wait(tuple);
        record_now("M", item.data);
        auto [cec, results] = co_await claimed.async_complete({}, tuple);
        if (!cec) {
            record_now("K", item.data);
        } else if (cec == zkr::errc::claim_lost) {
            record_now("L", item.data + " " + words(cec.message()));
        } else {
            record_now("Q", item.data + " " + words(cec.message()));
        }
    }
}

asio::awaitable<void> take(zkr::queue q) {
    for (;;) {
        auto got = co_await next<std::tuple<zkr::error_code, zkr::queue_item>>(
            [&](auto token) { return q.async_take(token); });
        if (!got) {
            co_return;
        }
        auto& [ec, item] = *got;
        if (!ec) {
            record_now("T", item.data + " " + item.node);
        } else if (ec == zkr::errc::outcome_unknown) {
            record_now("V", words(ec.message()));
        } else if (ec == zkr::zk_errc::session_expired) {
            record_now("E");
        } else {
            record_now("R", "take:" + words(ec.message()));
        }
    }
}

asio::awaitable<int> run(std::string role, std::string hosts, std::string path, int session_ms,
                         std::string name) {
    auto ex = co_await asio::this_coro::executor;
    zkr::session s(ex, renewing_session(std::move(hosts), session_ms));
    if (auto [ec] = co_await s.async_connect(tuple); ec) {
        record_now("R", "connect:" + words(ec.message()));
        co_return 1;
    }
    zkr::queue q(s, path);
    if (role == "produce") {
        co_await produce(std::move(q), name);
    } else if (role == "claim") {
        co_await claim(std::move(q));
    } else {
        co_await take(std::move(q));
    }
    co_await s.async_close(tuple);
    record_now("D");
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string role = argc > 1 ? argv[1] : "";
    if (argc != 10 || (role != "produce" && role != "claim" && role != "take")) {
        std::fprintf(stderr,
                     "usage: %s produce|claim|take HOSTS PATH HISTORY STOP_FILE SESSION_MS NAME "
                     "PUT_MS WORK_MS\n",
                     argv[0]);
        return 2;
    }
    put_pace = std::chrono::milliseconds(std::atoi(argv[8]));
    work_time = std::chrono::milliseconds(std::atoi(argv[9]));
    history_path = argv[4];
    stop_path = argv[5];
    record_now("S", role);
    boost::log::core::get()->set_logging_enabled(false);
    asio::io_context ioc;
    int status = 1;
    asio::co_spawn(ioc, run(role, argv[2], argv[3], std::atoi(argv[6]), argv[7]),
                   [&](std::exception_ptr e, int result) {
                       if (e) {
                           record_now("R", "exception");
                       }
                       status = e ? 1 : result;
                   });
    ioc.run();
    return status;
}
