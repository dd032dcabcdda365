// While a session holds a lock, a lease or a leadership: is its server still in touch with the
// ensemble's leader? (session_config::quorum_check)
//
// Why. A follower whose links to the leader drop packets goes on answering its clients' pings
// until its own read timeout, syncLimit x tickTime, passes (ZooKeeper's Learner). The leader
// meanwhile hears nothing more of their sessions (a follower relays its clients' session
// touches only in its replies to the leader's pings: LearnerHandler) and expires them after
// the session timeout T. When syncLimit x tickTime exceeds about 5T/12 (10 s against 24 s with
// ZooKeeper's sample configuration), the session's lock passes to another client while its
// holder, still connected, has heard nothing. integration/faults/README.md, "Partitions", has
// the measurements.
//
// How. A sync is forwarded by a follower to the leader and answered only through it. While any
// hold lasts, one is sent every T/8. A sync sent at I and answered proves that the server
// reached the leader after I; the leader then has every touch the follower relayed up to then,
// and relays happen at every ping (each tickTime/2, at most T/4 as T >= 2 tickTime), so the
// leader heard of the session at I - T/8 - T/4 at the latest and expires it no earlier than
// I + 5T/8. Without a newer answer, held locks are lost at I + T/2 (errc::quorum_unreachable):
// T/8 earlier, the margin for delays and clock rates. A hold that starts without an answer in
// the last T/8 sends a sync at once, and counts from T/6 before its start (it was just granted
// through the leader).
#pragma once

#include "session_ops.hpp"

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>

namespace zkr::detail {

class quorum_check {
  public:
    using clock = std::chrono::steady_clock;

    /// Checks on `session`, whose member it is. `timeout`: the negotiated T; `unreachable`:
    /// the holds are no longer safe, tell their holders (driver strand).
    quorum_check(session_ops& session, std::function<std::chrono::milliseconds()> timeout,
                 std::function<void()> unreachable);

    /// A hold began (driver strand), ended (any thread: a handle may be dropped anywhere).
    void hold_began();
    void hold_ended();
    /// The session's server just revalidated the session with the leader (a reconnection).
    /// Driver strand.
    void confirmed_now();
    /// Stops for good (the session ended). Driver strand.
    void stop();

  private:
    void start();
    void send_sync();
    void arm();
    void on_timer();

    /// Runs `f` on the driver strand while the session lives.
    template <class F>
    auto while_alive(F f);

    session_ops& session_;
    std::function<std::chrono::milliseconds()> timeout_;
    std::function<void()> unreachable_;
    std::atomic<int> holds_{0};

    // Driver strand.
    boost::asio::steady_timer timer_;
    bool running_ = false;
    bool stopped_ = false;
    bool in_flight_ = false;
    bool reported_ = false;
    clock::time_point confirmed_{};  // issue time of the newest answered sync
    clock::time_point last_sent_{};
};

}  // namespace zkr::detail
