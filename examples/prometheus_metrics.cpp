// zkr's metrics served on /metrics by prometheus-cpp, during a contended run: four sessions take
// turns on one lock for a few seconds, all observed by one zkr::metrics that a
// prometheus::Exposer serves.
//   prometheus_metrics HOSTS [LISTEN] [SECONDS]
// LISTEN defaults to 127.0.0.1:0 (a free port), SECONDS to 3. The first line printed says where
// the metrics are ("metrics: http://127.0.0.1:PORT/metrics"); the verdict at the end: the metrics
// count every cycle the workers made, and the hand-offs between them.
#include "example.hpp"

#include <zkr/metrics.hpp>
#include <zkr/mutex.hpp>
#include <zkr/prometheus.hpp>

#include <boost/asio/steady_timer.hpp>

#include <prometheus/exposer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

const std::string lock_path = "/zkr/examples/metrics/lock";

/// One worker: its own session, taking the lock until `until`; returns its cycles.
asio::awaitable<int> take_turns(std::string hosts, std::shared_ptr<zkr::metrics> m,
                                std::chrono::steady_clock::time_point until) {
    zkr::session_config config;
    config.hosts = std::move(hosts);
    config.observer = m;  // the one thing that makes a session measured
    zkr::session session(co_await asio::this_coro::executor, config);
    co_await session.async_connect(asio::use_awaitable);
    zkr::mutex mutex(session, lock_path);
    asio::steady_timer work(co_await asio::this_coro::executor);
    int cycles = 0;
    while (std::chrono::steady_clock::now() < until) {
        auto lock = co_await mutex.async_lock(asio::use_awaitable);
        work.expires_after(2ms);  // the critical section's work
        co_await work.async_wait(asio::use_awaitable);
        co_await lock.async_release(asio::use_awaitable);
        ++cycles;
    }
    co_await session.async_close(asio::use_awaitable);
    co_return cycles;
}

double value_of(const zkr::metrics& m, std::string_view family) {
    for (const auto& f : m.collect()) {
        if (f.name == family && !f.series.empty()) {
            const auto& s = f.series.front();
            return f.type == zkr::metric_type::histogram ? static_cast<double>(s.count) : s.value;
        }
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s HOSTS [LISTEN] [SECONDS]\n", argv[0]);
        return 64;
    }
    const std::string hosts = argv[1];
    const std::string listen = argc > 2 ? argv[2] : "127.0.0.1:0";
    const auto seconds = std::chrono::seconds(argc > 3 ? std::stoi(argv[3]) : 3);

    auto m = std::make_shared<zkr::metrics>();
    // The exposer holds collectables weakly: this one lives as long as main().
    const auto collectable = std::make_shared<zkr::prometheus_collectable>(m);
    prometheus::Exposer exposer(listen);
    exposer.RegisterCollectable(collectable);
    std::printf("metrics: http://%s:%d/metrics\n", listen.substr(0, listen.rfind(':')).c_str(),
                exposer.GetListeningPorts().at(0));
    std::fflush(stdout);

    return example::run("prometheus_metrics", [&]() -> asio::awaitable<bool> {
        const auto until = std::chrono::steady_clock::now() + seconds;
        const auto ex = co_await asio::this_coro::executor;
        std::vector<std::future<int>> workers;
        for (int i = 0; i < 4; ++i) {
            workers.push_back(asio::co_spawn(ex, take_turns(hosts, m, until), asio::use_future));
        }
        // The workers run on this thread: wait for them without blocking it.
        asio::steady_timer poll(ex);
        while (std::ranges::any_of(
            workers, [](auto& w) { return w.wait_for(0s) != std::future_status::ready; })) {
            poll.expires_after(10ms);
            co_await poll.async_wait(asio::use_awaitable);
        }
        int cycles = 0;
        for (auto& w : workers) {
            cycles += w.get();
        }
        const auto acquisitions = value_of(*m, "zkr_acquisitions_total");
        const auto handoffs = value_of(*m, "zkr_handoffs_total");
        std::printf("%d cycles; metrics: %.0f acquisitions, %.0f hand-offs, %.0f holds ended\n",
                    cycles, acquisitions, handoffs, value_of(*m, "zkr_hold_seconds"));
        co_return cycles > 0 && acquisitions == cycles&& handoffs > 0 &&
            value_of(*m, "zkr_hold_seconds") == cycles&& value_of(*m, "zkr_held") == 0;
    });
}
