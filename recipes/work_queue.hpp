// What zkr::queue's operations share (<zkr/queue.hpp>): the queue's paths, one look at its
// items and claims, reading an item, and the line that waiting consumers stand in.
#pragma once

#include "coroutines.hpp"
#include "path.hpp"

#include <zkr/queue.hpp>

#include <zkr/names.hpp>

#include <boost/asio/error.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <vector>

namespace zkr::detail {

/// Item nodes a queue object found it cannot hand over (curator_distributed: no framing of
/// exactly one item), left out of its listings from then on, so that its consumers neither read
/// them at every look nor wait on them. Any thread.
class unusable_items {
  public:
    void add(const std::string& item) {
        std::lock_guard lock(mutex_);
        names_.insert(item);
    }
    bool contains(const std::string& item) const {
        std::lock_guard lock(mutex_);
        return names_.count(item) != 0;
    }

  private:
    mutable std::mutex mutex_;
    std::unordered_set<std::string> names_;
};

/// What a zkr::queue is made of (its impl_).
struct queue_impl {
    session_ptr session;
    std::string path;
    std::string claims_dir;   ///< queue_options::claims_dir, or PATH/zkr-claims
    std::string waiters_dir;  ///< queue_options::waiters_dir, or PATH/zkr-waiters
    queue_layout layout = queue_layout::curator_simple;
    std::shared_ptr<unusable_items> unusable = std::make_shared<unusable_items>();

    std::string item_path(const std::string& item) const { return path + "/" + item; }
    std::string claim_path(const std::string& item) const { return claims_dir + "/" + item; }
    /// What every item's name begins with.
    std::string_view item_prefix() const {
        return layout == queue_layout::curator_simple ? names::queue_item_prefix
                                                      : names::curator_queue_item_prefix;
    }
};

/// Starts a queue operation: `body()` (a coroutine) on the driver strand, unless a path is
/// refused (invalid_path, nothing sent).
template <class Body, class... Values>
void start_queue(const std::shared_ptr<const queue_impl>& q, Body body,
                 handler<void(error_code, Values...)> h) {
    if (validate_path(q->path) || q->path == "/" || validate_path(q->claims_dir) ||
        validate_path(q->waiters_dir)) {
        fail(std::move(h), q->session->completions(), make_error_code(errc::invalid_path));
        return;
    }
    spawn(q->session, body(), std::move(h));
}

/// The queue as one look saw it.
struct queue_listing {
    std::size_t items = 0;               ///< every item, claimed or not, due or not
    std::vector<std::string> unclaimed;  ///< item names nobody claims and that are due, head first
    /// When the earliest item nobody claims that is not due yet falls due (ms since the Unix
    /// epoch): what the first waiter sets its timer to.
    std::optional<std::int64_t> next_due_ms;
};

/// The items of `children` (of the queue's path) nobody claims in `claims`, head first (in
/// name order, as Curator's SimpleDistributedQueue and DistributedPriorityQueue sort them; by
/// due time first in the curator_distributed layout, as its DistributedDelayQueue does), due at
/// `now_ms`. Other children than items and the queue's own directories are skipped, with a
/// warning the first time each is seen; so are the queue object's unusable items.
queue_listing make_listing(const queue_impl& q, const std::vector<std::string>& children,
                           const std::vector<std::string>& claims, std::int64_t now_ms);

/// Lists the queue's path and its claims (both requests at once) through connection loss.
boost::asio::awaitable<std::tuple<error_code, queue_listing>> list_queue(const queue_impl& q,
                                                                         std::uint64_t generation);

/// Reads `item` through connection loss: nullopt once it is gone, or when it holds no framing of
/// exactly one item (curator_distributed: warned about, and unusable from then on).
boost::asio::awaitable<std::tuple<error_code, std::optional<queue_item>>> read_item(
    const queue_impl& q, const std::string& item, std::uint64_t generation);

/// The line waiting consumers stand in (docs/queues.md, "Waiting without a herd"): one waiter
/// node each in the waiters' directory; the first in line watches the queue (its items and its
/// claims), every other waiter its predecessor only.
///
/// Joins the line: our waiter node's name, created with its directory if need be. A create
/// whose answer was lost is looked for by its uuid before it is sent again.
boost::asio::awaitable<std::tuple<error_code, std::string>> join_line(const queue_impl& q,
                                                                      std::uint64_t generation);

/// Stands in line as `own` until, first in line, a look shows an item nobody claims that is due:
/// that listing. The first in line wakes on a new item, a released claim, or (a timer) when the
/// earliest item that is not due yet falls due. Still in line then: the next waiter wakes only once
/// we leave, after our attempt, so that one new item wakes one consumer. Cancellation:
/// operation_aborted.
boost::asio::awaitable<std::tuple<error_code, queue_listing>> stand_in_line(
    const queue_impl& q, const std::string& own, std::uint64_t generation);

/// Deletes our waiter node (waking the next waiter), whatever ended the wait.
boost::asio::awaitable<void> leave_line(const queue_impl& q, const std::string& own);

/// Tries `attempt(item, generation)` on each item nobody claims, head first, and completes with
/// the first attempt that gets one; when none does, waits in line and tries again. `Attempt` is
/// an awaitable of std::tuple<error_code, std::optional<T>>: nullopt when the item went to
/// someone else. A consumer that finds an item at once never joins the line; one that waited
/// leaves it after its attempt.
template <class T, class Attempt>
boost::asio::awaitable<std::tuple<error_code, T>> first_item(const queue_impl& q, Attempt attempt) {
    const auto generation = q.session->generation();
    auto [ec, listing] = co_await list_queue(q, generation);
    std::string own;  // our waiter node, while in line
    std::optional<T> got;
    while (!ec) {
        for (const auto& item : listing.unclaimed) {
            if (co_await cancellation_requested()) {
                ec = make_error_code(boost::asio::error::operation_aborted);
                break;
            }
            std::tie(ec, got) = co_await attempt(item, generation);
            if (ec || got) {
                break;
            }
        }
        if (ec || got) {
            break;
        }
        if (own.empty()) {
            std::tie(ec, own) = co_await join_line(q, generation);
            if (ec) {
                break;
            }
        }
        std::tie(ec, listing) = co_await stand_in_line(q, own, generation);
        if (!ec && listing.unclaimed.empty()) {
            own.clear();  // our waiter node was deleted by someone else: in line again
        }
    }
    if (!own.empty()) {
        co_await leave_line(q, own);
    }
    co_return std::tuple{ec, got ? std::move(*got) : T{}};
}

}  // namespace zkr::detail
