// Following a configuration: a process keeps a zkr::children_cache of its configuration
// directory (/config/<app>, one child per setting) and "reloads" on every change, printing the
// whole configuration. Another client (a second session here, an operator in real life) sets a
// value, changes it, adds one and removes one. The process stops after a bounded number of
// reloads, once it has seen the final configuration, or on SIGINT/SIGTERM; it checks that each
// reload showed a configuration the operator wrote, in order, ending with the final one.
//   config_watch HOSTS [MAX_RELOADS]
#include "example.hpp"

#include <zkr/children_cache.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

namespace {

const std::string dir = "/config/app";

/// A configuration as one line: "key=value key=value" (keys in order).
std::string line_of(const zkr::children_cache::snapshot& config) {
    std::string out;
    for (const auto& [key, node] : config) {
        out += (out.empty() ? "" : " ") + key + "=" + node.data;
    }
    return out.empty() ? "(empty)" : out;
}

/// The operator: one change at a time, each once the process has reloaded the previous one
/// (`reloaded` counts reloads; `reload_done` is cancelled at each), so that none is merged with
/// the next.
asio::awaitable<void> operate(zkr::session& admin, const int& reloaded,
                              asio::steady_timer& reload_done) {
    auto after_reload = [&](int n) -> asio::awaitable<void> {
        while (reloaded < n) {
            co_await reload_done.async_wait(tuple);  // ends when cancelled by a reload
        }
    };
    const std::string timeout_path = dir + "/timeout", retries_path = dir + "/retries";
    const std::string thirty = "30", sixty = "60", three = "3";
    co_await after_reload(1);  // the first load
    co_await admin.async_create(timeout_path, thirty, zkr::create_mode::persistent,
                                asio::use_awaitable);
    co_await after_reload(2);
    co_await admin.async_set_data(timeout_path, sixty, -1, asio::use_awaitable);
    co_await after_reload(3);
    co_await admin.async_create(retries_path, three, zkr::create_mode::persistent,
                                asio::use_awaitable);
    co_await after_reload(4);
    co_await admin.async_remove(timeout_path, -1, asio::use_awaitable);
}

asio::awaitable<bool> follow(std::string hosts, int max_reloads) {
    auto app = co_await example::connect(hosts);
    auto admin = co_await example::connect(hosts);
    const std::string config_root = "/config", empty;
    for (const auto* p : {&config_root, &dir}) {
        co_await admin.async_create(*p, empty, zkr::create_mode::persistent, tuple);
    }

    // What the operator writes, in order: each reload must show one of them, in this order.
    const std::vector<std::string> written = {"(empty)", "timeout=30", "timeout=60",
                                              "retries=3 timeout=60", "retries=3"};
    zkr::children_cache config(app, dir);
    co_await config.async_start(asio::use_awaitable);
    int reloads = 0;
    asio::steady_timer reload_done(co_await asio::this_coro::executor,
                                   asio::steady_timer::time_point::max());
    std::size_t at = 0;  // the latest of `written` seen
    bool in_order = true;
    auto reload = [&] {
        const auto line = line_of(*config.current());
        ++reloads;
        std::printf("reload %d: %s\n", reloads, line.c_str());
        std::size_t i = at;
        while (i < written.size() && written[i] != line) {
            ++i;
        }
        in_order = in_order && i < written.size();
        at = i < written.size() ? i : at;
        reload_done.cancel();
    };
    reload();
    asio::co_spawn(co_await asio::this_coro::executor, operate(admin, reloads, reload_done),
                   asio::detached);

    asio::signal_set signals(co_await asio::this_coro::executor, SIGINT, SIGTERM);
    while (reloads < max_reloads && at + 1 < written.size()) {
        auto next = co_await (config.async_wait_event(tuple) || signals.async_wait(tuple));
        if (next.index() == 1) {
            std::printf("signal: stopping\n");
            break;
        }
        auto [ec, event] = std::get<0>(next);
        if (ec) {
            std::printf("the cache ended: %s\n", ec.message().c_str());
            break;
        }
        if (event.type != zkr::cache_event_type::initialized) {
            reload();
        }
    }
    config.close();
    const bool holds = in_order && at + 1 == written.size();
    std::printf("%s\n", holds ? "every reload showed the configuration written, in order"
                              : "the reloads did NOT follow the configuration");
    co_await app.async_close(asio::use_awaitable);
    co_await admin.async_close(asio::use_awaitable);
    co_return holds;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s HOSTS [MAX_RELOADS]\n", argv[0]);
        return 64;
    }
    const int max_reloads = argc > 2 ? std::atoi(argv[2]) : 20;
    return example::run("config_watch", [hosts = std::string(argv[1]), max_reloads] {
        return follow(hosts, max_reloads);
    });
}
