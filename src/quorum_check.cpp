#include "quorum_check.hpp"

#include "access.hpp"
#include "log.hpp"
#include "watch_state.hpp"

#include <boost/assert.hpp>

#include <algorithm>

namespace zkr::detail {

namespace {
constexpr const char* channel = "session";
}

quorum_check::quorum_check(session_seam& session,
                           std::function<std::chrono::milliseconds()> timeout,
                           std::function<void()> unreachable, config_reader read_config)
    : session_(session),
      timeout_(std::move(timeout)),
      unreachable_(std::move(unreachable)),
      read_config_(std::move(read_config)),
      timer_(session.strand()) {}

int quorum_check::members_in(std::string_view config) noexcept {
    int members = 0;
    while (!config.empty()) {
        const auto end = config.find('\n');
        if (config.substr(0, 7) == "server.") {
            ++members;
        }
        config.remove_prefix(end == std::string_view::npos ? config.size() : end + 1);
    }
    return members;
}

bool quorum_check::ordered_through_leader(error_code ec) noexcept {
    return !ec || ec == zk_errc::no_node || ec == zk_errc::node_exists ||
           ec == zk_errc::bad_version || ec == zk_errc::not_empty ||
           ec == zk_errc::no_children_for_ephemerals;
}

template <class F>
auto quorum_check::while_alive(F f) {
    // The check is a member of the session: alive while the session is.
    return [alive = session_.weak_from_this(), f = std::move(f)](auto&&... args) mutable {
        if (alive.lock()) {
            f(std::forward<decltype(args)>(args)...);
        }
    };
}

void quorum_check::hold_began() {
    // On the driver strand, where acquisitions complete: nothing posted on the way to the lock.
    BOOST_ASSERT(session_.running_in_driver());
    if (holds_.fetch_add(1) == 0) {
        start();
    }
}

void quorum_check::hold_ended() {
    holds_.fetch_sub(1);  // the timer notices and stops at its next turn
}

void quorum_check::confirmed_now() {
    // As good as a sync sent and answered now: the next one is due T/8 from here.
    const auto now = clock::now();
    confirmed_ = std::max(confirmed_, now);
    last_sent_ = std::max(last_sent_, now);
    reported_ = false;
}

void quorum_check::stop() {
    stopped_ = true;
    timer_.cancel();
    config_watch_ = zkr::watch();
}

void quorum_check::renew() {
    // What the old generation had in flight ends with its handle; its answers find the check
    // starting over and change nothing but the flags reset here.
    stopped_ = false;
    running_ = false;
    in_flight_ = false;
    reported_ = false;
    reading_config_ = false;
    following_config_ = false;
    ensemble_ = members::unknown;
    confirmed_ = clock::time_point{};
    last_sent_ = clock::time_point{};
}

void quorum_check::confirmed_at(clock::time_point sent) {
    if (sent > confirmed_) {
        confirmed_ = sent;
        reported_ = false;
    }
}

quorum_check::clock::time_point quorum_check::next_due(std::chrono::milliseconds t) const {
    return std::max(last_sent_, confirmed_) + t / 8;
}

void quorum_check::start(bool ask) {
    if (running_ || stopped_ || holds_.load() == 0 || ensemble_.load() == members::one) {
        return;
    }
    running_ = true;
    reported_ = false;
    const auto t = timeout_();
    const auto now = clock::now();
    if (now - confirmed_ > t / 8) {
        // Granted through the leader moments ago (a create or a deletion it committed), or
        // answered until now by the ensemble's only member, the leader itself; what the leader
        // last heard of us is not known more precisely until a sync is answered.
        confirmed_ = std::max(confirmed_, now - t / 6);
    }
    if (ask && ensemble_.load() == members::unknown) {
        read_config();  // its answer sends the sync, if there is a leader to reach
    } else if (now >= next_due(t)) {
        send_sync();
    }
    arm();
}

void quorum_check::read_config() {
    if (reading_config_ || stopped_) {
        return;
    }
    reading_config_ = true;
    read_config_(following_config_,
                 while_alive([this](error_code ec, node_data config, zkr::watch watch) {
                     on_config(ec, config.data, std::move(watch));
                 }));
}

void quorum_check::on_config(error_code ec, const std::string& config, zkr::watch watch) {
    reading_config_ = false;
    if (stopped_) {
        return;
    }
    if (ec) {
        // Not known (any more): the check runs, and its next turn asks again (not at once: a
        // disconnected session would ask in a loop).
        ensemble_ = members::unknown;
        start(false);
        return;
    }
    if (!config.empty() && !following_config_) {
        // An ensemble's configuration: read it again, watched this time (a reconfig can turn
        // it). A standalone server's is empty for good and is not watched.
        following_config_ = true;
        read_config();
    }
    if (watch.armed()) {
        config_watch_ = std::move(watch);
        access::get_impl(config_watch_)->wait_here(while_alive([this](error_code wec, watch_event) {
            if (!wec && !stopped_) {
                read_config();
            }
        }));
    }
    const int members = members_in(config);
    ensemble_ = members > 1 ? members::several : members::one;
    ZKR_LOG(debug, channel,
            "the ensemble lists " << members << " member(s): the quorum check "
                                  << (members > 1 ? "runs" : "is not needed"));
    if (ensemble_ == members::one) {
        if (running_) {
            running_ = false;
            reported_ = false;
            timer_.cancel();
        }
        return;
    }
    if (!running_) {
        start();
    } else if (clock::now() >= next_due(timeout_())) {
        send_sync();
    }
}

void quorum_check::send_sync() {
    if (in_flight_ || session_.state() != session_state::connected) {
        return;
    }
    in_flight_ = true;
    const auto sent = clock::now();
    last_sent_ = sent;
    session_.sync("/", while_alive([this, sent](error_code ec) {
                      in_flight_ = false;
                      if (!ec) {
                          confirmed_at(sent);
                      }
                  }));
}

void quorum_check::arm() {
    const auto t = timeout_();
    const auto now = clock::now();
    // A sync that is due but could not go (one still unanswered, or no connection): look again
    // in T/8, not at once.
    auto wake = next_due(t);
    if (wake <= now) {
        wake = now + t / 8;
    }
    // The deadline counts only while connected: a disconnection has its own (T/4 after it).
    if (!reported_ && session_.state() == session_state::connected) {
        wake = std::min(wake, confirmed_ + t / 2);
    }
    timer_.expires_at(wake);
    timer_.async_wait(while_alive([this](error_code ec) {
        if (!ec) {
            on_timer();
        }
    }));
}

void quorum_check::on_timer() {
    if (stopped_ || holds_.load() == 0 || ensemble_.load() == members::one) {
        running_ = false;
        return;
    }
    const auto t = timeout_();
    const auto now = clock::now();
    // While disconnected, the session's own deadline (T/4 after the disconnect) applies.
    if (session_.state() == session_state::connected && !reported_ && now >= confirmed_ + t / 2) {
        reported_ = true;
        ZKR_LOG(
            warning, channel,
            "no answer through the ensemble's leader for "
                << std::chrono::duration_cast<std::chrono::milliseconds>(now - confirmed_).count()
                << " ms: the leader may expire the session; locks held through it are "
                   "considered lost");
        unreachable_();
    }
    if (ensemble_.load() == members::unknown) {
        read_config();
    }
    if (now >= next_due(t)) {
        send_sync();
    }
    arm();
}

}  // namespace zkr::detail
