// zkr queue put, take, peek and size: a queue of items many processes share, in Curator's
// SimpleDistributedQueue layout (zkr::queue), so Java services using Curator's queue and shell
// scripts feed and drain the same one.
//
// take removes the head item and prints it: at most once (a take whose process dies before it
// has used the item loses it). take --claim runs CMD on the item instead, under a claim
// (zkr::queue_claim): the item is completed, deleted, only if CMD's whole process tree exits 0,
// and goes back to the queue otherwise, or if zkr dies, or if its session ends: exactly once.
#include "handlers.hpp"
#include "supervisor.hpp"

#include <zkr/queue.hpp>
#include <zkr/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <iterator>
#include <variant>

namespace zkr::cli {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

/// The queue the command line names.
queue queue_of(session& s, const options& o) {
    queue_options options;
    options.claims_dir = o.claims_dir;
    return queue(s, o.path, options);
}

/// Tells what went wrong with the queue on stderr; zkr's exit status for it: 64 for what the
/// command line got wrong (nothing was written), 69 for the rest.
int failed(const options& o, error_code ec, const char* more = "") {
    std::fprintf(stderr, "zkr: cannot %s %s %s: %s%s\n", o.action.c_str(),
                 o.action == "put" ? "to queue" : "queue", o.path.c_str(), ec.message().c_str(),
                 more);
    return ec == errc::request_too_large || ec == errc::invalid_path ? exit_usage
                                                                     : exit_unavailable;
}

/// Writes an item's bytes to stdout as they are: no newline is added, a NUL byte stays one.
void print_item(const queue_item& item) {
    std::fwrite(item.data.data(), 1, item.data.size(), stdout);
    std::fflush(stdout);
}

/// An item's bytes for the environment: the variable holds no NUL byte and at most 128 KiB
/// (Linux's limit for one); larger or binary items are on stdin only.
std::optional<std::string> item_variable(const queue_item& item) {
    constexpr std::size_t limit = 128 * 1024 - 16;
    if (item.data.size() > limit || item.data.find('\0') != std::string::npos) {
        return std::nullopt;
    }
    return "ZKR_ITEM=" + item.data;
}

/// Waits for `start`'s result, racing --timeout and signals. Returns the result, or zkr's exit
/// status: 75 when --timeout passed, 128+N on signal N (the wait, cancelled, left nothing).
template <class Result, class Start>
asio::awaitable<std::variant<Result, int>> wait_for(const options& o, const char* what,
                                                    Start start) {
    auto ex = co_await asio::this_coro::executor;
    asio::signal_set interrupts(ex, SIGINT, SIGTERM, SIGHUP);
    asio::steady_timer deadline(ex, o.timeout ? *o.timeout : no_deadline);
    auto r = co_await (start(tuple) || interrupts.async_wait(tuple) || deadline.async_wait(tuple));
    switch (r.index()) {
        case 0:
            co_return std::get<0>(std::move(r));
        case 1:
            co_return 128 + std::get<1>(std::get<1>(r));
        default:
            if (!o.quiet) {
                std::fprintf(stderr, "zkr: no item %s in %s within %llds\n", what, o.path.c_str(),
                             static_cast<long long>(o.timeout->count()));
            }
            co_return exit_not_acquired;
    }
}

/// The claim's end as a loss for the supervisor: the claim is an ephemeral node, gone with the
/// session (this command's session does not renew). CMD is then stopped at once: the item may
/// already be another consumer's.
std::function<void(std::function<void(error_code)>)> claim_loss(session& s) {
    return [&s](std::function<void(error_code)> lost) {
        asio::co_spawn(
            s.get_executor(),
            [&s]() -> asio::awaitable<error_code> {
                auto state = s.state();
                while (state == session_state::connected || state == session_state::suspended) {
                    auto [ec, next] = co_await s.async_wait_state_change(state, tuple);
                    if (ec) {
                        co_return ec;
                    }
                    state = next;
                }
                co_return make_error_code(zk_errc::session_expired);
            },
            [lost = std::move(lost)](std::exception_ptr, error_code ec) { lost(ec); });
    };
}

/// take --claim: CMD runs on the claimed item; exit 0 completes it, anything else gives it back.
asio::awaitable<int> run_on_claim(session& s, const options& o, queue& q) {
    auto waited = co_await wait_for<std::tuple<error_code, queue_claim>>(
        o, "to claim", [&](auto token) { return q.async_claim(token); });
    if (auto* status = std::get_if<int>(&waited)) {
        co_return *status;
    }
    auto& [ec, claim] = std::get<0>(waited);
    if (ec) {
        co_return failed(o, ec);
    }
    const auto& item = claim.item();
    held h;
    h.what = held::kind::claim;
    h.path = claim.path();
    h.fencing_token = claim.fencing_token();
    h.wait_lost = claim_loss(s);
    h.input = item.data;
    h.environment.push_back("ZKR_ITEM_NODE=" + item.node);
    if (auto variable = item_variable(item)) {
        h.environment.push_back(std::move(*variable));
    }
    if (!o.quiet) {
        std::fprintf(stderr, "zkr: claimed %s/%s\n", o.path.c_str(), item.node.c_str());
    }
    const auto outcome =
        co_await run_child(o.command, h, hold_limits{o.grace, std::nullopt, o.quiet});
    if (outcome.lost) {
        co_return exit_lost;  // the supervisor told why; the item went back with the session
    }
    if (outcome.exit_code != 0) {
        if (auto [rec] = co_await claim.async_release(tuple); rec && !o.quiet) {
            std::fprintf(stderr, "zkr: cannot give %s back: %s (it goes back with the session)\n",
                         item.node.c_str(), rec.message().c_str());
        } else if (!o.quiet) {
            std::fprintf(stderr, "zkr: the command exited %d: %s went back to the queue\n",
                         outcome.exit_code, item.node.c_str());
        }
        co_return outcome.exit_code;
    }
    if (auto [cec, results] = co_await claim.async_complete({}, tuple); cec) {
        std::fprintf(stderr, "zkr: cannot complete %s: %s\n", item.node.c_str(),
                     cec.message().c_str());
        co_return cec == errc::claim_lost ? exit_lost : exit_unavailable;
    }
    co_return 0;
}

}  // namespace

asio::awaitable<int> run_queue_put(session& s, const options& o) {
    auto items = o.items;
    if (items.empty()) {  // one item, read from stdin: bytes as they are, binary included
        items.emplace_back(std::istreambuf_iterator<char>(std::cin),
                           std::istreambuf_iterator<char>());
    }
    auto q = queue_of(s, o);
    std::vector<std::string> nodes;
    error_code ec;
    if (items.size() == 1) {
        std::string node;
        std::tie(ec, node) = co_await q.async_put(std::move(items.front()), tuple);
        nodes.push_back(std::move(node));
    } else {
        std::tie(ec, nodes) = co_await q.async_put_many(std::move(items), tuple);
    }
    if (ec) {
        co_return failed(o, ec,
                         ec == errc::outcome_unknown
                             ? " (each item is in the queue once or none is)"
                         : ec == errc::request_too_large ? " (nothing was written)"
                                                         : "");
    }
    for (const auto& node : nodes) {
        std::printf("%s\n", node.c_str());
    }
    co_return 0;
}

asio::awaitable<int> run_queue_take(session& s, const options& o) {
    auto q = queue_of(s, o);
    if (o.claim) {
        co_return co_await run_on_claim(s, o, q);
    }
    auto waited = co_await wait_for<std::tuple<error_code, queue_item>>(
        o, "to take", [&](auto token) { return q.async_take(token); });
    if (auto* status = std::get_if<int>(&waited)) {
        co_return *status;
    }
    auto& [ec, item] = std::get<0>(waited);
    if (ec) {
        co_return failed(o, ec);
    }
    print_item(item);
    co_return 0;
}

asio::awaitable<int> run_queue_look(session& s, const options& o) {
    auto q = queue_of(s, o);
    if (o.action == "size") {
        auto [ec, size] = co_await q.async_size(tuple);
        if (ec) {
            co_return failed(o, ec);
        }
        std::printf("%zu\n", size);
        co_return 0;
    }
    auto [ec, item] = co_await q.async_peek(tuple);
    if (ec) {
        co_return failed(o, ec);
    }
    if (!item) {
        if (!o.quiet) {
            std::fprintf(stderr, "zkr: queue %s has no item to peek at\n", o.path.c_str());
        }
        co_return exit_not_acquired;
    }
    print_item(*item);
    co_return 0;
}

}  // namespace zkr::cli
