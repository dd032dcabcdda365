#include "transport.hpp"

#include "log.hpp"

#include <boost/asio/post.hpp>

#include <zookeeper/zookeeper.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace zkr::detail {
namespace {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

constexpr const char* channel = log::channels::session;

/// The C client's states in which it holds no socket: before the first connection attempt
/// (NOTCONNECTED), after a connection ended (0), and once the session is over.
bool socket_less(int state) {
    return state == 0 || state == ZOO_NOTCONNECTED_STATE || state == ZOO_EXPIRED_SESSION_STATE ||
           state == ZOO_AUTH_FAILED_STATE;
}

/// Answers handled per wake-up before other handlers get the strand again.
constexpr int max_answers_per_wakeup = 64;

/// A failed zookeeper_interest may ask for no wait at all: retrying at once would spin.
constexpr std::chrono::milliseconds retry_floor{10};

/// The close request as the server reads it (jute): a length of 8, then the request header:
/// an xid (any: nothing reads the answer but us) and the opcode closeSession, -11.
constexpr std::array<unsigned char, 12> close_request{0,    0,    0,    8,    0x7a, 0x6b,
                                                      0x72, 0x00, 0xff, 0xff, 0xff, 0xf5};

/// True when the process (EMFILE) or the system (ENFILE) has no descriptor left. The C client's
/// failed connection attempt does not say why, and its logging has been through errno since:
/// one socket of our own tells, on this rare path only.
bool out_of_descriptors() {
    const int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        ::close(probe);
        return false;
    }
    return errno == EMFILE || errno == ENFILE;
}

std::chrono::milliseconds to_duration(const timeval& tv) {
    return std::chrono::milliseconds(tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

}  // namespace

transport::transport(executor_type driver, std::shared_ptr<void> keep_alive)
    : driver_(std::move(driver)),
      keep_alive_(std::move(keep_alive)),
      socket_(driver_),
      timer_(driver_) {}

transport::~transport() {
    if (zh_ == nullptr) {
        return;
    }
    // The io_context went away with the session still open: nothing can complete a handler any
    // more. Free the handle the C client's way (it may wait for the server's answer) and drop
    // what it still held without running it.
    registry_.discard_from_now_on();
    try {
        client_gate gate;
        ++depth_;
        zookeeper_close(zh_);
        --depth_;
    } catch (...) {
    }
    zh_ = nullptr;
    for (auto* op : registry_.drain()) {
        delete op;
    }
}

bool transport::open(const std::string& hosts, int session_timeout_ms, std::int64_t existing_id,
                     const std::array<char, 16>& password,
                     std::weak_ptr<client_observer> observer) {
    observer_ = std::move(observer);
    clientid_t id{};
    id.client_id = existing_id;
    std::memcpy(id.passwd, password.data(), sizeof id.passwd);
    client_gate gate;
    errno = 0;
    zh_ = zookeeper_init2(hosts.c_str(), &transport::on_session_watch, session_timeout_ms,
                          existing_id != 0 ? &id : nullptr, this, 0, client_log_callback());
    if (zh_ == nullptr) {
        return false;
    }
    // By default the C client resolves its host list again on every zookeeper_interest: most of
    // its CPU time per request (bench/README.md). -1 resolves again only after a connection
    // loss, when a changed address matters.
    zoo_set_servers_resolution_delay(zh_, -1);
    phase_ = phase::open;
    update();
    return true;
}

void transport::on_session_watch(_zhandle*, int type, int state, const char*, void* ctx) {
    if (type == ZOO_SESSION_EVENT && ctx != nullptr) {
        static_cast<transport*>(ctx)->report_state(state);
    }
}

void transport::report_state(int state) {
    reported_state_ = state;
    auto observer = observer_.lock();
    if (!observer) {
        return;
    }
    const auto* id = zoo_client_id(zh_);
    std::array<char, 16> password{};
    std::memcpy(password.data(), id->passwd, password.size());
    observer->on_client_state(state, id->client_id, zoo_recv_timeout(zh_), password);
}

int transport::set_servers(const std::string& hosts) {
    client_gate gate;
    if (zh_ == nullptr || phase_ != phase::open) {
        return invalid_state;
    }
    const int rc = zoo_set_servers(zh_, hosts.c_str());
    // The C client may have dropped its connection to move to another server: the driver looks
    // again now rather than at its next timeout.
    asio::post(driver_, [self = shared_from_this()] {
        if (self->phase_ == phase::open) {
            client_gate gate;
            self->after_call();
        }
    });
    return rc;
}

void transport::release_updates() {
    if (--depth_ == 0 && update_wanted_) {
        client_gate gate;
        after_call();
    }
}

void transport::after_call() {
    if (zh_ == nullptr) {
        return;
    }
    follow_connection();
    if (depth_ > 0) {
        update_wanted_ = true;
        return;
    }
    if (phase_ == phase::open) {
        update();
    }
}

void transport::follow_connection() {
    if (socket_.is_open() && !client_has_socket()) {
        drop_socket();
        if (reported_state_ == ZOO_CONNECTED_STATE) {
            report_state(ZOO_CONNECTING_STATE);  // a disconnection the C client did not report
        }
    }
}

std::uint16_t transport::client_port() noexcept {
    if (!socket_.is_open()) {
        return 0;
    }
    // IPv4 only: what asks (a TLS tunnel) listens on 127.0.0.1.
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (::getsockname(socket_.native_handle(), reinterpret_cast<sockaddr*>(&address), &length) !=
            0 ||
        address.sin_family != AF_INET) {
        return 0;
    }
    return ntohs(address.sin_port);
}

bool transport::client_has_socket() const {
    return !socket_less(zoo_state(zh_));
}

void transport::update() {
    do {
        update_wanted_ = false;
        int fd = -1;
        int interest = 0;
        timeval tv{};
        const int rc =
            nested([&](_zhandle* zh) { return zookeeper_interest(zh, &fd, &interest, &tv); });
        if (zh_ == nullptr || phase_ != phase::open) {
            return;
        }
        follow_connection();
        if (rc == ZINVALIDSTATE) {
            // Expired or refused for good: the session closes the handle; nothing to wait for.
            drop_socket();
            timer_.cancel();
            timer_armed_ = false;
            return;
        }
        auto wait = to_duration(tv);
        if (rc != ZOK && gave_up_for_descriptors()) {
            return;
        }
        if (rc != ZOK) {
            // The C client handled a connection failure; it answers again after a pause.
            fd = -1;
            interest = 0;
            wait = std::max(wait, retry_floor);
        }
        if (fd == -1) {
            drop_socket();
        } else if (adopt_socket(fd)) {
            wait_for(interest);
        } else if (gave_up_for_descriptors()) {
            return;
        } else {
            wait = std::max(wait, retry_floor);
        }
        arm_timer(clock_type::now() + wait);
    } while (update_wanted_);
}

bool transport::adopt_socket(int fd) {
    if (socket_.is_open()) {
        return true;
    }
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
        ZKR_LOG(error, channel,
                "cannot follow the ZooKeeper connection: dup failed: " << std::strerror(errno));
        return false;
    }
    boost::system::error_code ec;
    socket_.assign(copy, ec);
    if (ec) {
        ::close(copy);
        ZKR_LOG(error, channel, "cannot wait on the ZooKeeper connection: " << ec.message());
        return false;
    }
    return true;
}

bool transport::gave_up_for_descriptors() {
    if (!out_of_descriptors()) {
        return false;
    }
    // Retrying would fail the same way until the connect timeout, logging each attempt.
    auto observer = observer_.lock();
    if (!observer || !observer->on_client_failure(make_error_code(errc::too_many_open_files))) {
        return false;
    }
    drop_socket();
    timer_.cancel();
    timer_armed_ = false;
    return true;
}

void transport::drop_socket() {
    if (!socket_.is_open()) {
        return;
    }
    ++generation_;
    read_armed_ = write_armed_ = false;
    boost::system::error_code ignored;
    socket_.close(ignored);
}

void transport::wait_for(int interest) {
    using wait_type = asio::posix::descriptor_base::wait_type;
    const auto arm = [this](wait_type type, int events) {
        socket_.async_wait(type, [self = shared_from_this(), events,
                                  generation = generation_](const boost::system::error_code& ec) {
            self->on_ready(events, generation, ec);
        });
    };
    if ((interest & ZOOKEEPER_READ) != 0 && !read_armed_) {
        read_armed_ = true;
        arm(wait_type::wait_read, ZOOKEEPER_READ);
    }
    if ((interest & ZOOKEEPER_WRITE) != 0 && !write_armed_) {
        write_armed_ = true;
        arm(wait_type::wait_write, ZOOKEEPER_WRITE);
    }
}

void transport::arm_timer(clock_type::time_point when) {
    // The C client asks for a later deadline after every request; keeping the earlier one armed
    // costs one early wake-up per timeout period instead of a timer update per request.
    if (timer_armed_ && timer_deadline_ <= when) {
        return;
    }
    timer_armed_ = true;
    timer_deadline_ = when;
    timer_.expires_at(when);
    timer_.async_wait([self = shared_from_this(), generation = ++timer_generation_](
                          const boost::system::error_code& ec) { self->on_timer(generation, ec); });
}

void transport::on_timer(std::uint64_t generation, const boost::system::error_code& ec) {
    if (ec || generation != timer_generation_) {
        return;
    }
    timer_armed_ = false;
    if (phase_ == phase::closing) {
        finish_close();  // the server did not answer the close in time
        return;
    }
    if (phase_ == phase::open) {
        client_gate gate;
        update();  // pings, connection timeouts, reconnection attempts
    }
}

void transport::on_ready(int events, std::uint64_t generation,
                         const boost::system::error_code& ec) {
    if (generation != generation_) {
        return;  // a wait on a socket we no longer follow
    }
    if ((events & ZOOKEEPER_READ) != 0) {
        read_armed_ = false;
    } else {
        write_armed_ = false;
    }
    if (phase_ == phase::closing) {
        close_step();
        return;
    }
    if (phase_ != phase::open || ec == asio::error::operation_aborted) {
        return;
    }
    client_gate gate;
    if (ec) {
        drop_socket();  // the reactor gave up on this descriptor: take a fresh duplicate
    } else {
        int rc = nested([&](_zhandle* zh) { return zookeeper_process(zh, events); });
        // One answer per call: drain what arrived together while the connection lasts.
        const bool reading = (events & ZOOKEEPER_READ) != 0;
        for (int n = 1; reading && rc == ZOK && n < max_answers_per_wakeup && zh_ != nullptr &&
                        phase_ == phase::open && client_has_socket();
             ++n) {
            rc = nested([](_zhandle* zh) { return zookeeper_process(zh, ZOOKEEPER_READ); });
        }
    }
    after_call();
}

void transport::close(error_code reason, handler<void()> done) {
    client_gate gate;  // phase_ and zh_ change under the gate: set_servers reads them from anywhere
    if (phase_ == phase::closed || phase_ == phase::idle) {
        phase_ = phase::closed;
        if (done) {
            std::move(done)();
        }
        return;
    }
    if (done) {
        close_waiters_.push_back(std::move(done));
    }
    if (phase_ == phase::closing) {
        return;
    }
    phase_ = phase::closing;
    close_reason_ = reason ? reason : make_error_code(errc::session_closed);
    registry_.set_closing_reason(close_reason_);
    ++generation_;
    read_armed_ = write_armed_ = false;
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    close_stage_ = close_stage::flush;
    close_sent_ = 0;
    close_deadline_ = clock_type::now() + close_answer_limit;
    timer_armed_ = false;
    arm_timer(close_deadline_);
    // Never from inside a C call (a completion closing its own session): the handle must
    // outlive the call that is running.
    asio::post(driver_, [self = shared_from_this()] { self->close_step(); });
}

void transport::close_step() {
    if (phase_ != phase::closing || zh_ == nullptr) {
        return;
    }
    client_gate gate;
    if (!socket_.is_open() || zoo_state(zh_) != ZOO_CONNECTED_STATE) {
        finish_close();  // not connected: there is nobody to say goodbye to
        return;
    }
    if (close_stage_ == close_stage::flush) {
        // Requests the C client has not sent yet go first, in order.
        int fd = -1;
        int interest = 0;
        timeval tv{};
        nested([&](_zhandle* zh) { return zookeeper_interest(zh, &fd, &interest, &tv); });
        if (!client_has_socket()) {
            finish_close();
            return;
        }
        if ((interest & ZOOKEEPER_WRITE) != 0) {
            if (!write_armed_) {
                nested([](_zhandle* zh) { return zookeeper_process(zh, ZOOKEEPER_WRITE); });
                if (!client_has_socket()) {
                    finish_close();
                    return;
                }
                wait_for(ZOOKEEPER_WRITE);
            }
            return;
        }
        close_stage_ = close_stage::request;
    }
    const int fd = socket_.native_handle();
    if (close_stage_ == close_stage::request) {
        while (close_sent_ < close_request.size()) {
            const auto n = ::send(fd, close_request.data() + close_sent_,
                                  close_request.size() - close_sent_, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                wait_for(ZOOKEEPER_WRITE);
                return;
            }
            if (n <= 0) {
                finish_close();
                return;
            }
            close_sent_ += static_cast<std::size_t>(n);
        }
        close_stage_ = close_stage::answer;
    }
    // The server answers what was in flight, then the close, then hangs up: read until then.
    std::array<char, 4096> scratch;
    for (;;) {
        const auto n = ::recv(fd, scratch.data(), scratch.size(), MSG_DONTWAIT);
        if (n > 0) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            wait_for(ZOOKEEPER_READ);
            return;
        }
        finish_close();  // the server hung up (or the connection failed): done
        return;
    }
}

void transport::finish_close() {
    if (phase_ != phase::closing || zh_ == nullptr) {
        return;
    }
    ++generation_;
    ++timer_generation_;
    timer_armed_ = false;
    timer_.cancel();
    {
        client_gate gate;
        // zookeeper_close sends its own close request and waits for an answer when it believes
        // the connection is up. Shut down, the socket answers at once: the send fails, the wait
        // ends, and the handle is freed without blocking.
        if (socket_.is_open()) {
            ::shutdown(socket_.native_handle(), SHUT_RDWR);
        }
        nested([](_zhandle* zh) { return zookeeper_close(zh); });
        zh_ = nullptr;
        phase_ = phase::closed;
    }
    drop_socket();
    // What the C client freed without calling: armed watches.
    for (auto* op : registry_.drain()) {
        op->abandon(close_reason_);
        delete op;
    }
    auto waiters = std::move(close_waiters_);
    close_waiters_.clear();
    for (auto& done : waiters) {
        std::move(done)();
    }
}

}  // namespace zkr::detail
