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
//
// Answered writes count as answered syncs. A follower (or an observer) forwards every write,
// create, delete, setData, multi, to the leader as it forwards a sync (FollowerRequestProcessor),
// and answers it only once the leader's commit of it came back (CommitProcessor). A write that
// fails on the node's state (no node, node exists, bad version, not empty) is no exception: the
// leader turns it into an error transaction and proposes it like any other (it takes a zxid).
// So a write sent at I and answered proves what a sync sent at I and answered proves, and a
// session that writes at least every T/8 while it holds sends no sync at all. Errors of the
// session or the connection (connection loss, expiry, closing) prove nothing.
//
// Where. Only a server that has a leader to be cut off from needs the check. The ensemble's
// dynamic configuration, /zookeeper/config, says which: a standalone server (ZooKeeper 3.8)
// answers it with no data at all, an ensemble with one "server.N=..." line per member, voter
// or observer (an observer relays touches and forwards writes as a follower does). With one
// member listed (or none) the server a session talks to is the leader itself, or not serving;
// the check then sends nothing. The configuration is read at the session's first hold; a
// standalone server's never changes (reconfig is disabled in standalone mode), an ensemble's is
// watched, since a reconfig can grow or shrink it. Until the answer, the check runs.
#pragma once

#include "session_seam.hpp"

#include <zkr/watch.hpp>
#include <zkr/znode.hpp>

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string_view>

namespace zkr::detail {

class quorum_check {
  public:
    using clock = std::chrono::steady_clock;
    /// Reads /zookeeper/config, with a watch when asked to (the session's dynamic
    /// configuration, whatever its chroot).
    using config_reader =
        std::function<void(bool watch, handler<void(error_code, node_data, zkr::watch)>)>;

    /// Checks on `session`, whose member it is. `timeout`: the negotiated T; `unreachable`:
    /// the holds are no longer safe, tell their holders (driver strand).
    quorum_check(session_seam& session, std::function<std::chrono::milliseconds()> timeout,
                 std::function<void()> unreachable, config_reader read_config);

    /// A hold began (driver strand), ended (any thread: a handle may be dropped anywhere).
    void hold_began();
    void hold_ended();
    /// The session's server just revalidated the session with the leader (a reconnection).
    /// Driver strand.
    void confirmed_now();
    /// Stops for good (the session ended). Driver strand.
    void stop();
    /// Starts over after stop(), for a renewed session's next generation: nothing known of
    /// its ensemble yet. Driver strand.
    void renew();

    /// `h`, made to count as a confirmation once answered when the check needs one (a hold
    /// lasts, and the servers may have a leader apart): for the session's writes. Any thread;
    /// `h` runs on the driver strand.
    template <class... Results>
    handler<void(error_code, Results...)> confirming(handler<void(error_code, Results...)> h) {
        if (holds_.load(std::memory_order_relaxed) == 0 ||
            ensemble_.load(std::memory_order_relaxed) == members::one) {
            return h;
        }
        return [this, alive = session_.weak_from_this(), sent = clock::now(), h = std::move(h)](
                   error_code ec, Results... results) mutable {
            if (ordered_through_leader(ec) && alive.lock()) {
                confirmed_at(sent);
            }
            std::move(h)(ec, std::move(results)...);
        };
    }

    /// The members a dynamic configuration lists ("server.N=..." lines); 0 for a standalone
    /// server's (empty).
    static int members_in(std::string_view config) noexcept;

    /// True when a write answered with `ec` went through the leader (see the file comment).
    static bool ordered_through_leader(error_code ec) noexcept;

  private:
    /// What /zookeeper/config said: one member (or none), or several.
    enum class members { unknown, one, several };

    /// Starts checking if a hold needs it; `ask`: read the configuration first if unknown.
    void start(bool ask = true);
    void send_sync();
    void arm();
    void on_timer();
    /// A request sent at `sent` was answered through the leader.
    void confirmed_at(clock::time_point sent);
    /// When the next sync is due: T/8 after the newest confirmation or sync sent.
    clock::time_point next_due(std::chrono::milliseconds t) const;
    void read_config();
    void on_config(error_code ec, const std::string& config, zkr::watch watch);

    /// Runs `f` on the driver strand while the session lives.
    template <class F>
    auto while_alive(F f);

    session_seam& session_;
    std::function<std::chrono::milliseconds()> timeout_;
    std::function<void()> unreachable_;
    config_reader read_config_;
    std::atomic<int> holds_{0};
    std::atomic<members> ensemble_{members::unknown};

    // Driver strand.
    boost::asio::steady_timer timer_;
    bool running_ = false;
    bool stopped_ = false;
    bool in_flight_ = false;
    bool reported_ = false;
    bool reading_config_ = false;
    bool following_config_ = false;  // the configuration lists members: watch it
    zkr::watch config_watch_;
    clock::time_point confirmed_{};  // issue time of the newest answered sync or write
    clock::time_point last_sent_{};
};

}  // namespace zkr::detail
