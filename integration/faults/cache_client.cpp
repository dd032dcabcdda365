// zkr_cache_client: one cache process of the cache fault run (cache_faults_test.cpp). It follows
// a directory with a zkr::children_cache on a session that renews after expiry, and records
// every event with the stat it reports, until told to stop; then it records its final snapshot.
//
//   zkr_cache_client HOSTS DIR HISTORY STOP_FILE SESSION_MS
//
// History lines (cache_checker.hpp):
//   E type name czxid mzxid       an event of a child (added, updated, removed: the state held
//                                 before the removal); type is its cache_event_type's name
//   I t / Y t                     initialized / resynced (the directory's events), at time t
//   F name czxid mzxid            the final snapshot, one line per child, after the stop
//   R what:message                an error
//   D                             ended cleanly
#include "history.hpp"

#include <zkr/children_cache.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

std::string history_path;
std::string stop_path;

void record(const std::string& line) {
    std::ofstream(history_path, std::ios::app) << line << "\n" << std::flush;
}

std::string words(std::string text) {
    for (auto& c : text) {
        c = c == ' ' || c == '\n' ? '_' : c;
    }
    return text;
}

/// Completes once the stop file exists (polled: it is written by another process).
asio::awaitable<void> stop_requested() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (::access(stop_path.c_str(), F_OK) != 0) {
        timer.expires_after(20ms);
        co_await timer.async_wait(tuple);
    }
}

asio::awaitable<int> run(std::string hosts, std::string dir, int session_ms) {
    auto ex = co_await asio::this_coro::executor;
    zkr::session_config config;
    config.hosts = std::move(hosts);
    config.session_timeout = std::chrono::milliseconds(session_ms);
    config.connect_timeout = 10s;
    config.renew_after_expiry = true;
    config.dedicated_io_thread = true;  // recording never delays the pings
    zkr::session s(ex, config);
    if (auto [ec] = co_await s.async_connect(tuple); ec) {
        record("R connect:" + words(ec.message()));
        co_return 1;
    }
    zkr::children_cache cache(s, dir);
    if (auto [ec] = co_await cache.async_start(tuple); ec) {
        record("R start:" + words(ec.message()));
        co_return 1;
    }
    for (;;) {
        auto next = co_await (cache.async_wait_event(tuple) || stop_requested());
        if (next.index() == 1) {
            break;
        }
        auto [ec, event] = std::get<0>(std::move(next));
        if (ec) {
            record("R wait:" + words(ec.message()));
            co_return 1;
        }
        if (event.type == zkr::cache_event_type::initialized) {
            record("I " + std::to_string(zkr::faults::now_ns()));
        } else if (event.type == zkr::cache_event_type::resynced) {
            record("Y " + std::to_string(zkr::faults::now_ns()));
        } else {
            const auto& st = event.node ? event.node->stat : zkr::stat{};
            record(std::string("E ") + to_string(event.type) + " " +
                   event.path.substr(event.path.rfind('/') + 1) + " " + std::to_string(st.czxid) +
                   " " + std::to_string(st.mzxid));
        }
    }
    if (auto snapshot = cache.current()) {
        for (const auto& [name, node] : *snapshot) {
            record("F " + name + " " + std::to_string(node.stat.czxid) + " " +
                   std::to_string(node.stat.mzxid));
        }
    }
    cache.close();
    co_await s.async_close(tuple);
    record("D");
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s HOSTS DIR HISTORY STOP_FILE SESSION_MS\n", argv[0]);
        return 2;
    }
    history_path = argv[3];
    stop_path = argv[4];
    boost::log::core::get()->set_logging_enabled(false);
    asio::io_context ioc;
    int status = 1;
    asio::co_spawn(ioc, run(argv[1], argv[2], std::atoi(argv[5])),
                   [&](std::exception_ptr e, int result) {
                       if (e) {
                           record("R exception");
                       }
                       status = e ? 1 : result;
                   });
    ioc.run();
    return status;
}
