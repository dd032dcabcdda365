// zkr_counter_client: one incrementer of the counter fault run (counter_faults_test.cpp), on a
// session that renews after expiry: adds 1 to the counter at PATH, again and again, until told
// to stop, recording each addition before it is sent and its outcome after.
//
//   zkr_counter_client shared|long HOSTS PATH HISTORY STOP_FILE SESSION_MS
//
// shared: a zkr::shared_count (Curator's SharedCount layout); long: a zkr::atomic_long
// (DistributedAtomicLong's).
//
// History lines (counter_checker.hpp), times in CLOCK_MONOTONIC ns:
//   S t            started
//   I t            an addition of 1 about to be sent
//   A t value      it landed, leaving `value` (acknowledged)
//   U t message    its answer is lost for good (the session ended under it): it may or may not
//                  have landed
//   R t what:msg   an error outside an addition (the connection)
//   D t            ended cleanly
// An I with neither A nor U after it is an addition in flight when the process was killed.
#include "client_files.hpp"
#include "history.hpp"

#include <zkr/atomic_long.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_count.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace asio = boost::asio;
using namespace zkr::faults;

namespace {

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

std::int64_t value_after(const zkr::versioned_count& v) {
    return v.value;
}
std::int64_t value_after(const zkr::atomic_change& c) {
    return c.after;
}

/// Adds 1 through `counter` until the stop file exists. An error leaves the addition in doubt
/// (U) and the process carries on: the session renews, as a long-lived service's would.
template <class Counter>
asio::awaitable<void> increment(Counter counter) {
    while (!stop_asked()) {
        record_now("I");
        auto [ec, after] = co_await counter.async_add(1, tuple);
        if (ec) {
            record_now("U", words(ec.message()));
        } else {
            record_now("A", std::to_string(value_after(after)));
        }
    }
}

asio::awaitable<int> run(std::string mode, std::string hosts, std::string path, int session_ms) {
    auto ex = co_await asio::this_coro::executor;
    zkr::session s(ex, renewing_session(std::move(hosts), session_ms));
    if (auto [ec] = co_await s.async_connect(tuple); ec) {
        record_now("R", "connect:" + words(ec.message()));
        co_return 1;
    }
    if (mode == "long") {
        co_await increment(zkr::atomic_long(s, path));
    } else {
        co_await increment(zkr::shared_count(s, path));
    }
    co_await s.async_close(tuple);
    record_now("D");
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (argc != 7 || (mode != "shared" && mode != "long")) {
        std::fprintf(stderr, "usage: %s shared|long HOSTS PATH HISTORY STOP_FILE SESSION_MS\n",
                     argv[0]);
        return 2;
    }
    history_path = argv[4];
    stop_path = argv[5];
    record_now("S");
    boost::log::core::get()->set_logging_enabled(false);
    asio::io_context ioc;
    int status = 1;
    asio::co_spawn(ioc, run(mode, argv[2], argv[3], std::atoi(argv[6])),
                   [&](std::exception_ptr e, int result) {
                       if (e) {
                           record_now("R", "exception");
                       }
                       status = e ? 1 : result;
                   });
    ioc.run();
    return status;
}
