// zkr_discovery_client: one process of the discovery fault run (discovery_faults_test.cpp), on a
// session that renews after expiry, in one of two roles:
//   register ID   registers the instance ID of service NAME (zkr::service_discovery::
//                 async_register), keeps it registered and updates its payload every 250 ms
//                 (service_registration::async_update) until told to stop, then unregisters
//   observe       follows service NAME with a zkr::service_cache and records what it lists
//
//   zkr_discovery_client ROLE HOSTS BASE NAME HISTORY STOP_FILE SESSION_MS [ID]
//
// History lines (discovery_checker.hpp), times in CLOCK_MONOTONIC ns:
//   S t role [id]         started
//   W t json              (register) the instance as registered, and each update before it is
//                         sent: its JSON, the rest of the line
//   C t                   (register) async_register completed: the node exists
//   E t type id           (observe) an event of the cache
//   V t n                 (observe) the cache's instances changed; n lines follow:
//   I id json             one instance listed, its JSON the rest of the line
//   R t what:message      an error
//   D t                   ended cleanly
#include "client_files.hpp"
#include "history.hpp"

#include <zkr/service_cache.hpp>
#include <zkr/service_discovery.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace asio = boost::asio;
using namespace zkr::faults;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

/// The payload of registrant `id` after `updates` updates.
std::string payload_of(const std::string& id, int updates) {
    return "{\"registrant\":\"" + id + "\",\"update\":" + std::to_string(updates) + "}";
}

/// The instance of registrant `id`: its port derived from the id's digits, a payload naming it,
/// so that every registrant writes data of its own.
zkr::service_instance instance_of(const std::string& name, const std::string& id) {
    zkr::service_instance instance;
    instance.name = name;
    instance.id = id;
    instance.address = "127.0.0.1";
    int digits = 0;
    for (const char c : id) {
        digits = c >= '0' && c <= '9' ? (digits * 10 + (c - '0')) % 50000 : digits;
    }
    instance.port = 10000 + digits;
    instance.payload = payload_of(id, 0);
    return instance;
}

asio::awaitable<int> keep_registered(zkr::session& s, const std::string& base,
                                     const std::string& name, const std::string& id) {
    zkr::service_discovery discovery(s, base);
    auto [ec, registration] = co_await discovery.async_register(instance_of(name, id), tuple);
    if (ec) {
        record_now("R", "register:" + words(ec.message()));
        co_return 1;
    }
    // Written after the fact: the id and time are only known now, and nobody can have read the
    // node before it existed. The checker compares what observers list with this text.
    record_now("W", zkr::to_json(registration.instance()));
    record_now("C");
    // Updates its payload every 250 ms until told to stop, so that observers have changing data
    // to get wrong. Each JSON is recorded before it is sent: an observer may see it first.
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (int n = 1; !stop_asked(); ++n) {
        auto next = registration.instance();
        next.payload = payload_of(id, n);
        record_now("W", zkr::to_json(next));
        if (auto [uec] = co_await registration.async_update(std::move(next), tuple); uec) {
            record_now("R", "update:" + words(uec.message()));
            co_return 1;
        }
        pause.expires_after(250ms);
        co_await (pause.async_wait(tuple) || stop_requested());
    }
    if (auto [uec] = co_await registration.async_unregister(tuple); uec) {
        record_now("R", "unregister:" + words(uec.message()));
        co_return 1;
    }
    co_return 0;
}

/// Records each event of the cache (E lines): what the cache told.
asio::awaitable<void> record_events(zkr::service_cache& cache, bool& failed) {
    for (;;) {
        auto [ec, event] = co_await cache.async_wait_event(tuple);
        if (ec == asio::error::operation_aborted) {
            co_return;  // the run is over: the stop file cancelled the wait
        }
        if (ec) {
            record_now("R", "wait:" + words(ec.message()));
            failed = true;
            co_return;
        }
        record_now("E", std::string(to_string(event.type)) + " " +
                            (event.id.empty() ? std::string("-") : event.id));
    }
}

/// Records the cache's instances (V and I lines) whenever they differ from the last recorded:
/// what a caller asking the cache would have been given, at most 10 ms late.
asio::awaitable<void> record_views(zkr::service_cache& cache) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::shared_ptr<const std::vector<zkr::service_instance>> last;
    for (;;) {
        auto now = cache.instances();
        if (now && (!last || *now != *last)) {
            std::string lines = std::to_string(now->size());
            for (const auto& instance : *now) {
                lines += "\nI " + instance.id + " " + zkr::to_json(instance);
            }
            record_now("V", lines);
            last = std::move(now);
        }
        timer.expires_after(10ms);
        co_await timer.async_wait(tuple);
    }
}

asio::awaitable<int> observe(zkr::session& s, const std::string& base, const std::string& name) {
    zkr::service_discovery discovery(s, base);
    zkr::service_cache cache(discovery, name);
    if (auto [ec] = co_await cache.async_start(tuple); ec) {
        record_now("R", "start:" + words(ec.message()));
        co_return 1;
    }
    bool failed = false;
    co_await (record_events(cache, failed) || record_views(cache) || stop_requested());
    cache.close();
    co_return failed ? 1 : 0;
}

asio::awaitable<int> run(std::string role, std::string hosts, std::string base, std::string name,
                         int session_ms, std::string id) {
    auto ex = co_await asio::this_coro::executor;
    zkr::session s(ex, renewing_session(std::move(hosts), session_ms));
    if (auto [ec] = co_await s.async_connect(tuple); ec) {
        record_now("R", "connect:" + words(ec.message()));
        co_return 1;
    }
    const int status = role == "register" ? co_await keep_registered(s, base, name, id)
                                          : co_await observe(s, base, name);
    co_await s.async_close(tuple);
    if (status == 0) {
        record_now("D");
    }
    co_return status;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string role = argc > 1 ? argv[1] : "";
    if (!((role == "register" && argc == 9) || (role == "observe" && argc == 8))) {
        std::fprintf(stderr,
                     "usage: %s register|observe HOSTS BASE NAME HISTORY STOP_FILE SESSION_MS "
                     "[ID]\n",
                     argv[0]);
        return 2;
    }
    zkr::faults::history_path = argv[5];
    zkr::faults::stop_path = argv[6];
    const std::string id = argc == 9 ? argv[8] : "";
    record_now("S", role + (id.empty() ? "" : " " + id));
    boost::log::core::get()->set_logging_enabled(false);
    asio::io_context ioc;
    int status = 1;
    asio::co_spawn(ioc, run(role, argv[2], argv[3], argv[4], std::atoi(argv[7]), id),
                   [&](std::exception_ptr e, int result) {
                       if (e) {
                           record_now("R", "exception");
                       }
                       status = e ? 1 : result;
                   });
    ioc.run();
    return status;
}
