// The state behind a held lock: ownership, loss (session events, our node's deletion, max_hold),
// revocation requests and release (lock_state.hpp).
#include "lock_state.hpp"

#include "log.hpp"

#include <zkr/names.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

namespace zkr::detail {

namespace asio = boost::asio;

lock_state::lock_state(session_ptr s, acquired_node node, loss_policy policy, const char* channel,
                       std::optional<std::chrono::milliseconds> max_hold,
                       observed_lock_ptr observed)
    : session_(std::move(s)),
      path_(std::move(node.path)),
      token_(node.stat.czxid),
      owner_(node.stat.ephemeral_owner),
      policy_(policy),
      channel_(channel),
      max_hold_(max_hold),
      observed_(std::move(observed)),
      armed_(std::move(node.armed)) {
    if (observed_) {
        observed_->acquired(node.waited);  // a state exists only for a node just acquired
    }
}

void lock_state::start_hold_clock() {
    if (!max_hold_) {
        return;
    }
    // Behind the handler that delivered the lock, on the same executors: the clock starts once
    // the holder has its handle, so that it is told of the loss before the node goes (lose()).
    asio::post(session_->completions().via,
               asio::bind_executor(session_->executor(), [self = shared_from_this()] {
                   asio::post(self->session_->strand(), [self] { self->arm_hold_timer(); });
               }));
}

void lock_state::arm_hold_timer() {
    if (released_ || !owned_.load()) {
        return;
    }
    hold_timer_.emplace(session_->strand(), *max_hold_);
    hold_timer_->async_wait([weak = weak_from_this()](error_code ec) {
        auto self = weak.lock();
        if (!ec && self && !self->released_ && self->owned_.load()) {
            self->lose(make_error_code(errc::max_hold_passed));
        }
    });
}

lock_state::~lock_state() {
    end_hold();
}

void lock_state::end_hold() {
    if (counted_.exchange(false)) {
        session_->hold_ended();
    }
}

void lock_state::start() {
    if (owner_ != session_->session_id()) {
        // Taken in an earlier ZooKeeper session of a session that has renewed since: that one
        // has ended, and the node with it. Lost, never carried into the new one.
        lose(make_error_code(zk_errc::session_expired));
        return;
    }
    counted_ = true;
    session_->hold_began();
    session_->add_listener(weak_from_this());
    // Events before registration were seen by nobody: catch up with the current state.
    switch (session_->state()) {
        case session_state::suspended:
            on_session_event(session_event::suspended);
            // Granted from answers that came before the disconnect, after the loss deadline
            // was told: the server may have expired the session already and handed the hold on.
            if (session_->loss_deadline_passed()) {
                on_session_event(session_event::deadline_passed);
            }
            break;
        case session_state::expired:
        case session_state::auth_failed:
            on_session_event(session_event::expired);
            break;
        case session_state::closed:
            on_session_event(session_event::closed);
            break;
        default:
            break;
    }
}

error_code lock_state::lost_reason() const {
    std::lock_guard lock(reason_mutex_);
    if (!reason_ && cause_pending_) {
        return make_error_code(errc::lock_lost);  // lost; the server is being asked why
    }
    return reason_;
}

void lock_state::on_session_event(session_event event) {
    switch (event) {
        case session_event::suspended:
            if (policy_ == loss_policy::on_suspend) {
                lose(make_error_code(errc::session_suspended));
            }
            break;
        case session_event::deadline_passed:
            lose(make_error_code(errc::session_deadline));
            release_waiters_.complete_all(make_error_code(errc::session_deadline));
            break;
        case session_event::quorum_unreachable:
            lose(make_error_code(errc::quorum_unreachable));
            break;
        case session_event::expired:
            lose(make_error_code(zk_errc::session_expired));
            break;
        case session_event::closed:
            lose(make_error_code(errc::session_closed));
            break;
        case session_event::reconnected:
        case session_event::renewed:  // heard by lasting listeners only
            break;
    }
}

void lock_state::lose(error_code why) {
    owned_ = false;
    end_hold();
    if (loss_reported_) {
        return;
    }
    loss_reported_ = true;
    {
        std::lock_guard lock(reason_mutex_);
        reason_ = why;
    }
    if (observed_) {
        observed_->ended(why);
    }
    if (why == errc::session_closed) {
        ZKR_LOG(info, channel_, "lock " << path_ << " ends with its session");
    } else {
        ZKR_LOG(warning, channel_, "lock " << path_ << " lost: " << why.message());
    }
    lost_waiters_.complete_all(why);
    revocation_waiters_.complete_all(why);
    stop_watch_.emit(asio::cancellation_type::terminal);
    if (hold_timer_) {
        hold_timer_->cancel();
    }
    // Lost while the session may live on: our node may still exist and would block everyone
    // behind it until the session ends. Delete it (once the connection is back).
    if (why == errc::session_suspended || why == errc::session_deadline ||
        why == errc::quorum_unreachable) {
        remove_in_background(session_, path_, channel_);
    } else if (why == errc::max_hold_passed) {
        // Taken back once the holder has been told: the deletion follows the loss handlers
        // through the same executors, so nobody else enters before the holder's executor ran
        // them. A holder whose executor is stuck keeps the node until it is free again or its
        // session ends (docs/guide.md, "Bounded holds").
        // First through the driver strand once more: a wait_lost called before the loss, while
        // owns() was still true, may be queued there behind the timer that expired (it was
        // posted after the expiry, before this ran); it is completed, and its handler posted,
        // before the deletion is.
        asio::post(session_->strand(), [s = session_, path = path_, channel = channel_] {
            asio::post(s->completions().via, asio::bind_executor(s->executor(), [s, path, channel] {
                           remove_in_background(s, path, channel);
                       }));
        });
    }
}

void lock_state::release(handler<void(error_code)> h) {
    auto waiter = waiter_list<void(error_code)>::prepare(std::move(h), session_->strand(),
                                                         session_->completions());
    session_->on_driver([self = shared_from_this(), waiter = std::move(waiter)]() mutable {
        if (self->released_) {
            waiter.complete(make_error_code(errc::not_owner));
            return;
        }
        self->released_ = true;
        self->end_hold();
        if (!self->owned_.exchange(false)) {
            waiter.complete(self->lost_reason());
            return;
        }
        self->loss_reported_ = true;  // released, not lost: a late loss is nobody's news
        if (self->observed_) {
            self->observed_->ended(error_code{});
        }
        self->lost_waiters_.complete_all(make_error_code(asio::error::operation_aborted));
        self->revocation_waiters_.complete_all(make_error_code(asio::error::operation_aborted));
        self->stop_watch_.emit(asio::cancellation_type::terminal);
        if (self->hold_timer_) {
            self->hold_timer_->cancel();
        }
        self->release_waiters_.add(std::move(waiter));
        remove_for_sure(self->session_, self->path_, [self](error_code ec) {
            ZKR_LOG(debug, self->channel_, "released " << self->path_);
            self->release_waiters_.complete_all(ec);
        });
    });
}

void lock_state::wait_lost(handler<void(error_code)> h, bool watch_for_deletion) {
    auto waiter = waiter_list<void(error_code)>::prepare(std::move(h), session_->strand(),
                                                         session_->completions());
    session_->on_driver(
        [self = shared_from_this(), waiter = std::move(waiter), watch_for_deletion]() mutable {
            if (self->released_) {
                waiter.complete(make_error_code(errc::not_owner));
                return;
            }
            if (!self->owned_.load()) {
                waiter.complete(self->lost_reason());
                return;
            }
            self->lost_waiters_.add(std::move(waiter));
            if (watch_for_deletion) {
                self->watch_node();
            }
        });
}

void lock_state::wait_revocation(handler<void(error_code)> h) {
    auto waiter = waiter_list<void(error_code)>::prepare(std::move(h), session_->strand(),
                                                         session_->completions());
    session_->on_driver([self = shared_from_this(), waiter = std::move(waiter)]() mutable {
        if (self->released_) {
            waiter.complete(make_error_code(errc::not_owner));
        } else if (!self->owned_.load()) {
            waiter.complete(self->lost_reason());
        } else if (self->revoke_requested_.load()) {
            waiter.complete(error_code{});
        } else {
            self->revocation_waiters_.add(std::move(waiter));
            self->watch_node();
        }
    });
}

void lock_state::watch_node() {
    if (watching_) {
        return;
    }
    watching_ = true;
    asio::co_spawn(session_->strand(), watch_loop(), asio::detached);
}

asio::awaitable<void> lock_state::lose_node() {
    // Owned no more, from this instant. Why: another client deleted the node, or the server
    // expired our session and took its ephemeral nodes with it. After a freeze both look the
    // same here (the deletion's event arrives first, the session's end with the next answer):
    // ask the server once, so that the holder hears the real cause.
    owned_ = false;
    end_hold();
    {
        std::lock_guard lock(reason_mutex_);
        cause_pending_ = true;
    }
    auto [ec, st] = co_await call_retrying<void(error_code, std::optional<stat>)>(
        session_, [&](auto h) { session_->exists(path_, std::move(h)); });
    // An answer: someone deleted it. No answer: the session's end, as the session reports it
    // (once: a session event may have reported it already).
    lose(ec ? ec : make_error_code(errc::lock_node_deleted));
}

asio::awaitable<void> lock_state::watch_loop() {
    auto self = shared_from_this();
    while (owned_.load()) {
        // Reading the data as well: a revoker writes its request there (Curator's way). Sent
        // again after a connection loss, unless the lock was lost meanwhile. The first time,
        // the watch the acquisition armed while it waited may be here already.
        auto [ec, data, w] = co_await retrying(
            session_, [&]() -> asio::awaitable<std::tuple<error_code, node_data, zkr::watch>> {
                if (armed_ && armed_->watch.armed()) {
                    auto armed = std::move(*armed_);
                    armed_.reset();
                    co_return std::make_tuple(error_code{}, node_data{std::move(armed.data), {}},
                                              std::move(armed.watch));
                }
                auto answer = co_await call<void(error_code, node_data, zkr::watch)>(
                    [&](auto h) { session_->watch_data(path_, std::move(h)); });
                if (!owned_.load()) {
                    std::get<0>(answer) = make_error_code(errc::lock_lost);  // not retryable
                }
                co_return answer;
            });
        if (!owned_.load()) {
            co_return;
        }
        if (ec == zk_errc::no_node) {
            lose(make_error_code(errc::lock_node_deleted));
            co_return;
        }
        if (!ec && data.data == names::revoke_request && !revoke_requested_.exchange(true)) {
            ZKR_LOG(info, channel_, "revocation of " << path_ << " requested");
            if (observed_) {
                observed_->revocation_requested();
            }
            revocation_waiters_.complete_all(error_code{});
        }
        if (ec) {
            co_return;  // the session's end reaches us as a session event
        }
        auto [wait_ec, event] =
            co_await w.async_wait(asio::bind_cancellation_slot(stop_watch_.slot(), use_tuple));
        if (wait_ec) {
            co_return;
        }
        if (event.type == watch_event_type::deleted) {
            co_await lose_node();
            co_return;
        }
        // Our node's data changed: the watch is spent, set it again.
    }
}

}  // namespace zkr::detail
