// The zkr row of the cache benchmark: zkr::tree_cache through the public API, one session, one
// io_context run by one thread. Boost.Log is disabled, as in the lock driver.
//
//   zkr-bench-cache-zkr --hosts HOST:PORT --root PATH
// then the cache protocol of bench/cache_orchestrate.py on stdin/stdout.
#include "common.hpp"
#include "session_thread.hpp"

#include <zkr/tree_cache.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>

#include <charconv>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace {

namespace asio = boost::asio;
using bench::die;
using bench::now_ns;

/// What the cache's event loop saw, shared with the protocol thread.
struct event_log {
    std::mutex m;
    std::condition_variable cv;
    std::int64_t initialized_at = 0;
    bool recording = false;
    std::vector<std::int64_t> latency_ns;  ///< now - the writer's stamp, per update seen
    std::string failure;
};

/// The writer's stamp: CLOCK_MONOTONIC in ns, as decimal text (the node's whole data).
std::int64_t stamp_of(const std::string& data) {
    std::int64_t t = 0;
    const auto [end, ec] = std::from_chars(data.data(), data.data() + data.size(), t);
    return ec == std::errc() && end == data.data() + data.size() ? t : 0;
}

/// Takes the cache's events until it ends: notes `initialized`, and the latency of each update.
asio::awaitable<void> follow(zkr::tree_cache& cache, std::shared_ptr<event_log> log) {
    if (auto [ec] = co_await cache.async_start(asio::as_tuple(asio::use_awaitable)); ec) {
        const std::lock_guard lock(log->m);
        log->failure = "start: " + ec.message();
        log->cv.notify_all();
        co_return;
    }
    for (;;) {
        auto [ec, event] = co_await cache.async_wait_event(asio::as_tuple(asio::use_awaitable));
        const auto now = now_ns();
        if (ec) {
            co_return;  // closed
        }
        if (event.type == zkr::cache_event_type::initialized) {
            const std::lock_guard lock(log->m);
            log->initialized_at = now;
            log->cv.notify_all();
        } else if (event.type == zkr::cache_event_type::updated && event.node) {
            const auto t = stamp_of(event.node->data);
            const std::lock_guard lock(log->m);
            if (log->recording && t != 0) {
                log->latency_ns.push_back(now - t);
                log->cv.notify_all();
            }
        }
    }
}

class driver {
  public:
    driver(std::string hosts, std::string root)
        : root_(std::move(root)), zk_(std::move(hosts), std::chrono::seconds(30)) {}

    ~driver() { zk_.close(); }  // the cache goes after the session's thread

    /// Starts a cache and waits for its `initialized`: the time it took.
    std::int64_t load() {
        log_ = std::make_shared<event_log>();
        const auto start = now_ns();
        asio::post(zk_.ioc(), [this, log = log_] {
            cache_ = std::make_unique<zkr::tree_cache>(zk_.session(), root_);
            asio::co_spawn(zk_.ioc(), follow(*cache_, log), asio::detached);
        });
        std::unique_lock lock(log_->m);
        if (!log_->cv.wait_for(lock, std::chrono::minutes(5), [&] {
                return log_->initialized_at != 0 || !log_->failure.empty();
            })) {
            die("no initialized event within 5 minutes");
        }
        if (!log_->failure.empty()) {
            die(log_->failure);
        }
        return log_->initialized_at - start;
    }

    void record() {
        const std::lock_guard lock(log_->m);
        log_->recording = true;
    }

    /// The latencies recorded once `expected` updates were seen, or after 5 s without one.
    std::vector<std::int64_t> collect(std::size_t expected) {
        std::unique_lock lock(log_->m);
        auto seen = log_->latency_ns.size();
        while (seen < expected && log_->cv.wait_for(lock, std::chrono::seconds(5), [&] {
            return log_->latency_ns.size() != seen;
        })) {
            seen = log_->latency_ns.size();
        }
        log_->recording = false;
        return log_->latency_ns;
    }

    std::int64_t session_id() { return zk_.session().session_id(); }

  private:
    std::string root_;
    bench::session_thread zk_;
    std::unique_ptr<zkr::tree_cache> cache_;
    std::shared_ptr<event_log> log_;
};

}  // namespace

int main(int argc, char** argv) {
    std::string hosts;
    std::string root;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        if (key == "--hosts") {
            hosts = argv[i + 1];
        } else if (key == "--root") {
            root = argv[i + 1];
        }
    }
    if (hosts.empty() || root.empty()) {
        std::cerr << "usage: zkr-bench-cache-zkr --hosts HOST:PORT --root PATH\n";
        return 2;
    }
    boost::log::core::get()->set_logging_enabled(false);
    driver d(hosts, root);
    bench::say("connected");
    bench::expect("load");
    const auto rss0 = bench::rss_bytes();
    const auto load_ns = d.load();
    const auto rss1 = bench::rss_bytes();
    bench::say("loaded " + bench::json()
                               .num("load_ns", load_ns)
                               .num("rss_bytes", rss1 - rss0)
                               .str("session", bench::session_hex(d.session_id()))
                               .text());
    bench::expect("go");
    d.record();
    const auto cpu0 = bench::cpu_ns();
    bench::say("ready");
    const auto stop = bench::read_command();
    if (stop.verb != "stop") {
        die("expected 'stop', got '" + stop.verb + "'");
    }
    const auto latencies = d.collect(static_cast<std::size_t>(stop.get_int("writes", 0)));
    const auto cpu = bench::cpu_ns() - cpu0;
    bench::say("done " + bench::json()
                             .num("events", static_cast<std::int64_t>(latencies.size()))
                             .num("cpu_ns", cpu)
                             .array("latency_ns", latencies)
                             .text());
    bench::expect("quit");
    return 0;
}
