// zkr service register: keeps an instance of a service registered (zkr::service_discovery)
// while CMD runs, as zkr node keep keeps a node: registered before CMD starts, registered again
// whenever its node goes (deleted by another client, lost with an expired session that renews),
// unregistered once CMD's whole process tree is gone. A registration that fails starts nothing.
#include "handlers.hpp"
#include "supervisor.hpp"

#include <zkr/path.hpp>
#include <zkr/service_discovery.hpp>
#include <zkr/session.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <variant>

namespace zkr::cli {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

service_instance instance_of(const options& o) {
    service_instance i;
    i.name = o.path;
    i.id = o.id;  // empty: the registration chooses a UUID
    i.address = o.address;
    i.port = o.port;
    i.ssl_port = o.ssl_port;
    i.payload = o.payload;
    i.uri_spec = o.uri_spec;
    return i;
}

/// zkr's exit status for a registration that failed with `ec`, told on stderr: 64 for what the
/// command line got wrong (nothing was sent), 75 when another session's instance has the id, 69
/// for the rest (the session failed, no permission).
int registration_failed(const options& o, error_code ec) {
    std::fprintf(stderr, "zkr: cannot register an instance of %s under %s: %s\n", o.path.c_str(),
                 o.base.c_str(), ec.message().c_str());
    if (ec == errc::invalid_path || ec == errc::invalid_service_instance ||
        ec == errc::invalid_argument) {
        return exit_usage;
    }
    return ec == errc::node_taken ? exit_not_acquired : exit_unavailable;
}

/// Registers, racing signals: the registration, or zkr's exit status (128+N on signal N). The
/// signals are watched only until then: once CMD runs, they are forwarded to it.
asio::awaitable<std::variant<service_registration, int>> register_instance(
    service_discovery& discovery, const options& o) {
    asio::signal_set interrupts(co_await asio::this_coro::executor, SIGINT, SIGTERM, SIGHUP);
    auto r =
        co_await (discovery.async_register(instance_of(o), tuple) || interrupts.async_wait(tuple));
    if (r.index() == 1) {
        co_return 128 + std::get<1>(std::get<1>(r));  // cancelled: nothing was left behind
    }
    auto [ec, registration] = std::get<0>(std::move(r));
    if (ec) {
        co_return registration_failed(o, ec);
    }
    co_return std::move(registration);
}

}  // namespace

asio::awaitable<int> run_service_register(session& s, const options& o) {
    service_discovery discovery(s, o.base);
    auto registered = co_await register_instance(discovery, o);
    if (auto* status = std::get_if<int>(&registered)) {
        co_return *status;
    }
    auto& registration = std::get<service_registration>(registered);
    const auto path = join_path(join_path(o.base, o.path), registration.instance().id);
    if (!o.quiet) {
        std::fprintf(stderr, "zkr: registered %s\n", path.c_str());
    }
    auto outcome = co_await run_child(o.command, kept_node_at(path),
                                      hold_limits{o.grace, std::nullopt, o.quiet});
    if (auto [ec] = co_await registration.async_unregister(tuple); ec) {
        // The command's status all the same: it is what the script asked about.
        std::fprintf(stderr, "zkr: cannot unregister %s: %s\n", path.c_str(), ec.message().c_str());
    }
    co_return outcome.exit_code;
}

}  // namespace zkr::cli
