// zkr node keep: keeps a node (zkr::persistent_node) while CMD runs, as a service registration
// from a shell script: created before CMD starts, created again whenever it goes (deleted by
// another client, lost with an expired session that renews), deleted once CMD's whole process
// tree is gone.
#include "handlers.hpp"
#include "supervisor.hpp"

#include <zkr/persistent_node.hpp>
#include <zkr/session.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <cstdio>
#include <tuple>
#include <utility>

namespace zkr::cli {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

persistent_node_options node_options(const options& o) {
    persistent_node_options po;
    if (o.node_mode == "persistent") {
        po.mode = persistent_node_mode::persistent;
    } else if (o.node_mode == "ttl") {
        po.mode = persistent_node_mode::persistent_with_ttl;
        po.ttl = o.ttl;
    }
    return po;
}

/// Waits for the node to exist, racing --timeout and signals. 0 once it does, else zkr's exit
/// status: 75 when another session's node holds the path past --timeout (at once with
/// --timeout 0), 128+N on signal N, 69 when the node cannot be kept (the session failed, the
/// server has no TTL nodes, no permission).
asio::awaitable<int> wait_for_node(persistent_node& n, const options& o) {
    auto ex = co_await asio::this_coro::executor;
    asio::signal_set interrupts(ex, SIGINT, SIGTERM, SIGHUP);  // gone before the command runs
    asio::steady_timer deadline(ex, o.timeout && !o.try_only ? *o.timeout : no_deadline);
    bool started = false;
    // Not a conditional expression inside the co_await: g++ 12 destroys such a temporary
    // awaitable twice.
    auto created = [&]() -> asio::awaitable<std::tuple<error_code>> {
        if (std::exchange(started, true)) {
            co_return co_await n.async_wait_created(tuple);
        }
        co_return co_await n.async_start(tuple);
    };
    for (;;) {
        auto r = co_await (created() || interrupts.async_wait(tuple) || deadline.async_wait(tuple));
        if (r.index() == 1) {
            co_return 128 + std::get<1>(std::get<1>(r));
        }
        if (r.index() == 2) {
            if (!o.quiet) {
                std::fprintf(stderr, "zkr: %s is still another session's node after %llds\n",
                             o.path.c_str(), static_cast<long long>(o.timeout->count()));
            }
            co_return exit_not_acquired;
        }
        const auto [ec] = std::get<0>(r);
        if (!ec) {
            co_return 0;
        }
        if (ec != errc::node_taken) {
            std::fprintf(stderr, "zkr: cannot keep %s: %s\n", o.path.c_str(), ec.message().c_str());
            co_return exit_unavailable;
        }
        if (o.try_only) {
            if (!o.quiet) {
                std::fprintf(stderr, "zkr: %s is another session's node\n", o.path.c_str());
            }
            co_return exit_not_acquired;
        }
        if (!o.quiet) {
            std::fprintf(stderr, "zkr: %s is another session's node: waiting for it to go\n",
                         o.path.c_str());
        }
    }
}

}  // namespace

asio::awaitable<int> run_node_keep(session& s, const options& o) {
    persistent_node n(s, o.path, o.data, node_options(o));
    const int waited = co_await wait_for_node(n, o);
    if (waited != 0) {
        co_await n.async_close(tuple);  // nothing of ours is left behind
        co_return waited;
    }
    auto outcome = co_await run_child(o.command, kept_node_at(o.path),
                                      hold_limits{o.grace, std::nullopt, o.quiet});
    if (auto [ec] = co_await n.async_close(tuple); ec) {
        // The command's status all the same: it is what the script asked about.
        std::fprintf(stderr, "zkr: cannot delete %s: %s\n", o.path.c_str(), ec.message().c_str());
    }
    co_return outcome.exit_code;
}

}  // namespace zkr::cli
