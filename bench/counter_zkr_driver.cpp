// The zkr rows of the counter benchmark: one contender, zkr::shared_count or zkr::atomic_long
// through the public API, async_add(1) in a coroutine, one session, one io_context run by one
// thread. Boost.Log is disabled, as in the lock driver.
//
//   zkr-bench-counter-zkr --hosts HOST:PORT --path PATH --kind shared-count|atomic-long
// then the protocol of bench/counter_protocol.hpp on stdin/stdout.
#include "common.hpp"
#include "counter_protocol.hpp"
#include "session_thread.hpp"
#include "wait_on.hpp"

#include <zkr/atomic_long.hpp>
#include <zkr/shared_count.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/log/core.hpp>

#include <chrono>
#include <map>
#include <string>

namespace {

namespace asio = boost::asio;

/// Adds 1 again and again until `ms` have passed; a failed addition ends the driver (the
/// orchestrator's sum would no longer say anything).
template <class Counter>
asio::awaitable<bench::increments> add_for(Counter& counter, std::int64_t ms, bool record) {
    bench::stretch s(ms, record);
    for (; s.next(); s.landed()) {
        co_await counter.async_add(1, asio::use_awaitable);
    }
    co_return s.result();
}

/// The protocol with a counter of type Counter on `path`.
template <class Counter>
void contend(bench::session_thread& zk, const std::string& path) {
    Counter counter(zk.session(), path);
    bench::counter_protocol(zk.session().session_id(), [&](std::int64_t ms, bool record) {
        return bench::wait_on(zk.ioc(), [&] {
            return asio::co_spawn(zk.ioc(), add_for(counter, ms, record), asio::use_future);
        });
    });
}

}  // namespace

int main(int argc, char** argv) {
    auto opt = bench::options(argc, argv);
    const auto& kind = opt["--kind"];
    if (opt["--hosts"].empty() || opt["--path"].empty() ||
        (kind != "shared-count" && kind != "atomic-long")) {
        std::cerr << "usage: zkr-bench-counter-zkr --hosts HOST:PORT --path PATH "
                     "--kind shared-count|atomic-long\n";
        return 2;
    }
    boost::log::core::get()->set_logging_enabled(false);
    bench::session_thread zk(opt["--hosts"], std::chrono::seconds(30));
    if (kind == "shared-count") {
        contend<zkr::shared_count>(zk, opt["--path"]);
    } else {
        contend<zkr::atomic_long>(zk, opt["--path"]);
    }
    return 0;
}
