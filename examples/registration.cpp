// Service registration: a service registers itself under /services/<name>/<instance> while it
// runs, with a zkr::persistent_node (ephemeral) on a session that renews after an expiry, so the
// registration outlives a deletion by someone else and a session expiry. It updates its data
// once (from "starting" to "ready"), and leaves on exit. A second session plays the registry's
// reader: it deletes the entry by mistake, sees it come back (a zkr::node_cache), and checks each
// step.
//   registration HOSTS
#include "example.hpp"

#include <zkr/node_cache.hpp>
#include <zkr/persistent_node.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>

#include <cstdio>
#include <string>

namespace asio = boost::asio;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

namespace {

/// What the registry holds at `path` as `reader` sees it now ("" if nothing): a sync first, so
/// that the read sees every write completed before it, whichever server the reader is on.
asio::awaitable<std::string> registry_entry(zkr::session& reader, const std::string& path) {
    co_await reader.async_sync(path, tuple);
    auto [ec, got] = co_await reader.async_get_data(path, tuple);
    co_return ec ? std::string{} : got.data;
}

asio::awaitable<bool> registration(std::string hosts) {
    zkr::session_config config;
    config.hosts = hosts;
    config.renew_after_expiry = true;  // an expired session is replaced; the node comes back
    zkr::session service(co_await asio::this_coro::executor, config);
    co_await service.async_connect(asio::use_awaitable);
    auto reader = co_await example::connect(hosts);
    bool holds = true;
    auto check = [&](bool ok, const char* what) {
        std::printf("  %s %s\n", ok ? "ok:  " : "FAIL:", what);
        holds = holds && ok;
    };

    const std::string path = "/services/api/host-a:8080";
    {
        const std::string starting = "state=starting", ready = "state=ready";
        zkr::persistent_node registered(service, path, starting);
        co_await registered.async_start(asio::use_awaitable);
        std::printf("registered %s (node %s)\n", path.c_str(), registered.node_path().c_str());
        check(co_await registry_entry(reader, path) == "state=starting",
              "the registry lists it, starting");

        // Ready: one update of what it registered.
        co_await registered.async_set_data(ready, asio::use_awaitable);
        std::printf("updated: state=ready\n");
        check(co_await registry_entry(reader, path) == "state=ready", "the registry sees it ready");

        // Someone deletes the entry by mistake: the service registers again, with its latest data.
        // The reader follows the entry with a node_cache to see it go and come back.
        zkr::node_cache entry(reader, path);
        co_await entry.async_start(asio::use_awaitable);
        co_await reader.async_remove(path, -1, asio::use_awaitable);
        std::printf("deleted by another client\n");
        bool back = false;
        for (;;) {
            auto [ec, event] = co_await entry.async_wait_event(tuple);
            if (ec || event.type == zkr::cache_event_type::added) {
                back = !ec && event.node && event.node->data == ready;
                break;
            }
        }
        check(back, "it is back, ready");

        // The service stops: closing the node leaves the registry (destruction would too).
        co_await registered.async_close(asio::use_awaitable);
        std::printf("left\n");
    }
    check(co_await registry_entry(reader, path) == "", "the registry no longer lists it");
    co_await service.async_close(asio::use_awaitable);
    co_await reader.async_close(asio::use_awaitable);
    std::printf("%s\n", holds ? "registration held" : "registration did NOT hold");
    co_return holds;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s HOSTS\n", argv[0]);
        return 64;
    }
    return example::run("registration",
                        [hosts = std::string(argv[1])] { return registration(hosts); });
}
