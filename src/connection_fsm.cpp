#include "connection_fsm.hpp"

namespace zkr::detail {

bool connection_fsm::actions::none() const noexcept {
    for (const auto& a : arm) {
        if (a) {
            return false;
        }
    }
    return !left && cancel == 0 && !quorum_confirmed && !quorum_stop && !complete_connect &&
           !check_chroot && !notify && !close_handle && !shut_down && !renew;
}

error_code connection_fsm::final_error(session_state s) noexcept {
    switch (s) {
        case session_state::expired:
            return make_error_code(zk_errc::session_expired);
        case session_state::auth_failed:
            return make_error_code(zk_errc::auth_failed);
        case session_state::closed:
            return make_error_code(errc::session_closed);
        default:
            return {};
    }
}

connection_fsm::connect_decision connection_fsm::on_connect_request() const noexcept {
    switch (state()) {
        case session_state::connected:
        case session_state::suspended:
            return {connect_step::done, {}};
        case session_state::connecting:
            return {connect_step::join, {}};
        case session_state::not_started:
            return {connect_step::connect, {}};
        case session_state::expired:
            return {connect_step::done, make_error_code(zk_errc::session_expired)};
        default:
            return {connect_step::done, make_error_code(errc::session_closed)};
    }
}

connection_fsm::actions connection_fsm::begin_connecting() {
    actions a;
    if (state() != session_state::not_started) {
        return a;
    }
    state_ = session_state::connecting;
    generation_ = 1;
    arm(a, timer::connect, connect_timeout_);
    return a;
}

connection_fsm::actions connection_fsm::begin_renewal() {
    actions a;
    if (state() != session_state::expired || !renews_) {
        return a;
    }
    state_ = session_state::connecting;
    a.left = session_state::expired;
    ++generation_;
    renewing_ = true;
    giving_up_ = false;
    return a;
}

connection_fsm::actions connection_fsm::on_connected(duration timeout) {
    timeout_ms_ = timeout.count();
    return enter(session_state::connected);
}

connection_fsm::actions connection_fsm::on_connecting() {
    // Before the first connection of a generation the session is connecting already.
    return ever_connected_ && !renewing_ ? enter(session_state::suspended) : actions{};
}

connection_fsm::actions connection_fsm::enter(session_state next) {
    actions a;
    const auto previous = state();
    if (previous == next || (is_final(previous) && next != session_state::closed) ||
        previous == session_state::closed) {
        return a;
    }
    state_ = next;
    a.left = previous;
    loss_deadline_passed_ = false;  // a new state: a new outage, or none
    const auto t = negotiated_timeout();
    switch (next) {
        case session_state::connected:
            a.cancel = bit(timer::connect) | bit(timer::deadline);
            a.quorum_confirmed = true;  // the server has just validated the session with the leader
            if (giving_up_) {
                // A reconnection counts once it has lasted a third of the timeout (a ping's
                // interval).
                arm(a, timer::stable, t / 3);
            }
            if (!ever_connected_) {
                ever_connected_ = true;
                a.check_chroot = true;
            } else if (renewing_) {
                renewing_ = false;
                a.notify = session_event::renewed;
            } else {
                a.notify = session_event::reconnected;
            }
            break;
        case session_state::suspended:
            a.notify = session_event::suspended;
            a.cancel = bit(timer::stable);
            arm(a, timer::deadline, local_loss_delay());
            if (!giving_up_) {
                giving_up_ = true;  // a connection that drops again soon does not restart it
                arm(a, timer::give_up, t);
            }
            break;
        case session_state::expired:
        case session_state::auth_failed:
            a.cancel = all_timers;
            a.complete_connect = final_error(next);
            a.quorum_stop = true;
            a.notify = session_event::expired;
            a.close_handle = true;  // every call returns ZINVALIDSTATE now
            // A session that never connected has nothing to renew (its connect fails).
            a.renew = renews_ && next == session_state::expired && ever_connected_;
            break;
        case session_state::closed:
            a.cancel = all_timers;
            a.complete_connect = make_error_code(errc::session_closed);
            a.quorum_stop = true;
            a.notify = session_event::closed;
            break;
        default:
            break;
    }
    return a;
}

connection_fsm::actions connection_fsm::on_timer(timer t) {
    actions a;
    const auto now = state();
    switch (t) {
        case timer::connect:
            if (now == session_state::connecting) {
                a.complete_connect = make_error_code(errc::connect_timeout);
                a.shut_down = true;
            }
            break;
        case timer::deadline:
            if (now == session_state::suspended) {
                a.notify = session_event::deadline_passed;
                loss_deadline_passed_ = true;
            }
            break;
        case timer::give_up:
            // No server kept the session for a whole session timeout: any server that knew it
            // has expired it by now, and one that does not know it (restarted with its data
            // wiped: it refuses us on every reconnection) never will; a server that drops every
            // reconnection (a packet over its limit, each time) keeps it alive for nothing.
            if (!giving_up_) {
                break;
            }
            if (now == session_state::connected) {
                // Back, but not yet for long: look again when the connection has proved itself.
                arm(a, timer::give_up, negotiated_timeout() / 3);
            } else if (now == session_state::suspended) {
                a = enter(session_state::expired);
            }
            break;
        case timer::stable:
            if (now == session_state::connected) {
                giving_up_ = false;
                a.cancel = bit(timer::give_up);
            }
            break;
    }
    return a;
}

}  // namespace zkr::detail
