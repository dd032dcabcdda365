// What every cache shares: its events on their way to the waiter, its start, its end, and the
// background coroutine that follows the server (recipes/node_cache.cpp).
//
// Everything here runs on the session's driver strand, except the entry points that say
// otherwise.
#pragma once

#include "coroutines.hpp"
#include "waiter_list.hpp"

#include <zkr/cache_event.hpp>

#include <boost/asio/cancellation_signal.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>

namespace zkr::detail {

/// The events of one cache, its start and its end.
class cache_events {
  public:
    using event_waiter = waiter_list<void(error_code, cache_event)>::waiter;

    /// Queues `e` for the waiter, merged with what is queued where no state is lost that a
    /// waiter could still need: an update into the queued addition or update of the same node;
    /// a removal cancels the queued addition of that node (nobody saw it); two `resynced` in a
    /// row are one.
    void push(cache_event e);

    /// Delivers the first queued event to `w`, or the end once the queue is empty, or keeps `w`
    /// until there is one (one waiter at a time: a second replaces the first, which ends with
    /// operation_aborted).
    void wait(event_waiter w);

    /// The cache has ended with `ec`: the queued events are still delivered, then `ec`.
    void end(error_code ec);

    /// Closed by its owner: the pending waiter ends with operation_aborted, the queue is
    /// dropped, later waits end at once.
    void close();

    bool ended() const noexcept { return static_cast<bool>(end_); }
    std::size_t queued() const noexcept { return queue_.size(); }

  private:
    void deliver();

    std::deque<cache_event> queue_;
    event_waiter waiter_;
    error_code end_;
};

/// What a cache knows of one node: the last state it reported (empty: no node), and the czxid
/// of the last node at that path it reported removed.
struct followed_node {
    std::optional<node_data> last;
    std::int64_t gone_czxid = 0;

    /// True if `now` is older than what was reported: a server behind the one that answered
    /// before (possible after a renewal, whose new session has no zxid floor).
    bool older(const std::optional<node_data>& now) const;

    /// Reports the change from `last` to `now` into `events`, judged by the stat: a new czxid
    /// is removed + added, a greater mzxid of the same node updated. A state older than the
    /// last reported is dropped (false).
    bool advance(const std::string& path, std::optional<node_data> now, cache_events& events);
};

/// The start of a cache: a handler whose cancellation closes the cache (`on_cancel`, posted to
/// the driver strand).
class cache_start {
  public:
    /// Any thread. `on_cancel` runs on the driver strand.
    template <class OnCancel>
    void prepare(handler<void(error_code)> h, const session_seam& s, OnCancel on_cancel);
    /// Completes the start if it is still pending.
    void complete(error_code ec) {
        if (pending_ && *pending_) {
            pending_->complete(ec);
        }
        pending_.reset();
    }

  private:
    std::shared_ptr<pending_handler<void(error_code)>> pending_;
};

template <class OnCancel>
void cache_start::prepare(handler<void(error_code)> h, const session_seam& s, OnCancel on_cancel) {
    auto slot = boost::asio::get_associated_cancellation_slot(h);
    pending_ = std::make_shared<pending_handler<void(error_code)>>(std::move(h), s.completions());
    if (slot.is_connected()) {
        slot.assign([strand = s.strand(), on_cancel](boost::asio::cancellation_type) {
            boost::asio::post(strand, on_cancel);
        });
    }
}

/// What every cache's impl holds besides its copy, and the operations its public object shares
/// (start, wait for an event, close): node_cache_impl, children_cache_impl and tree_cache_impl
/// derive from it.
struct cache_core {
    cache_core(session_ptr s, std::string p) : session(std::move(s)), path(std::move(p)) {}

    const session_ptr session;
    const std::string path;

    // ---- Driver strand. ----
    bool started = false;
    bool closed = false;
    cache_events events;
    cache_start start;
    /// Stops the coroutine (close()); it removes its watches as it ends.
    std::shared_ptr<boost::asio::cancellation_signal> stop =
        std::make_shared<boost::asio::cancellation_signal>();
    /// What else a close stops (a cache's own timer), if anything.
    std::function<void()> on_close;

    /// Closes the cache: the coroutine stops, a pending start ends with operation_aborted, the
    /// waiters with what is queued, then with the close.
    void close_here();
    /// The coroutine ended with `ec`: the start (if pending) and the waiters are told.
    void finish(error_code ec);
};

/// The cache's coroutine: follows the server until the cache closes or ends.
using cache_follower = std::function<boost::asio::awaitable<std::tuple<error_code>>()>;

/// Public object's async_start: checks the path (and `refused`, an argument the cache itself
/// found wrong), then runs `follow` once, on the driver strand. Any thread.
void start_cache(const std::shared_ptr<cache_core>& c, handler<void(error_code)> h,
                 cache_follower follow, error_code refused = {});
/// Public object's async_wait_event. Any thread.
void wait_cache_event(const std::shared_ptr<cache_core>& c,
                      handler<void(error_code, cache_event)> h);
/// Public object's close(): posted to the driver strand. Any thread.
void close_cache(const std::shared_ptr<cache_core>& c) noexcept;

/// After a request or a watch ended with the session (`ec`, is_session_lost) in `generation`:
/// waits for the next generation to be connected (session_config::renew_after_expiry), which a
/// cache resyncs in. Fails with the session's final error if it does not renew, or with
/// operation_aborted if the awaiting coroutine is cancelled.
boost::asio::awaitable<error_code> follow_renewal(session_ptr s, std::uint64_t generation);

}  // namespace zkr::detail
