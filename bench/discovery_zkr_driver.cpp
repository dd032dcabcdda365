// The zkr row of the discovery benchmark: zkr::service_discovery through the public API, one
// session, one io_context run by one thread. Boost.Log is disabled, as in the lock driver.
//
//   zkr-bench-discovery-zkr --hosts HOST:PORT --base PATH --name NAME --role watch|register
//                           [--session-timeout-ms MS]
// then the discovery protocol of bench/discovery_orchestrate.py on stdin/stdout.
#include "common.hpp"
#include "session_thread.hpp"

#include <zkr/service_cache.hpp>
#include <zkr/service_discovery.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/log/core.hpp>

#include <charconv>
#include <map>
#include <memory>

namespace {

namespace asio = boost::asio;
using bench::die;
using bench::now_ns;

/// The registrar's stamp: the "t" of the payload {"t":NS} (0 when there is none).
std::int64_t stamp_of(const std::string& payload) {
    const auto at = payload.find("\"t\":");
    std::int64_t t = 0;
    if (at != std::string::npos) {
        const auto* first = payload.data() + at + 4;
        std::from_chars(first, payload.data() + payload.size(), t);
    }
    return t;
}

/// The watcher: "ready" once the cache holds the service, then a line per instance that comes
/// ("added ID NOW STAMP") or goes ("removed ID NOW"), as the cache reports them.
asio::awaitable<void> watch(zkr::service_cache& cache) {
    if (auto [ec] = co_await cache.async_start(asio::as_tuple(asio::use_awaitable)); ec) {
        die("start the cache: " + ec.message());
    }
    bench::say("ready");
    for (;;) {
        auto [ec, event] = co_await cache.async_wait_event(asio::as_tuple(asio::use_awaitable));
        const auto now = now_ns();
        if (ec) {
            co_return;  // closed
        }
        if (event.type == zkr::cache_event_type::added && event.instance) {
            bench::say("added " + event.id + " " + std::to_string(now) + " " +
                       std::to_string(stamp_of(event.instance->payload)));
        } else if (event.type == zkr::cache_event_type::removed) {
            bench::say("removed " + event.id + " " + std::to_string(now));
        }
    }
}

class driver {
  public:
    driver(std::string hosts, std::string base, std::chrono::milliseconds session_timeout)
        : zk_(std::move(hosts), session_timeout),
          discovery_(std::make_unique<zkr::service_discovery>(zk_.session(), std::move(base))) {}

    ~driver() {
        asio::post(zk_.ioc(), [this] {
            cache_.reset();
            registrations_.clear();
        });
        zk_.close();  // the discovery goes after the session's thread
    }

    void watch(const std::string& name) {
        asio::post(zk_.ioc(), [this, name] {
            cache_ = std::make_unique<zkr::service_cache>(*discovery_, name);
            asio::co_spawn(zk_.ioc(), ::watch(*cache_), asio::detached);
        });
    }

    /// Registers `id` with the time now in its payload; returns once its node exists.
    void register_instance(const std::string& name, const std::string& id) {
        zkr::service_instance instance;
        instance.name = name;
        instance.id = id;
        instance.address = "127.0.0.1";
        instance.port = 8080;
        instance.payload = "{\"t\":" + std::to_string(now_ns()) + "}";
        registrations_[id] = bench::wait_on(
            zk_.ioc(), [&] { return discovery_->async_register(instance, asio::use_future); });
    }

    /// Unregisters `id`; returns the time just before the request.
    std::int64_t unregister_instance(const std::string& id) {
        auto it = registrations_.find(id);
        if (it == registrations_.end()) {
            die("unregister " + id + ": not registered here");
        }
        auto registration = std::move(it->second);
        registrations_.erase(it);
        const auto t = now_ns();
        bench::wait_on(zk_.ioc(), [&] { return registration.async_unregister(asio::use_future); });
        return t;
    }

  private:
    bench::session_thread zk_;
    std::unique_ptr<zkr::service_discovery> discovery_;
    std::unique_ptr<zkr::service_cache> cache_;
    std::map<std::string, zkr::service_registration> registrations_;
};

}  // namespace

int main(int argc, char** argv) {
    std::map<std::string, std::string> opt{{"--session-timeout-ms", "2000"}};
    for (int i = 1; i + 1 < argc; i += 2) {
        opt[argv[i]] = argv[i + 1];
    }
    const auto& role = opt["--role"];
    if (opt["--hosts"].empty() || opt["--base"].empty() || opt["--name"].empty() ||
        (role != "watch" && role != "register")) {
        std::cerr << "usage: zkr-bench-discovery-zkr --hosts HOST:PORT --base PATH --name NAME "
                     "--role watch|register [--session-timeout-ms MS]\n";
        return 2;
    }
    boost::log::core::get()->set_logging_enabled(false);
    driver d(opt["--hosts"], opt["--base"],
             std::chrono::milliseconds(std::stoll(opt["--session-timeout-ms"])));
    if (role == "watch") {
        d.watch(opt["--name"]);
    } else {
        bench::say("ready");
    }
    for (auto c = bench::read_command(); c.verb != "quit"; c = bench::read_command()) {
        const auto id = c.get("id");
        if (role == "register" && c.verb == "register") {
            d.register_instance(opt["--name"], id);
            bench::say("registered " + id);
        } else if (role == "register" && c.verb == "unregister") {
            const auto t = d.unregister_instance(id);
            bench::say("unregistered " + id + " " + std::to_string(t));
        } else {
            die("unexpected '" + c.verb + "' for the " + role + " role");
        }
    }
    return 0;
}
