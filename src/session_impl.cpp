// The session state machine and the ZooKeeper requests. The C client's callbacks live in
// c_bridge.cpp, its I/O in transport.cpp; everything here runs on the driver strand unless it
// says otherwise.
#include "session_impl.hpp"

#include "c_bridge.hpp"
#include "connect_string.hpp"
#include "io_thread.hpp"
#include "log.hpp"
#include "observed_request.hpp"
#include "path.hpp"
#include "watch_state.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <zookeeper/zookeeper.h>

#include <cstring>

namespace zkr::detail {
namespace {

namespace asio = boost::asio;

constexpr std::chrono::milliseconds min_session_timeout{100};
constexpr std::chrono::milliseconds max_session_timeout{24 * 60 * 60 * 1000};

constexpr const char* channel = log::channels::session;

bool is_final(session_state s) {
    return s == session_state::expired || s == session_state::auth_failed ||
           s == session_state::closed;
}

using io_strand = asio::strand<asio::io_context::executor_type>;
using any_strand = asio::strand<asio::any_io_executor>;

/// A strand over the concrete io_context executor when that is what we were given: a Boost 1.81
/// strand queries its inner executor's blocking property on every execute, and through an
/// any_io_executor each such query allocates its answer (a third of the allocations of an
/// uncontended lock cycle, measured with bench/callgrind.py). A strand given to us is kept.
asio::any_io_executor make_session_strand(const asio::any_io_executor& ex) {
    if (ex.target<io_strand>() != nullptr || ex.target<any_strand>() != nullptr) {
        return ex;
    }
    if (const auto* io = ex.target<asio::io_context::executor_type>()) {
        return asio::make_strand(*io);
    }
    return asio::make_strand(ex);
}

}  // namespace

const char* to_string_impl(session_state s) noexcept {
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

struct session_impl::acl_storage {
    explicit acl_storage(acl_list acl) : entries(std::move(acl)) {
        c_entries.reserve(entries.size());
        for (auto& e : entries) {
            c_entries.push_back(ACL{e.permissions, Id{e.scheme.data(), e.id.data()}});
            bytes += 12 + e.scheme.size() + e.id.size();  // permissions, two strings
        }
        vector.count = static_cast<std::int32_t>(c_entries.size());
        vector.data = c_entries.data();
    }
    acl_list entries;  // owns the strings c_entries points into
    std::vector<ACL> c_entries;
    ACL_vector vector{};
    std::size_t bytes = 4;  // as serialised in a create request
};

namespace {

/// A request's fixed part: the length prefix, the request header, the fields around the path
/// and the data, with room to spare.
constexpr std::size_t request_overhead = 64;

/// Room kept in the packet that re-arms watches for its header and the relative zxid.
constexpr std::size_t watch_packet_overhead = 1024;

}  // namespace

error_code session_impl::check_request_size(const std::string& path, std::size_t data_bytes) const {
    const auto bytes = request_overhead + chroot_length_ + path.size() + data_bytes + acl_->bytes;
    if (bytes <= config_.max_packet_bytes) {
        return {};
    }
    ZKR_LOG(error, channel,
            "a request of " << bytes << " bytes on " << path
                            << " exceeds the servers' packet limit of " << config_.max_packet_bytes
                            << " bytes: refused");
    return make_error_code(errc::request_too_large);
}

std::size_t session_impl::watch_bytes(const std::string& path) const noexcept {
    return 4 + chroot_length_ + path.size();
}

error_code session_impl::check_watch_budget(const std::string& path) {
    const auto armed = transport_->registry().watch_bytes();
    if (armed + watch_bytes(path) + watch_packet_overhead <= config_.max_packet_bytes) {
        watch_budget_full_.store(false, std::memory_order_relaxed);
        return {};
    }
    // A long queue meets the limit once per waiter past it: one line says it for all of them.
    if (!watch_budget_full_.exchange(true, std::memory_order_relaxed)) {
        ZKR_LOG(error, channel,
                "a watch on " << path << " refused: the session's watches (" << armed
                              << " bytes) would no longer fit in the " << config_.max_packet_bytes
                              << "-byte packet that re-arms them after a reconnect (further "
                                 "refusals are not logged until a watch is free)");
    }
    return make_error_code(errc::too_many_watches);
}

session_impl::executors session_impl::choose_executors(const asio::any_io_executor& ex,
                                                       bool dedicated_io_thread) {
    // With zkr's own thread the user's executor is used as given: this object may be destroyed
    // on that thread after the user's io_context (a close finishing there), and a strand of
    // ours over it could not be.
    if (dedicated_io_thread) {
        auto thread = io_thread::acquire();
        auto driver = asio::any_io_executor(asio::make_strand(thread->get_executor()));
        return {ex, std::move(thread), std::move(driver)};
    }
    auto user = make_session_strand(ex);
    return {user, nullptr, user};
}

session_impl::session_impl(asio::any_io_executor ex, session_config config)
    : session_impl(choose_executors(ex, config.dedicated_io_thread), std::move(config)) {}

session_impl::session_impl(executors ex, session_config config)
    : session_ops(ex.driver, ex.user, ex.thread, config.observer),
      config_(std::move(config)),
      io_thread_(std::move(ex.thread)),
      transport_(std::make_shared<transport>(strand(), io_thread_)),
      connect_timer_(strand()),
      deadline_timer_(strand()),
      give_up_timer_(strand()),
      stable_timer_(strand()),
      quorum_(
          *this, [this] { return negotiated_timeout(); },
          [this] { notify(session_event::quorum_unreachable); },
          [this](bool watch, handler<void(error_code, node_data, zkr::watch)> h) {
              read_config(watch, std::move(h));
          }),
      acl_(std::make_unique<acl_storage>(config_.acl)) {
    if (const auto slash = config_.hosts.find('/'); slash != std::string::npos) {
        chroot_length_ = config_.hosts.size() - slash;
    }
}

session_impl::~session_impl() {
    // Normally closed by now (the public session's destructor starts it). If not, the
    // transport frees the C handle when its last wait is gone.
    if (transport_->is_open()) {
        asio::post(strand(), [t = transport_, ec = final_error()] { t->close(ec, {}); });
    }
}

bool session_impl::running_in_driver() const noexcept {
    if (const auto* s = strand().target<io_strand>()) {
        return s->running_in_this_thread();
    }
    if (const auto* s = strand().target<any_strand>()) {
        return s->running_in_this_thread();
    }
    return false;
}

client_id session_impl::id() const {
    std::lock_guard lock(password_mutex_);
    return client_id{session_id_.load(), password_};
}

std::chrono::milliseconds session_impl::negotiated_timeout() const noexcept {
    return std::chrono::milliseconds(negotiated_timeout_ms_.load());
}

std::chrono::milliseconds session_impl::local_loss_delay() const noexcept {
    // The C client declares a connection dead after 2/3 of the timeout without a response, so at
    // the moment we hear of a disconnect up to 2/3 T may already have passed since the server
    // last heard from us. The server may expire us T after that: at the earliest T/3 from now.
    // A further T/12 covers network delay and clock-rate differences.
    return negotiated_timeout() / 4;
}

std::size_t session_impl::pending_operations() const noexcept {
    return transport_->registry().size();
}

void session_impl::connect(handler<void(error_code)> h) {
    auto waiter = waiter_list<void(error_code)>::prepare(std::move(h), strand(), completions());
    asio::post(strand(), [self = self(), waiter = std::move(waiter)]() mutable {
        const auto state = self->state_.load();
        if (state == session_state::connected || state == session_state::suspended) {
            waiter.complete(error_code{});
            return;
        }
        if (state == session_state::connecting) {
            self->connect_waiters_.add(std::move(waiter));
            return;
        }
        if (state != session_state::not_started) {
            waiter.complete(state == session_state::expired
                                ? make_error_code(zk_errc::session_expired)
                                : make_error_code(errc::session_closed));
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
        self->state_ = session_state::connecting;
        self->connect_waiters_.add(std::move(waiter));
        if (!self->transport_->open(c_client_hosts(config.hosts),
                                    static_cast<int>(config.session_timeout.count()),
                                    config.resume.id, config.resume.password, self->weak_self())) {
            ZKR_LOG(error, channel,
                    "zookeeper_init failed for '" << config.hosts << "': " << std::strerror(errno));
            self->connect_waiters_.complete_all(make_error_code(errc::invalid_connect_string));
            self->shut_down({});
            return;
        }
        if (!config.digest_credentials.empty()) {
            const auto& cred = config.digest_credentials;
            self->transport_->call([&](zhandle_t* zh) {
                return zoo_add_auth(zh, "digest", cred.data(), static_cast<int>(cred.size()),
                                    nullptr, nullptr);
            });
        }
        self->arm_connect_timer();
        ZKR_LOG(debug, channel, "connecting to " << config.hosts);
    });
}

void session_impl::arm_connect_timer() {
    connect_timer_.expires_after(config_.connect_timeout);
    connect_timer_.async_wait([weak = weak_self()](error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->state_.load() != session_state::connecting) {
            return;
        }
        ZKR_LOG(warning, channel,
                "no server of '" << self->config_.hosts << "' answered within "
                                 << self->config_.connect_timeout.count() << " ms");
        self->connect_waiters_.complete_all(make_error_code(errc::connect_timeout));
        self->shut_down({});
    });
}

void session_impl::on_client_state(int state, std::int64_t id, int timeout_ms,
                                   const std::array<char, 16>& password) {
    if (state == ZOO_CONNECTED_STATE) {
        session_id_ = id;
        negotiated_timeout_ms_ = timeout_ms;
        {
            std::lock_guard lock(password_mutex_);
            password_ = password;
        }
        apply_state(session_state::connected);
    } else if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE) {
        if (ever_connected_) {
            apply_state(session_state::suspended);
        }
    } else if (state == ZOO_EXPIRED_SESSION_STATE) {
        apply_state(session_state::expired);
    } else if (state == ZOO_AUTH_FAILED_STATE) {
        apply_state(session_state::auth_failed);
    }
}

bool session_impl::on_client_failure(error_code reason) {
    // Only a first connection fails for it: a session that was connected keeps retrying while
    // it lives (descriptors may come back), and its holders are told by the loss deadline.
    if (state_.load() != session_state::connecting || ever_connected_) {
        return false;
    }
    ZKR_LOG(error, channel, "cannot connect to '" << config_.hosts << "': " << reason.message());
    connect_waiters_.complete_all(reason);
    asio::post(strand(), [self = self()] { self->shut_down({}); });
    return true;
}

void session_impl::apply_state(session_state next) {
    const auto previous = state_.load();
    if (previous == next || (is_final(previous) && next != session_state::closed) ||
        previous == session_state::closed) {
        return;
    }
    state_ = next;
    if (const auto& o = observer()) {
        o->session_state_changed(previous, next);
    }
    ZKR_LOG(info, channel,
            "session 0x" << std::hex << session_id_.load() << std::dec << ": "
                         << to_string_impl(previous) << " -> " << to_string_impl(next));
    state_waiters_.complete_all(error_code{}, next);
    switch (next) {
        case session_state::connected:
            connect_timer_.cancel();
            deadline_timer_.cancel();
            quorum_.confirmed_now();  // the server has just validated the session with the leader
            confirm_recovery();
            if (!ever_connected_) {
                ever_connected_ = true;
                check_chroot_then_complete_connect();
            } else {
                notify(session_event::reconnected);
            }
            break;
        case session_state::suspended:
            notify(session_event::suspended);
            arm_deadline_timer();
            stable_timer_.cancel();
            if (!giving_up_) {
                giving_up_ = true;  // a connection that drops again soon does not restart it
                give_up_timer_.expires_after(negotiated_timeout());
                wait_to_give_up();
            }
            break;
        case session_state::expired:
        case session_state::auth_failed: {
            const auto ec = next == session_state::expired
                                ? make_error_code(zk_errc::session_expired)
                                : make_error_code(zk_errc::auth_failed);
            connect_timer_.cancel();
            deadline_timer_.cancel();
            give_up_timer_.cancel();
            stable_timer_.cancel();
            connect_waiters_.complete_all(ec);
            quorum_.stop();
            notify(session_event::expired);
            // The handle is useless now (every call returns ZINVALIDSTATE): free it.
            transport_->close(ec, {});
            break;
        }
        case session_state::closed:
            connect_timer_.cancel();
            deadline_timer_.cancel();
            give_up_timer_.cancel();
            stable_timer_.cancel();
            connect_waiters_.complete_all(make_error_code(errc::session_closed));
            quorum_.stop();
            notify(session_event::closed);
            break;
        default:
            break;
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

void session_impl::arm_deadline_timer() {
    deadline_timer_.expires_after(local_loss_delay());
    deadline_timer_.async_wait([weak = weak_self()](error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->state_.load() != session_state::suspended) {
            return;
        }
        ZKR_LOG(warning, channel,
                "disconnected for " << self->local_loss_delay().count()
                                    << " ms: the server may expire the session; locks held "
                                       "through it are considered lost");
        self->notify(session_event::deadline_passed);
    });
}

void session_impl::wait_to_give_up() {
    // No server kept the session for a whole session timeout: any server that knew it has
    // expired it by now, and one that does not know it (restarted with its data wiped: it
    // refuses us on every reconnection) never will; a server that drops every reconnection
    // (a packet over its limit, each time) keeps it alive for nothing. Waiting on would leave
    // acquisitions and elections waiting for good and the session's nodes blocking everyone:
    // the session ends here, as expired, and the server expires it for want of news.
    give_up_timer_.async_wait([weak = weak_self()](error_code ec) {
        auto self = weak.lock();
        if (ec || !self || !self->giving_up_) {
            return;
        }
        if (self->state_.load() == session_state::connected) {
            // Back, but not yet for long: look again when the connection has proved itself.
            self->give_up_timer_.expires_after(self->negotiated_timeout() / 3);
            self->wait_to_give_up();
            return;
        }
        if (self->state_.load() != session_state::suspended) {
            return;
        }
        ZKR_LOG(warning, channel,
                "session 0x" << std::hex << self->session_id_.load() << std::dec
                             << ": no server kept it within its timeout ("
                             << self->negotiated_timeout().count() << " ms): ending it as expired");
        self->apply_state(session_state::expired);
    });
}

void session_impl::confirm_recovery() {
    if (!giving_up_) {
        return;
    }
    // A reconnection counts once it has lasted a third of the timeout (a ping's interval).
    stable_timer_.expires_after(negotiated_timeout() / 3);
    stable_timer_.async_wait([weak = weak_self()](error_code ec) {
        auto self = weak.lock();
        if (ec || !self || self->state_.load() != session_state::connected) {
            return;
        }
        self->giving_up_ = false;
        self->give_up_timer_.cancel();
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
        const auto now = self->state_.load();
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
    apply_state(session_state::closed);
    // The session stays alive until the C handle is freed: completions still reach it.
    transport_->close(final_error(), [self = self(), done = std::move(done)]() mutable {
        if (done) {
            done.complete(error_code{});
        }
    });
}

error_code session_impl::set_servers(const std::string& hosts) {
    if (auto ec = validate_connect_string(hosts)) {
        return ec;
    }
    const int rc = transport_->set_servers(c_client_hosts(hosts));
    if (rc == transport::invalid_state) {
        return make_error_code(errc::not_connected);
    }
    return from_zk_code(rc);
}

error_code session_impl::final_error() const noexcept {
    switch (state_.load()) {
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

error_code session_impl::unavailable_error() const noexcept {
    const auto ec = final_error();
    return ec ? ec : make_error_code(errc::not_connected);
}

template <class Op, class Start>
void session_impl::start_request(std::unique_ptr<Op> op, Start start) {
    if (!running_in_driver()) {
        asio::post(strand(), [self = self(), op = std::move(op), start]() mutable {
            self->start_request(std::move(op), std::move(start));
        });
        return;
    }
    if (!transport_->is_open()) {
        op->fail_later(strand(), unavailable_error());
        return;
    }
    op->register_op();
    const int rc = transport_->call([&](zhandle_t* zh) { return start(zh, op.get()); });
    if (rc == ZOK) {
        static_cast<void>(op.release());  // the C client calls it back
        return;
    }
    op->unregister_op();
    auto ec = from_zk_code(rc);
    if (rc == ZINVALIDSTATE) {
        ec = unavailable_error() == errc::not_connected ? ec : unavailable_error();
    }
    op->fail_later(strand(), ec);
}

void session_impl::create(std::string path, std::string data, create_mode mode,
                          handler<void(error_code, created_node)> h, std::int64_t ttl_ms) {
    auto op = std::make_unique<create_op>(
        observe_round_trip(observer(), request_kind::create, quorum_.confirming(std::move(h))),
        transport_->registry(), std::move(path));
    if (auto ec = check_request_size(op->path, data.size())) {
        op->fail_later(strand(), ec);
        return;
    }
    op->data = std::move(data);
    start_request(std::move(op), [acl = &acl_->vector, mode, ttl_ms](zhandle_t* zh, create_op* o) {
        // zoo_acreate2_ttl with a ttl of -1 is zoo_acreate2 (what the C client does itself).
        return zoo_acreate2_ttl(zh, o->path.c_str(), o->data.data(),
                                static_cast<int>(o->data.size()), acl, to_c_mode(mode),
                                ttl_ms > 0 ? ttl_ms : -1, &bridge::on_created, o);
    });
}

void session_impl::remove(std::string path, int version, handler<void(error_code)> h) {
    auto op = std::make_unique<void_op>(
        observe_round_trip(observer(), request_kind::remove, quorum_.confirming(std::move(h))),
        transport_->registry(), std::move(path));
    start_request(std::move(op), [version](zhandle_t* zh, void_op* o) {
        return zoo_adelete(zh, o->path.c_str(), version, &bridge::on_void, o);
    });
}

/// The kind a read reports to the observer: its watching form counts as the read.
template <class Op>
constexpr request_kind request_kind_of() {
    if constexpr (std::is_same_v<Op, data_op> || std::is_same_v<Op, watch_data_op>) {
        return request_kind::get_data;
    } else if constexpr (std::is_same_v<Op, exists_op> || std::is_same_v<Op, watch_exists_op>) {
        return request_kind::exists;
    } else {
        return request_kind::get_children;
    }
}

// The three reads share one shape: an optional watch, then one C call chosen by the op type.
template <class Op>
void session_impl::read(std::string path, int watch_type, handler<typename Op::signature> h,
                        bool server_config) {
    auto op =
        std::make_unique<Op>(observe_round_trip(observer(), request_kind_of<Op>(), std::move(h)),
                             transport_->registry(), std::move(path));
    if constexpr (Op::watching) {
        if (auto ec = check_watch_budget(op->path)) {
            op->fail_later(strand(), ec);
            return;
        }
        auto state =
            std::make_shared<watch_state>(weak_self(), strand(), executor(), op->path, watch_type);
        op->watcher = std::make_unique<watch_context>(std::move(state), &transport_->registry(),
                                                      watch_bytes(op->path));
        op->watcher->state->c_context = op->watcher.get();
    }
    start_request(std::move(op), [server_config](zhandle_t* zh, Op* o) {
        static_cast<void>(server_config);  // read by get_data's instantiation only
        watcher_fn fn = Op::watching ? &bridge::on_watch : nullptr;
        void* ctx = o->watcher.get();
        const char* p = o->path.c_str();
        if constexpr (request_kind_of<Op>() == request_kind::get_data) {
            if (server_config) {
                return zoo_awgetconfig(zh, fn, ctx, &bridge::on_data<Op>, o);
            }
            return zoo_awget(zh, p, fn, ctx, &bridge::on_data<Op>, o);
        } else if constexpr (request_kind_of<Op>() == request_kind::exists) {
            return zoo_awexists(zh, p, fn, ctx, &bridge::on_exists<Op>, o);
        } else {
            return zoo_awget_children2(zh, p, fn, ctx, &bridge::on_children<Op>, o);
        }
    });
}

void session_impl::read_config(bool watch, handler<void(error_code, node_data, zkr::watch)> h) {
    // zoo_awgetconfig reads the node as it is, outside the session's chroot.
    if (watch) {
        read<watch_data_op>(ZOO_CONFIG_NODE, ZWATCHTYPE_DATA, std::move(h), true);
        return;
    }
    read<data_op>(
        ZOO_CONFIG_NODE, 0,
        [h = std::move(h)](error_code ec, node_data config) mutable {
            std::move(h)(ec, std::move(config), zkr::watch());
        },
        true);
}

void session_impl::get_data(std::string path, handler<void(error_code, node_data)> h) {
    read<data_op>(std::move(path), 0, std::move(h));
}
void session_impl::watch_data(std::string path,
                              handler<void(error_code, node_data, zkr::watch)> h) {
    read<watch_data_op>(std::move(path), ZWATCHTYPE_DATA, std::move(h));
}
void session_impl::exists(std::string path, handler<void(error_code, std::optional<stat>)> h) {
    read<exists_op>(std::move(path), 0, std::move(h));
}
void session_impl::watch_exists(std::string path,
                                handler<void(error_code, std::optional<stat>, zkr::watch)> h) {
    read<watch_exists_op>(std::move(path), ZWATCHTYPE_DATA, std::move(h));
}
void session_impl::get_children(std::string path, handler<void(error_code, children)> h) {
    read<children_op>(std::move(path), 0, std::move(h));
}
void session_impl::watch_children(std::string path,
                                  handler<void(error_code, children, zkr::watch)> h) {
    read<watch_children_op>(std::move(path), ZWATCHTYPE_CHILD, std::move(h));
}

void session_impl::set_data(std::string path, std::string data, int version,
                            handler<void(error_code, stat)> h) {
    auto op = std::make_unique<set_op>(
        observe_round_trip(observer(), request_kind::set_data, quorum_.confirming(std::move(h))),
        transport_->registry(), std::move(path));
    if (auto ec = check_request_size(op->path, data.size())) {
        op->fail_later(strand(), ec);
        return;
    }
    op->data = std::move(data);
    start_request(std::move(op), [version](zhandle_t* zh, set_op* o) {
        return zoo_aset(zh, o->path.c_str(), o->data.data(), static_cast<int>(o->data.size()),
                        version, &bridge::on_set, o);
    });
}

void session_impl::sync(std::string path, handler<void(error_code)> h) {
    auto op =
        std::make_unique<void_op>(observe_round_trip(observer(), request_kind::sync, std::move(h)),
                                  transport_->registry(), std::move(path));
    start_request(std::move(op), [](zhandle_t* zh, void_op* o) {
        return zoo_async(zh, o->path.c_str(), &bridge::on_sync, o);
    });
}

void session_impl::multi(std::vector<op> ops, handler<void(error_code, std::vector<op_result>)> h) {
    auto m = std::make_unique<multi_op>(
        observe_round_trip(observer(), request_kind::multi, quorum_.confirming(std::move(h))),
        transport_->registry(), "/");
    std::size_t bytes = 0;
    for (const auto& o : ops) {
        bytes += request_overhead + o.path.size() + o.data.size() + acl_->bytes;
    }
    if (auto ec = check_request_size("/", bytes)) {
        m->fail_later(strand(), ec);
        return;
    }
    m->prepare(std::move(ops), &acl_->vector);
    start_request(std::move(m), [](zhandle_t* zh, multi_op* o) {
        return zoo_amulti(zh, static_cast<int>(o->c_ops.size()), o->c_ops.data(),
                          o->c_results.data(), &bridge::on_multi, o);
    });
}

void session_impl::remove_watch(std::shared_ptr<watch_state> state) {
    on_driver([self = self(), state = std::move(state)]() mutable {
        // Read on the driver strand, where contexts are freed: the watch may have fired since.
        auto* context = static_cast<watch_context*>(state->c_context);
        if (context == nullptr) {
            return;
        }
        auto& registry = self->transport_->registry();
        const auto type = static_cast<ZooWatcherType>(state->watch_type);
        if (registry.armed_on(state->path, type == ZWATCHTYPE_CHILD) > 1) {
            // Others of ours still need the server's watch on this path: forget ours locally
            // (synchronous; no completion is called with local removal in this build).
            const int rc = self->transport_->call([&](zhandle_t* zh) {
                return zoo_aremove_watches(zh, state->path.c_str(), type, &bridge::on_watch,
                                           context, 1, nullptr, nullptr);
            });
            if (rc == ZOK && registry.remove(context)) {
                delete context;
            }
            return;
        }
        // Our last watch there: the server drops it (a watch left there would fire one day into
        // nothing and count against the server until then), then the C client forgets ours.
        auto removal = std::make_unique<watch_removal>(std::move(state), registry);
        registry.add(removal.get());
        const auto& path = removal->state->path;
        const int rc = self->transport_->call([&](zhandle_t* zh) {
            return zoo_aremove_all_watches(
                zh, path.c_str(), type, 0,
                reinterpret_cast<void_completion_t*>(&bridge::on_watch_dropped), removal.get());
        });
        if (rc == ZOK) {
            static_cast<void>(removal.release());  // the C client calls it back
        } else {
            registry.remove(removal.get());
        }
    });
}

}  // namespace zkr::detail
