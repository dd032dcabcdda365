#include "quorum_check.hpp"

#include "log.hpp"

#include <boost/assert.hpp>

#include <algorithm>

namespace zkr::detail {

namespace {
constexpr const char* channel = "session";
}

quorum_check::quorum_check(session_ops& session, std::function<std::chrono::milliseconds()> timeout,
                           std::function<void()> unreachable)
    : session_(session),
      timeout_(std::move(timeout)),
      unreachable_(std::move(unreachable)),
      timer_(session.strand()) {}

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
}

void quorum_check::start() {
    if (running_ || stopped_ || holds_.load() == 0) {
        return;
    }
    running_ = true;
    reported_ = false;
    const auto t = timeout_();
    const auto now = clock::now();
    if (now - confirmed_ > t / 8) {
        // Granted through the leader moments ago (a create or a deletion it committed); what
        // the leader last heard of us is not known more precisely until this sync is answered.
        confirmed_ = std::max(confirmed_, now - t / 6);
        send_sync();
    }
    arm();
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
                      if (!ec && sent > confirmed_) {
                          confirmed_ = sent;
                          reported_ = false;
                      }
                  }));
}

void quorum_check::arm() {
    const auto t = timeout_();
    const auto now = clock::now();
    // A sync that is due but could not go (one still unanswered, or no connection): look again
    // in T/8, not at once.
    auto wake = last_sent_ + t / 8;
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
    if (stopped_ || holds_.load() == 0) {
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
    if (now >= last_sent_ + t / 8) {
        send_sync();
    }
    arm();
}

}  // namespace zkr::detail
