// What zkr::queue's operations share (<zkr/queue.hpp>): the queue's paths, one look at its
// items and claims, reading an item, and the line that waiting consumers stand in.
#pragma once

#include "coroutines.hpp"
#include "path.hpp"

#include <zkr/queue.hpp>

#include <boost/asio/error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace zkr::detail {

/// What a zkr::queue is made of (its impl_).
struct queue_impl {
    session_ptr session;
    std::string path;
    std::string claims_dir;   ///< queue_options::claims_dir, or PATH/zkr-claims
    std::string waiters_dir;  ///< PATH/zkr-waiters

    std::string item_path(const std::string& item) const { return path + "/" + item; }
    std::string claim_path(const std::string& item) const { return claims_dir + "/" + item; }
};

/// Starts a queue operation: `body()` (a coroutine) on the driver strand, unless a path is
/// refused (invalid_path, nothing sent).
template <class Body, class... Values>
void start_queue(const std::shared_ptr<const queue_impl>& q, Body body,
                 handler<void(error_code, Values...)> h) {
    if (validate_path(q->path) || q->path == "/" || validate_path(q->claims_dir)) {
        fail(std::move(h), q->session->completions(), make_error_code(errc::invalid_path));
        return;
    }
    spawn(q->session, body(), std::move(h));
}

/// The queue as one look saw it.
struct queue_listing {
    std::size_t items = 0;               ///< every item, claimed or not
    std::vector<std::string> unclaimed;  ///< item names nobody claims, head first
};

/// The items of `children` (of the queue's path) nobody claims in `claims`, head first (in
/// name order, as Curator sorts them). Other children than items and the queue's own
/// directories are skipped, with a warning the first time each is seen.
queue_listing make_listing(const queue_impl& q, const std::vector<std::string>& children,
                           const std::vector<std::string>& claims);

/// Lists the queue's path and its claims (both requests at once) through connection loss.
boost::asio::awaitable<std::tuple<error_code, queue_listing>> list_queue(const queue_impl& q,
                                                                         std::uint64_t generation);

/// Reads `item` through connection loss: nullopt once it is gone.
boost::asio::awaitable<std::tuple<error_code, std::optional<queue_item>>> read_item(
    const queue_impl& q, const std::string& item, std::uint64_t generation);

/// Waits in line (docs/queues.md, "Waiting without a herd") until the queue holds an item nobody
/// claims, and completes with the listing that showed it, after leaving the line. One waiter
/// node in the waiters' directory while it waits: the first in line watches the queue (its
/// items and its claims), every other waiter its predecessor only. Cancellation: operation_
/// aborted; the waiter node is deleted in every case.
boost::asio::awaitable<std::tuple<error_code, queue_listing>> wait_in_line(
    const queue_impl& q, std::uint64_t generation);

/// Waits in line until a look finds an item nobody claims, tries `attempt(item)` on each such
/// item in order, and completes with the first attempt that gets one. `Attempt` is an awaitable
/// of std::tuple<error_code, std::optional<T>>: nullopt when the item went to someone else.
template <class T, class Attempt>
boost::asio::awaitable<std::tuple<error_code, T>> first_item(const queue_impl& q, Attempt attempt) {
    const auto generation = q.session->generation();
    auto [ec, listing] = co_await list_queue(q, generation);
    for (;;) {
        if (ec) {
            co_return std::tuple{ec, T{}};
        }
        for (const auto& item : listing.unclaimed) {
            if (co_await cancellation_requested()) {
                co_return std::tuple{make_error_code(boost::asio::error::operation_aborted), T{}};
            }
            auto [attempt_ec, got] = co_await attempt(item, generation);
            if (attempt_ec || got) {
                co_return std::tuple{attempt_ec, got ? std::move(*got) : T{}};
            }
        }
        std::tie(ec, listing) = co_await wait_in_line(q, generation);
    }
}

}  // namespace zkr::detail
