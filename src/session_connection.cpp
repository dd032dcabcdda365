// The connection of a session: connecting, closing, the C client's state changes, the timers and
// the listeners. What to do at each event is connection_fsm's decision (connection_fsm.hpp, no
// I/O); this carries it out. Driver strand unless said otherwise.
#include "session_impl.hpp"

#include "connect_string.hpp"
#include "log.hpp"

#include <zookeeper/zookeeper.h>

#include <cstring>

namespace zkr::detail {
namespace {

namespace asio = boost::asio;

constexpr std::chrono::milliseconds min_session_timeout{100};
constexpr std::chrono::milliseconds max_session_timeout{24 * 60 * 60 * 1000};

constexpr const char* channel = log::channels::session;

}  // namespace

const char* session_state_name(session_state s) noexcept {
    switch (s) {
        case session_state::not_started:
            return "not_started";
        case session_state::connecting:
            return "connecting";
        case session_state::connected:
            return "connected";
        case session_state::suspended:
            return "suspended";
        case session_state::expired:
            return "expired";
        case session_state::auth_failed:
            return "auth_failed";
        case session_state::closed:
            return "closed";
    }
    return "unknown";
}

void session_impl::connect(handler<void(error_code)> h) {
    auto waiter = waiter_list<void(error_code)>::prepare(std::move(h), strand(), completions());
    asio::post(strand(), [self = self(), waiter = std::move(waiter)]() mutable {
        const auto decision = self->fsm_.on_connect_request();
        if (decision.step == connection_fsm::connect_step::done) {
            waiter.complete(decision.error);
            return;
        }
        if (decision.step == connection_fsm::connect_step::join) {
            self->connect_waiters_.add(std::move(waiter));
            return;
        }
        const auto& config = self->config_;
        if (auto ec = validate_connect_string(config.hosts)) {
            waiter.complete(ec);
            return;
        }
        // The C client derives its handshake deadline from the requested timeout and keeps it in
        // an int: out of this range it cannot connect at all, which would look like a network
        // fault. The server clamps further into its own [min, max]SessionTimeout.
        if (config.session_timeout < min_session_timeout ||
            config.session_timeout > max_session_timeout || config.connect_timeout.count() <= 0) {
            waiter.complete(make_error_code(errc::invalid_argument));
            return;
        }
        if (self->tunnels_) {
            if (auto ec = self->tunnels_->config_error()) {
                waiter.complete(ec);
                return;
            }
            self->tunnels_->admit_only([weak = self->weak_self()](std::uint16_t peer_port) {
                auto owner = weak.lock();
                return owner && peer_port != 0 &&
                       owner->current_transport()->client_port() == peer_port;
            });
            self->tunnels_->forget_failures();
        }
        const auto connecting = self->fsm_.begin_connecting();
        self->connect_waiters_.add(std::move(waiter));
        if (!self->open_client(config.resume)) {
            self->connect_waiters_.complete_all(make_error_code(errc::invalid_connect_string));
            self->shut_down({});
            return;
        }
        self->run(connecting);
        ZKR_LOG(debug, channel, "connecting to " << config.hosts);
    });
}

bool session_impl::open_client(const client_id& resume) {
    const auto& config = config_;
    std::string hosts;
    {
        // The servers as set_servers last listed them, under the configuration's chroot.
        std::lock_guard lock(transport_mutex_);
        hosts = servers_.empty()
                    ? config.hosts
                    : servers_ + config.hosts.substr(config.hosts.size() - chroot_length_);
    }
    if (!transport_->open(client_hosts(hosts), static_cast<int>(config.session_timeout.count()),
                          resume.id, resume.password, weak_self())) {
        ZKR_LOG(error, channel,
                "zookeeper_init failed for '" << config.hosts << "': " << std::strerror(errno));
        return false;
    }
    if (!config.digest_credentials.empty()) {
        const auto& cred = config.digest_credentials;
        transport_->call([&](zhandle_t* zh) {
            return zoo_add_auth(zh, "digest", cred.data(), static_cast<int>(cred.size()), nullptr,
                                nullptr);
        });
    }
    return true;
}

std::string session_impl::client_hosts(const std::string& hosts) {
    return tunnels_ ? tunnels_->route(hosts) : c_client_hosts(hosts);
}

error_code session_impl::connect_error(error_code ec) const {
    if (ec == errc::connect_timeout && tunnels_) {
        if (auto tls = tunnels_->latest_failure()) {
            return tls;  // every attempt failed in TLS: the log has OpenSSL's reason
        }
    }
    return ec;
}

void session_impl::renew() {
    // The old generation's holders have been told of the expiry and its handle is closing: its
    // requests and watches end with session_expired there. What held something in it hears
    // nothing more; what lasts hears `renewed` once the new session is connected.
    listeners_.end_generation();
    {
        std::lock_guard lock(transport_mutex_);
        transport_ = std::make_shared<transport>(strand(), io_thread_);
    }
    quorum_.renew();
    ZKR_LOG(warning, channel,
            "session 0x" << std::hex << session_id_.load() << std::dec
                         << " expired: opening a new one (generation " << fsm_.generation() + 1
                         << ")");
    // No session until the new one is granted: a node the old one owned is nobody's here.
    session_id_ = 0;
    run(fsm_.begin_renewal());
    if (!open_client(client_id{})) {
        shut_down({});
    }
}

void session_impl::on_client_state(int state, std::int64_t id, int timeout_ms,
                                   const std::array<char, 16>& password) {
    if (state == ZOO_CONNECTED_STATE) {
        session_id_ = id;
        {
            std::lock_guard lock(password_mutex_);
            password_ = password;
        }
        run(fsm_.on_connected(std::chrono::milliseconds(timeout_ms)));
    } else if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE) {
        run(fsm_.on_connecting());
    } else if (state == ZOO_EXPIRED_SESSION_STATE) {
        run(fsm_.on_expired());
    } else if (state == ZOO_AUTH_FAILED_STATE) {
        run(fsm_.on_auth_failed());
    }
}

bool session_impl::on_client_failure(error_code reason) {
    if (!fsm_.fails_connect()) {
        return false;
    }
    ZKR_LOG(error, channel, "cannot connect to '" << config_.hosts << "': " << reason.message());
    connect_waiters_.complete_all(reason);
    asio::post(strand(), [self = self()] { self->shut_down({}); });
    return true;
}

void session_impl::arm_timer(connection_fsm::timer t, std::chrono::milliseconds after) {
    deadlines_.set(static_cast<std::size_t>(t), std::chrono::steady_clock::now() + after);
    schedule_timer();
}

void session_impl::cancel_timer(connection_fsm::timer t) {
    deadlines_.clear(static_cast<std::size_t>(t));
    schedule_timer();
}

void session_impl::schedule_timer() {
    const auto earliest = deadlines_.earliest();
    if (earliest == timer_waits_for_) {
        return;  // waiting for it already (or for nothing, with nothing armed)
    }
    timer_waits_for_ = earliest;
    ++timer_wait_;  // the wait in progress, if any, is stale from here on
    if (!earliest) {
        timer_.cancel();
        return;
    }
    timer_.expires_at(*earliest);  // cancels the wait in progress
    timer_.async_wait([weak = weak_self(), wait = timer_wait_](error_code ec) {
        auto self = weak.lock();
        // A stale wait may complete without an error: its expiry was queued before the
        // deadlines changed.
        if (ec || !self || wait != self->timer_wait_) {
            return;
        }
        self->timer_waits_for_.reset();
        self->on_deadlines_passed();
    });
}

void session_impl::on_deadlines_passed() {
    const auto now = std::chrono::steady_clock::now();
    while (const auto passed = deadlines_.take_passed(now)) {
        on_timer(static_cast<connection_fsm::timer>(*passed));
    }
    schedule_timer();
}

void session_impl::on_timer(connection_fsm::timer t) {
    const auto a = fsm_.on_timer(t);
    if (a.none()) {
        return;  // overtaken by an event
    }
    using timer = connection_fsm::timer;
    if (t == timer::connect) {
        ZKR_LOG(warning, channel,
                "no server of '" << config_.hosts << "' answered within "
                                 << config_.connect_timeout.count() << " ms");
    } else if (t == timer::deadline) {
        ZKR_LOG(warning, channel,
                "disconnected for " << local_loss_delay().count()
                                    << " ms: the server may expire the session; locks held "
                                       "through it are considered lost");
    } else if (t == timer::give_up && a.left) {
        ZKR_LOG(warning, channel,
                "session 0x" << std::hex << session_id_.load() << std::dec
                             << ": no server kept it within its timeout ("
                             << negotiated_timeout().count() << " ms): ending it as expired");
    }
    run(a);
}

void session_impl::run(const connection_fsm::actions& a) {
    const auto now = fsm_.state();
    if (a.left) {
        if (const auto& o = observer()) {
            o->session_state_changed(*a.left, now);
        }
        ZKR_LOG(info, channel,
                "session 0x" << std::hex << session_id_.load() << std::dec << ": "
                             << session_state_name(*a.left) << " -> " << session_state_name(now));
        state_waiters_.complete_all(error_code{}, now);
    }
    for (std::size_t i = 0; i < connection_fsm::timer_count; ++i) {
        const auto t = static_cast<connection_fsm::timer>(i);
        if (a.cancels(t)) {
            cancel_timer(t);
        }
        if (const auto& after = a.arms(t)) {
            arm_timer(t, *after);
        }
    }
    if (a.quorum_confirmed) {
        quorum_.confirmed_now();
    }
    if (a.quorum_stop) {
        quorum_.stop();
    }
    if (a.complete_connect) {
        connect_waiters_.complete_all(connect_error(*a.complete_connect));
    }
    if (a.check_chroot) {
        check_chroot_then_complete_connect();
    }
    if (a.notify) {
        notify(*a.notify);
    }
    if (a.close_handle) {
        transport_->close(final_error(), {});
    }
    if (a.shut_down) {
        shut_down({});
    }
    if (a.renew) {
        renew();
    }
}

void session_impl::check_chroot_then_complete_connect() {
    if (chroot_length_ <= 1) {
        connect_waiters_.complete_all(error_code{});
        return;
    }
    // Under a chroot that does not exist every request fails with "no node": a cause nobody
    // would guess from that. Say it at connection time instead.
    exists("/", [self = self()](error_code ec, std::optional<stat> st) {
        if (!ec && !st) {
            ZKR_LOG(error, channel,
                    "the chroot of '" << self->config_.hosts << "' does not exist on the server");
            self->connect_waiters_.complete_all(make_error_code(errc::chroot_missing));
            self->shut_down({});
            return;
        }
        self->connect_waiters_.complete_all(error_code{});
    });
}

void session_impl::hold_began() {
    if (config_.quorum_check) {
        quorum_.hold_began();
    }
}

void session_impl::hold_ended() {
    if (config_.quorum_check) {
        quorum_.hold_ended();
    }
}

void session_impl::wait_state(session_state seen, handler<void(error_code, session_state)> h) {
    using list = waiter_list<void(error_code, session_state)>;
    auto waiter = list::prepare(std::move(h), strand(), completions());
    on_driver([self = self(), seen, waiter = std::move(waiter)]() mutable {
        const auto now = self->fsm_.state();
        if (now != seen) {
            waiter.complete(error_code{}, now);
        } else if (is_final(now)) {
            // A final state never changes: waiting would hang.
            waiter.complete(make_error_code(errc::session_closed), now);
        } else {
            self->state_waiters_.add(std::move(waiter));
        }
    });
}

void session_impl::close(handler<void(error_code)> h) {
    asio::post(strand(), [self = self(), h = std::move(h)]() mutable {
        self->shut_down(pending_handler<void(error_code)>(std::move(h), self->completions()));
    });
}

void session_impl::close_detached() {
    asio::post(strand(), [self = self()] { self->shut_down({}); });
}

void session_impl::shut_down(pending_handler<void(error_code)> done) {
    run(fsm_.on_close());
    // The session stays alive until the C handle is freed: completions still reach it.
    transport_->close(final_error(), [self = self(), done = std::move(done)]() mutable {
        if (self->tunnels_) {
            self->tunnels_->close();  // the C client's goodbye went through them
        }
        self->open_on_thread_.release();
        if (done) {
            done.complete(error_code{});
        }
    });
}

error_code session_impl::set_servers(const std::string& hosts) {
    if (auto ec = validate_connect_string(hosts)) {
        return ec;
    }
    const int rc = current_transport()->set_servers(client_hosts(hosts));
    if (rc == ZOK) {
        // A renewal connects to these.
        std::lock_guard lock(transport_mutex_);
        servers_ = hosts.substr(0, hosts.find('/'));
    }
    if (rc == transport::invalid_state) {
        return make_error_code(errc::not_connected);
    }
    return from_zk_code(rc);
}

error_code session_impl::unavailable_error() const noexcept {
    const auto ec = final_error();
    return ec ? ec : make_error_code(errc::not_connected);
}

}  // namespace zkr::detail
