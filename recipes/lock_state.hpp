// The state behind a zkr::lock handle: ownership, loss detection, release.
//
// Lives on the session strand (all members but the atomics and lost_reason are strand-only).
// Registered with the session as a listener, it turns session events into loss according to the
// loss_policy; a watch on our own node, armed on the first async_wait_lost, catches deletion by
// another client.
#pragma once

#include "coroutines.hpp"
#include "observed_lock.hpp"
#include "waiter_list.hpp"

#include <zkr/lock.hpp>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>

namespace zkr::detail {

class lock_state final : public session_listener, public std::enable_shared_from_this<lock_state> {
  public:
    /// `max_hold`: how long it may be held before it is taken back (mutex_options::max_hold).
    /// `observed`: the acquisition as the session's observer saw it, told that the hold starts.
    lock_state(session_ptr s, acquired_node node, loss_policy policy, const char* channel,
               std::optional<std::chrono::milliseconds> max_hold = std::nullopt,
               observed_lock_ptr observed = nullptr);

    ~lock_state();
    lock_state(const lock_state&) = delete;
    lock_state& operator=(const lock_state&) = delete;

    /// Starts listening to the session (on the strand, right after acquisition), and counts as
    /// one of its holds (session_seam::hold_began) until ownership ends.
    void start();
    /// Starts the max_hold clock, if any, once the handle has been delivered: deliver_held's
    /// (lock_acquire.hpp), nobody else's.
    void start_hold_clock();

    bool owns() const noexcept { return owned_.load(); }
    /// Never: a lock's state exists only for a held node (on_held, on_held.hpp).
    bool empty() const noexcept { return false; }
    const session_ptr& session() const noexcept { return session_; }
    boost::asio::any_io_executor executor() const noexcept { return session_->executor(); }
    const std::string& path() const noexcept { return path_; }
    std::int64_t fencing_token() const noexcept { return token_; }
    error_code lost_reason() const;

    void release(handler<void(error_code)> h);
    /// `watch_for_deletion`: arm the own-node watch (false for a wait that only has to hear of
    /// session events, which lose the lock without it).
    void wait_lost(handler<void(error_code)> h, bool watch_for_deletion = true);
    /// Writes `data` into our node while we hold it (leadership::async_publish; publish.cpp).
    void publish(std::string data, handler<void(error_code)> h);
    /// Completes when a revocation request is written into our node (names::revoke_request).
    void wait_revocation(handler<void(error_code)> h);
    bool revocation_requested() const noexcept { return revoke_requested_.load(); }
    /// A guarded transaction found our node gone (driver strand).
    void node_missing() { lose(make_error_code(errc::lock_node_deleted)); }

    void on_session_event(session_event event) override;
    bool holds_node(const std::string& node) const noexcept override {
        return owned_.load() && node == path_;
    }

  private:
    /// Reports the loss (once): owns() false, lost_reason() `why`, waiters told.
    void lose(error_code why);
    /// Our node is gone: lost now, the cause (deleted by someone, or the session's end) asked
    /// of the server before it is reported.
    boost::asio::awaitable<void> lose_node();
    void watch_node();
    void arm_hold_timer();
    /// Ownership ended: no longer one of the session's holds (once).
    void end_hold();
    boost::asio::awaitable<void> watch_loop();
    static boost::asio::awaitable<std::tuple<error_code>> write_data(
        std::shared_ptr<lock_state> self, std::string data);

    const session_ptr session_;
    const std::string path_;
    const std::int64_t token_;
    const std::int64_t owner_;  // the session that created the node (its ephemeralOwner)
    const loss_policy policy_;
    const char* const channel_;

    std::atomic<bool> owned_{true};
    std::atomic<bool> counted_{false};  // counted as one of the session's holds
    mutable std::mutex reason_mutex_;
    error_code reason_;
    bool cause_pending_ = false;  // under reason_mutex_

    // Strand-only.
    bool released_ = false;
    bool loss_reported_ = false;
    bool watching_ = false;
    waiter_list<void(error_code)> lost_waiters_;
    waiter_list<void(error_code)> revocation_waiters_;
    std::atomic<bool> revoke_requested_{false};
    waiter_list<void(error_code)> release_waiters_;
    boost::asio::cancellation_signal stop_watch_;
    const std::optional<std::chrono::milliseconds> max_hold_;
    // Only with max_hold: a timer on every lock would cost each acquisition a service lookup.
    std::optional<boost::asio::steady_timer> hold_timer_;
    observed_lock_ptr observed_;  // strand-only
    // Strand-only: the watch on our node the acquisition armed while it waited, and the data
    // read with it (acquired_node::armed), until the watch loop takes them.
    std::shared_ptr<armed_node_watch> armed_;
};

}  // namespace zkr::detail
