// The session's connection state machine, without I/O: events in (a connect asked for, the C
// client's state, a timer that fired, a close), actions out (the state change to announce, the
// timers to cancel and arm, the quorum check to tell, the waiters to complete, the listeners'
// event, the handle to free). session_impl (session_connection.cpp) carries the actions out with
// its timers, transport and listeners; tests/connection_fsm_test.cpp drives it with no I/O.
//
// The rules it keeps (docs/design-notes.md, docs/session.md):
// - connecting: a connect timer; the first connection completes the connect waiters (once the
//   chroot is known to exist).
// - suspended (a connected session lost its connection): the local loss deadline at T/4
//   (deadline_passed), and once per outage the give-up timer at T: a session that no
//   connection keeps for T/3 (the stable timer) within T of the disconnect ends as expired.
// - expired, auth_failed, closed: final; every timer stops, and so does the quorum check.
//   Unless the session renews (session_config::renew_after_expiry): then expired is announced,
//   and at once the next generation begins connecting, with no deadline (it retries while the
//   session lives); its first connection is announced as `renewed`.
//
// Driver strand, except the accessors, which any thread may call.
#pragma once

#include "session_seam.hpp"

#include <zkr/error.hpp>
#include <zkr/session.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace zkr::detail {

/// True for the states a session never leaves (but for closed, which ends them all).
constexpr bool is_final(session_state s) noexcept {
    return s == session_state::expired || s == session_state::auth_failed ||
           s == session_state::closed;
}

class connection_fsm {
  public:
    using duration = std::chrono::milliseconds;

    enum class timer : std::uint8_t {
        connect,   ///< the first connection's deadline (session_config::connect_timeout)
        deadline,  ///< the local loss deadline, T/4 after a disconnect
        give_up,   ///< T after a disconnect: the session ends unless a connection lasted
        stable,    ///< T/3 after a reconnection: it lasted, the session stops giving up
    };
    static constexpr std::size_t timer_count = 4;

    /// What the session does after an event, in this order.
    struct actions {
        /// The state changed, from this one to state(): tell the observer and the state waiters.
        std::optional<session_state> left;
        /// Timers to cancel (a bit per timer), then timers to arm (expiring after the duration).
        std::uint8_t cancel = 0;
        std::array<std::optional<duration>, timer_count> arm{};
        /// The server has just validated the session with the leader: tell the quorum check.
        bool quorum_confirmed = false;
        /// The session ended: stop the quorum check.
        bool quorum_stop = false;
        /// Complete the connect waiters with this.
        std::optional<error_code> complete_connect;
        /// The first connection: complete the connect waiters once the chroot is known.
        bool check_chroot = false;
        /// Tell the listeners.
        std::optional<session_event> notify;
        /// Free the C handle (the session expired: every call would fail).
        bool close_handle = false;
        /// Close the session (a connect that timed out).
        bool shut_down = false;
        /// The session expired and renews: after the rest (the old generation told, its handle
        /// freed), open a new ZooKeeper session and call begin_renewal().
        bool renew = false;

        bool cancels(timer t) const noexcept { return (cancel & bit(t)) != 0; }
        const std::optional<duration>& arms(timer t) const noexcept {
            return arm[static_cast<std::size_t>(t)];
        }
        /// True when there is nothing to do.
        bool none() const noexcept;
    };

    /// What to do with a handler that asks to connect.
    enum class connect_step {
        done,     ///< complete it with `error` (empty: already connected)
        join,     ///< a connection is under way: wait for it with the others
        connect,  ///< start connecting (begin_connecting), then wait
    };
    struct connect_decision {
        connect_step step;
        error_code error;
    };

    /// `renews`: after expiry, a new generation begins (session_config::renew_after_expiry).
    explicit connection_fsm(duration connect_timeout, bool renews = false) noexcept
        : connect_timeout_(connect_timeout), renews_(renews) {}
    connection_fsm(const connection_fsm&) = delete;
    connection_fsm& operator=(const connection_fsm&) = delete;

    // ---- What it knows. Any thread. ----
    session_state state() const noexcept { return state_.load(); }
    /// The session timeout the server granted, T (zero before the first connection).
    duration negotiated_timeout() const noexcept { return duration(timeout_ms_.load()); }
    /// How long after a disconnect a holder must consider itself lost (docs/mutex.md): the C
    /// client declares a connection dead after 2/3 T without a response, so the server may
    /// expire the session T/3 after we hear of the disconnect; a further T/12 covers network
    /// delay and clock-rate differences.
    duration local_loss_delay() const noexcept { return negotiated_timeout() / 4; }
    /// The ZooKeeper session this is: 0 before connecting, 1 from then, one more per renewal.
    std::uint64_t generation() const noexcept { return generation_.load(); }
    /// The error every operation gets once the session reached a final state; empty before.
    error_code final_error() const noexcept { return final_error(state()); }
    static error_code final_error(session_state s) noexcept;

    // ---- Decisions. Driver strand. ----
    bool ever_connected() const noexcept { return ever_connected_; }
    /// Suspended, and this outage's loss deadline has passed (deadline_passed was told): a
    /// hold that begins now (granted from answers that came before the disconnect) is lost.
    bool loss_deadline_passed() const noexcept { return loss_deadline_passed_; }
    /// Disconnected, and not yet back for long: the give-up timer runs.
    bool giving_up() const noexcept { return giving_up_; }

    connect_decision on_connect_request() const noexcept;
    /// not_started -> connecting (announced to nobody: no state waiter waits for it). Arms the
    /// connect timer.
    actions begin_connecting();
    /// expired -> connecting, the next generation (after actions::renew). No connect timer: a
    /// renewing session retries for as long as it lives, as a suspended one does.
    actions begin_renewal();
    /// The C client connected, the server granting `timeout`.
    actions on_connected(duration timeout);
    /// The C client is connecting (again): its CONNECTING or ASSOCIATING state.
    actions on_connecting();
    actions on_expired() { return enter(session_state::expired); }
    actions on_auth_failed() { return enter(session_state::auth_failed); }
    /// The session closes (its user, or shut_down).
    actions on_close() { return enter(session_state::closed); }
    /// `t` fired (it was not cancelled, though it may have been overtaken by an event).
    actions on_timer(timer t);
    /// The C client cannot go on connecting: true if that fails the first connection (the
    /// session then completes the connect waiters with the reason and closes). A session that
    /// was connected keeps retrying while it lives: its holders are told by the loss deadline.
    bool fails_connect() const noexcept {
        return state() == session_state::connecting && !ever_connected_;
    }

  private:
    static constexpr std::uint8_t bit(timer t) noexcept {
        return static_cast<std::uint8_t>(1U << static_cast<unsigned>(t));
    }
    static constexpr std::uint8_t all_timers = 0x0f;
    static void arm(actions& a, timer t, duration after) noexcept {
        a.arm[static_cast<std::size_t>(t)] = after;
    }
    actions enter(session_state next);

    duration connect_timeout_;
    bool renews_;
    std::atomic<session_state> state_{session_state::not_started};
    std::atomic<std::uint64_t> generation_{0};
    bool renewing_ = false;  // the next generation has not connected yet
    std::atomic<std::int64_t> timeout_ms_{0};
    bool ever_connected_ = false;
    bool giving_up_ = false;
    bool loss_deadline_passed_ = false;  // in the current outage
};

}  // namespace zkr::detail
