// The session's connection state machine (src/connection_fsm.hpp), event by event, with no
// server and no I/O: what each event changes, and what the session is told to do.
#include "connection_fsm.hpp"

#include <gtest/gtest.h>

namespace zkr::detail {
namespace {

using namespace std::chrono_literals;
using fsm = connection_fsm;
using timer = connection_fsm::timer;

constexpr auto connect_timeout = 5000ms;
constexpr auto T = 1200ms;  // the negotiated session timeout

/// A machine that reached `connected` through its first connection.
void connect(fsm& m) {
    ASSERT_EQ(m.on_connect_request().step, fsm::connect_step::connect);
    m.begin_connecting();
    m.on_connected(T);
    ASSERT_EQ(m.state(), session_state::connected);
}

/// The timers an action arms, as a bit set (connect = 1, deadline = 2, give_up = 4, stable = 8).
unsigned armed(const fsm::actions& a) {
    unsigned bits = 0;
    for (unsigned i = 0; i < fsm::timer_count; ++i) {
        bits |= a.arm[i] ? 1U << i : 0U;
    }
    return bits;
}

constexpr unsigned bit(timer t) {
    return 1U << static_cast<unsigned>(t);
}

TEST(ConnectionFsm, ConnectsOnceAndCompletesTheWaitersAfterTheChrootCheck) {
    fsm m(connect_timeout);
    EXPECT_EQ(m.state(), session_state::not_started);
    EXPECT_FALSE(m.final_error());

    auto a = m.begin_connecting();
    EXPECT_EQ(m.state(), session_state::connecting);
    EXPECT_FALSE(a.left);  // nobody waits for "connecting"
    EXPECT_EQ(armed(a), bit(timer::connect));
    EXPECT_EQ(a.arms(timer::connect), connect_timeout);
    // A second request joins the first; nothing starts twice.
    EXPECT_EQ(m.on_connect_request().step, fsm::connect_step::join);
    EXPECT_TRUE(m.begin_connecting().none());

    a = m.on_connected(T);
    EXPECT_EQ(m.state(), session_state::connected);
    EXPECT_EQ(a.left, session_state::connecting);
    EXPECT_TRUE(a.cancels(timer::connect));
    EXPECT_TRUE(a.cancels(timer::deadline));
    EXPECT_TRUE(a.check_chroot);
    EXPECT_FALSE(a.complete_connect);  // after the chroot check
    EXPECT_FALSE(a.notify);            // listeners hear of reconnections only
    EXPECT_TRUE(a.quorum_confirmed);
    EXPECT_EQ(armed(a), 0U);
    EXPECT_TRUE(m.ever_connected());
    EXPECT_EQ(m.negotiated_timeout(), T);
    EXPECT_EQ(m.local_loss_delay(), T / 4);

    const auto again = m.on_connect_request();
    EXPECT_EQ(again.step, fsm::connect_step::done);
    EXPECT_FALSE(again.error);
    // The same state again is no event.
    EXPECT_TRUE(m.on_connected(T).none());
}

TEST(ConnectionFsm, AConnectionLostBeforeTheFirstConnectionIsNoSuspension) {
    fsm m(connect_timeout);
    m.begin_connecting();
    EXPECT_TRUE(m.on_connecting().none());
    EXPECT_EQ(m.state(), session_state::connecting);
    EXPECT_TRUE(m.fails_connect());  // a failing C client fails the first connection
}

TEST(ConnectionFsm, DisconnectSuspendsWithTheLossDeadlineThenReconnects) {
    fsm m(connect_timeout);
    connect(m);
    EXPECT_FALSE(m.fails_connect());  // a connected session keeps retrying

    auto a = m.on_connecting();
    EXPECT_EQ(m.state(), session_state::suspended);
    EXPECT_EQ(a.left, session_state::connected);
    EXPECT_EQ(a.notify, session_event::suspended);
    EXPECT_EQ(a.arms(timer::deadline), T / 4);
    EXPECT_EQ(a.arms(timer::give_up), T);
    EXPECT_TRUE(a.cancels(timer::stable));
    EXPECT_TRUE(m.giving_up());
    EXPECT_FALSE(m.final_error());
    // Still "connected" to a user who asks to connect: the session lives.
    EXPECT_EQ(m.on_connect_request().step, fsm::connect_step::done);

    a = m.on_connected(T);
    EXPECT_EQ(m.state(), session_state::connected);
    EXPECT_EQ(a.left, session_state::suspended);
    EXPECT_EQ(a.notify, session_event::reconnected);
    EXPECT_FALSE(a.check_chroot);
    EXPECT_TRUE(a.cancels(timer::deadline));
    EXPECT_TRUE(a.quorum_confirmed);  // the server validated the session with the leader
    EXPECT_EQ(a.arms(timer::stable), T / 3);
    EXPECT_EQ(armed(a), bit(timer::stable));
}

TEST(ConnectionFsm, TheLossDeadlinePassesOnlyWhileSuspended) {
    fsm m(connect_timeout);
    connect(m);
    m.on_connecting();
    EXPECT_FALSE(m.loss_deadline_passed());
    const auto a = m.on_timer(timer::deadline);
    EXPECT_EQ(a.notify, session_event::deadline_passed);
    EXPECT_FALSE(a.left);
    EXPECT_EQ(m.state(), session_state::suspended);
    EXPECT_TRUE(m.loss_deadline_passed());  // what a hold beginning now must know

    m.on_connected(T);
    EXPECT_FALSE(m.loss_deadline_passed());
    // A deadline that fired just as the connection came back: overtaken.
    EXPECT_TRUE(m.on_timer(timer::deadline).none());
    EXPECT_FALSE(m.loss_deadline_passed());
    m.on_connecting();  // the next outage starts with its deadline ahead
    EXPECT_FALSE(m.loss_deadline_passed());
}

TEST(ConnectionFsm, ASessionNoServerKeepsEndsAsExpiredAfterATimeout) {
    fsm m(connect_timeout);
    connect(m);
    m.on_connecting();
    const auto a = m.on_timer(timer::give_up);
    EXPECT_EQ(m.state(), session_state::expired);
    EXPECT_EQ(a.left, session_state::suspended);
    EXPECT_EQ(a.notify, session_event::expired);
    EXPECT_EQ(a.cancel, 0x0f);
    EXPECT_TRUE(a.quorum_stop);
    EXPECT_TRUE(a.close_handle);
    EXPECT_EQ(m.final_error(), zk_errc::session_expired);
}

TEST(ConnectionFsm, AShortReconnectionDoesNotRestartTheGiveUpCount) {
    fsm m(connect_timeout);
    connect(m);
    m.on_connecting();
    m.on_connected(T);  // back, not for long yet: the stable timer runs
    // The give-up timer fires while connected: look again once the connection proved itself.
    auto a = m.on_timer(timer::give_up);
    EXPECT_EQ(a.arms(timer::give_up), T / 3);
    EXPECT_EQ(armed(a), bit(timer::give_up));
    EXPECT_EQ(m.state(), session_state::connected);

    // Dropped again before it lasted: the count goes on, not restarted.
    a = m.on_connecting();
    EXPECT_FALSE(a.arms(timer::give_up));
    EXPECT_EQ(a.arms(timer::deadline), T / 4);  // the loss deadline is per disconnection
    EXPECT_TRUE(m.giving_up());
    m.on_timer(timer::give_up);
    EXPECT_EQ(m.state(), session_state::expired);
}

TEST(ConnectionFsm, AReconnectionThatLastsStopsGivingUp) {
    fsm m(connect_timeout);
    connect(m);
    m.on_connecting();
    m.on_connected(T);
    auto a = m.on_timer(timer::stable);
    EXPECT_TRUE(a.cancels(timer::give_up));
    EXPECT_FALSE(m.giving_up());
    EXPECT_TRUE(m.on_timer(timer::give_up).none());  // one that fired meanwhile is ignored
    EXPECT_EQ(m.state(), session_state::connected);

    // The next outage counts afresh.
    a = m.on_connecting();
    EXPECT_EQ(a.arms(timer::give_up), T);
}

TEST(ConnectionFsm, TheStableTimerCountsOnlyWhileConnected) {
    fsm m(connect_timeout);
    connect(m);
    m.on_connecting();
    m.on_connected(T);
    m.on_connecting();  // dropped before the stable timer's wait ended
    EXPECT_TRUE(m.on_timer(timer::stable).none());
    EXPECT_TRUE(m.giving_up());
}

TEST(ConnectionFsm, ExpiryIsFinal) {
    fsm m(connect_timeout);
    connect(m);
    const auto a = m.on_expired();
    EXPECT_EQ(a.left, session_state::connected);
    EXPECT_EQ(a.complete_connect, make_error_code(zk_errc::session_expired));
    EXPECT_EQ(a.notify, session_event::expired);
    EXPECT_TRUE(a.quorum_stop);
    EXPECT_TRUE(a.close_handle);
    EXPECT_FALSE(a.shut_down);
    EXPECT_FALSE(a.renew);
    EXPECT_TRUE(m.begin_renewal().none());
    // Nothing brings it back.
    EXPECT_TRUE(m.on_connected(T).none());
    EXPECT_TRUE(m.on_connecting().none());
    EXPECT_TRUE(m.on_auth_failed().none());
    EXPECT_EQ(m.state(), session_state::expired);
    const auto c = m.on_connect_request();
    EXPECT_EQ(c.step, fsm::connect_step::done);
    EXPECT_EQ(c.error, zk_errc::session_expired);
    // Closing it afterwards still ends in "closed", with no handle to free twice.
    const auto closed = m.on_close();
    EXPECT_EQ(closed.left, session_state::expired);
    EXPECT_EQ(closed.notify, session_event::closed);
    EXPECT_FALSE(closed.close_handle);
    EXPECT_EQ(m.state(), session_state::closed);
}

TEST(ConnectionFsm, ARenewingSessionTellsTheExpiryThenConnectsAsTheNextGeneration) {
    fsm m(connect_timeout, true);
    EXPECT_EQ(m.generation(), 0U);
    connect(m);
    EXPECT_EQ(m.generation(), 1U);

    // The expiry is told as without renewal: holders lose, the handle goes.
    auto a = m.on_expired();
    EXPECT_EQ(a.left, session_state::connected);
    EXPECT_EQ(a.notify, session_event::expired);
    EXPECT_TRUE(a.close_handle);
    EXPECT_TRUE(a.quorum_stop);
    EXPECT_TRUE(a.renew);
    EXPECT_EQ(m.state(), session_state::expired);
    EXPECT_EQ(m.final_error(), zk_errc::session_expired);
    EXPECT_EQ(m.generation(), 1U);

    // Then the next generation connects, with no deadline (it retries while the session lives).
    a = m.begin_renewal();
    EXPECT_EQ(a.left, session_state::expired);
    EXPECT_EQ(m.state(), session_state::connecting);
    EXPECT_EQ(m.generation(), 2U);
    EXPECT_EQ(armed(a), 0U);
    EXPECT_FALSE(m.final_error());
    EXPECT_FALSE(m.fails_connect());
    EXPECT_TRUE(m.begin_renewal().none());  // once per expiry
    EXPECT_TRUE(m.on_connecting().none());  // still the first connection of this generation
    EXPECT_EQ(m.on_connect_request().step, fsm::connect_step::join);

    a = m.on_connected(T);
    EXPECT_EQ(a.left, session_state::connecting);
    EXPECT_EQ(a.notify, session_event::renewed);
    EXPECT_TRUE(a.quorum_confirmed);
    EXPECT_FALSE(a.check_chroot);
    EXPECT_FALSE(a.complete_connect);

    // From here on, as any session: a disconnection suspends, the next connection reconnects.
    a = m.on_connecting();
    EXPECT_EQ(a.notify, session_event::suspended);
    EXPECT_EQ(m.on_connected(T).notify, session_event::reconnected);

    // And it renews again at the next expiry.
    EXPECT_TRUE(m.on_expired().renew);
    m.begin_renewal();
    EXPECT_EQ(m.generation(), 3U);
}

TEST(ConnectionFsm, ARenewingSessionRenewsWhenItGivesUpToo) {
    fsm m(connect_timeout, true);
    connect(m);
    m.on_connecting();
    const auto a = m.on_timer(timer::give_up);
    EXPECT_EQ(a.notify, session_event::expired);
    EXPECT_TRUE(a.renew);
    m.begin_renewal();
    EXPECT_FALSE(m.giving_up());  // the new session counts its own outages
    EXPECT_TRUE(m.on_timer(timer::give_up).none());
    EXPECT_EQ(m.state(), session_state::connecting);
}

TEST(ConnectionFsm, AuthenticationFailureAndCloseAreFinalEvenForARenewingSession) {
    fsm m(connect_timeout, true);
    connect(m);
    EXPECT_FALSE(m.on_auth_failed().renew);
    EXPECT_TRUE(m.begin_renewal().none());
    EXPECT_EQ(m.state(), session_state::auth_failed);

    fsm n(connect_timeout, true);
    connect(n);
    n.on_expired();
    n.begin_renewal();
    const auto closed = n.on_close();  // closed while the next generation connects
    EXPECT_EQ(closed.left, session_state::connecting);
    EXPECT_FALSE(closed.renew);
    EXPECT_TRUE(n.on_connected(T).none());
    EXPECT_EQ(n.state(), session_state::closed);
}

TEST(ConnectionFsm, AuthenticationFailureEndsTheSessionAsExpiredToItsListeners) {
    fsm m(connect_timeout);
    m.begin_connecting();
    const auto a = m.on_auth_failed();
    EXPECT_EQ(m.state(), session_state::auth_failed);
    EXPECT_EQ(a.complete_connect, make_error_code(zk_errc::auth_failed));
    EXPECT_EQ(a.notify, session_event::expired);
    EXPECT_EQ(m.final_error(), zk_errc::auth_failed);
    EXPECT_EQ(m.on_connect_request().error, errc::session_closed);
}

TEST(ConnectionFsm, CloseWhileConnectingFailsTheConnectWaiters) {
    fsm m(connect_timeout);
    m.begin_connecting();
    const auto a = m.on_close();
    EXPECT_EQ(m.state(), session_state::closed);
    EXPECT_EQ(a.left, session_state::connecting);
    EXPECT_EQ(a.complete_connect, make_error_code(errc::session_closed));
    EXPECT_EQ(a.cancel, 0x0f);  // the connect timer among them
    EXPECT_EQ(a.notify, session_event::closed);
    EXPECT_TRUE(a.quorum_stop);
    EXPECT_FALSE(a.close_handle);  // the close itself frees it
    // A connect timer that fired anyway, or a connection that came anyway: nothing.
    EXPECT_TRUE(m.on_timer(timer::connect).none());
    EXPECT_TRUE(m.on_connected(T).none());
    EXPECT_TRUE(m.on_close().none());
    EXPECT_EQ(m.final_error(), errc::session_closed);
    EXPECT_EQ(m.on_connect_request().error, errc::session_closed);
}

TEST(ConnectionFsm, TheConnectTimerFailsAConnectionThatDoesNotCome) {
    fsm m(connect_timeout);
    m.begin_connecting();
    const auto a = m.on_timer(timer::connect);
    EXPECT_EQ(a.complete_connect, make_error_code(errc::connect_timeout));
    EXPECT_TRUE(a.shut_down);
    EXPECT_FALSE(a.left);  // the shut-down changes the state
    EXPECT_EQ(m.state(), session_state::connecting);
}

TEST(ConnectionFsm, TheConnectTimerIsOvertakenByTheConnection) {
    fsm m(connect_timeout);
    connect(m);
    EXPECT_TRUE(m.on_timer(timer::connect).none());
    m.on_connecting();
    EXPECT_TRUE(m.on_timer(timer::connect).none());  // suspended is not connecting
}

TEST(ConnectionFsm, TheQuorumCheckIsConfirmedByEveryConnectionAndStoppedByEveryEnd) {
    fsm m(connect_timeout);
    m.begin_connecting();
    EXPECT_TRUE(m.on_connected(T).quorum_confirmed);
    const auto lost = m.on_connecting();
    EXPECT_FALSE(lost.quorum_confirmed);
    EXPECT_FALSE(lost.quorum_stop);  // a disconnection has its own deadline; the check waits
    EXPECT_TRUE(m.on_connected(T).quorum_confirmed);
    EXPECT_TRUE(m.on_close().quorum_stop);
}

TEST(ConnectionFsm, TheNegotiatedTimeoutSetsTheTimers) {
    fsm m(connect_timeout);
    m.begin_connecting();
    m.on_connected(800ms);
    auto a = m.on_connecting();
    EXPECT_EQ(a.arms(timer::deadline), 200ms);
    EXPECT_EQ(a.arms(timer::give_up), 800ms);
    // A reconnection to a server that grants another timeout: the timers follow it.
    a = m.on_connected(2400ms);
    EXPECT_EQ(a.arms(timer::stable), 800ms);
    EXPECT_EQ(m.local_loss_delay(), 600ms);
}

TEST(ConnectionFsm, FinalErrorsByState) {
    EXPECT_FALSE(fsm::final_error(session_state::connected));
    EXPECT_FALSE(fsm::final_error(session_state::suspended));
    EXPECT_EQ(fsm::final_error(session_state::expired), zk_errc::session_expired);
    EXPECT_EQ(fsm::final_error(session_state::auth_failed), zk_errc::auth_failed);
    EXPECT_EQ(fsm::final_error(session_state::closed), errc::session_closed);
    EXPECT_TRUE(is_final(session_state::auth_failed));
    EXPECT_FALSE(is_final(session_state::suspended));
}

}  // namespace
}  // namespace zkr::detail
