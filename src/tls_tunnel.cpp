#include "tls_tunnel.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <utility>

namespace zkr::detail {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

constexpr auto no_throw = asio::as_tuple(asio::use_awaitable);

bool is_ip_address(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

/// ssl::host_name_verification, which leaves OpenSSL's verification result at "ok" when the
/// name does not match; the mismatch is recorded so that the failure can say why.
class named_host_verification {
  public:
    explicit named_host_verification(const std::string& host)
        : check_(host),
          mismatch_(is_ip_address(host) ? X509_V_ERR_IP_ADDRESS_MISMATCH
                                        : X509_V_ERR_HOSTNAME_MISMATCH) {}
    bool operator()(bool preverified, ssl::verify_context& context) const {
        const bool ok = check_(preverified, context);
        if (preverified && !ok) {
            X509_STORE_CTX_set_error(context.native_handle(), mismatch_);
        }
        return ok;
    }

  private:
    ssl::host_name_verification check_;
    int mismatch_;
};

}  // namespace

namespace {

/// Runs `load`, which reads `file`; a failure says which file it was ("the CA file /x.pem: No
/// such file or directory").
template <class Load>
void load_file(const char* what, const std::string& file, Load load) {
    try {
        load();
    } catch (const boost::system::system_error& e) {
        throw boost::system::system_error(e.code(), std::string(what) + " " + file);
    }
}

}  // namespace

ssl::context make_tls_context(const tls_config& settings) {
    ssl::context context(ssl::context::tls_client);
    context.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
    const auto minimum =
        settings.minimum_version == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(context.native_handle(), minimum);
    context.set_verify_mode(ssl::verify_peer);
    // An idle connection (a session between pings) keeps no read and write buffers: about
    // 34 KiB each otherwise, in every session.
    SSL_CTX_set_mode(context.native_handle(), SSL_MODE_RELEASE_BUFFERS);
    if (!settings.ca_file.empty()) {
        load_file("the CA file", settings.ca_file,
                  [&] { context.load_verify_file(settings.ca_file); });
    }
    if (!settings.ca_directory.empty()) {
        load_file("the CA directory", settings.ca_directory,
                  [&] { context.add_verify_path(settings.ca_directory); });
    }
    if (settings.use_system_store) {
        context.set_default_verify_paths();
    }
    if (!settings.certificate_file.empty()) {
        load_file("the client certificate", settings.certificate_file,
                  [&] { context.use_certificate_chain_file(settings.certificate_file); });
    }
    if (!settings.key_file.empty()) {
        context.set_password_callback(
            [password = settings.key_password](std::size_t, ssl::context::password_purpose) {
                return password;
            });
        load_file("the client key (or its password)", settings.key_file,
                  [&] { context.use_private_key_file(settings.key_file, ssl::context::pem); });
    }
    return context;
}

namespace {

/// Turns Nagle's algorithm off, as the C client does on its own socket: a request is one small
/// write that must leave at once, not wait for the answer to the previous one (the server's
/// delayed acknowledgement would add up to 40 ms to every round trip).
void send_at_once(asio::basic_socket<tcp, asio::any_io_executor>& socket) {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
}

/// One connection's two legs, closed together.
struct tunnel_legs {
    tunnel_legs(tcp::socket socket, ssl::context& context)
        : client(std::move(socket)), server(client.get_executor(), context) {}
    tcp::socket client;
    ssl::stream<tcp::socket> server;

    void close() {
        boost::system::error_code ignored;
        client.close(ignored);
        server.lowest_layer().close(ignored);
    }
};

}  // namespace

struct tls_tunnel_state {
    tls_tunnel_state(asio::any_io_executor ex, ssl::context& ctx, const tls_config& settings,
                     std::string h, std::uint16_t p, tls_tunnel::client_check check,
                     tls_tunnel::failure_listener listener)
        : context(ctx),
          host(std::move(h)),
          port(p),
          verify_host(settings.verify_host),
          handshake_timeout(settings.handshake_timeout),
          is_own_client(std::move(check)),
          on_failure(std::move(listener)),
          acceptor(std::move(ex), {asio::ip::address_v4::loopback(), 0}),
          local_port(acceptor.local_endpoint().port()),
          name(host + ":" + std::to_string(port)) {}

    ssl::context& context;
    std::string host;
    std::uint16_t port;
    bool verify_host;
    std::chrono::milliseconds handshake_timeout;
    tls_tunnel::client_check is_own_client;
    tls_tunnel::failure_listener on_failure;
    tcp::acceptor acceptor;
    std::uint16_t local_port;
    std::string name;
    tls_failure failure = tls_failure::none;
    std::string failure_reason;
    std::size_t refused = 0;
    /// The current connection (the C client has one at a time), closed by close().
    std::shared_ptr<tunnel_legs> current;

    void fail(tls_failure kind, std::string reason) {
        failure = kind;
        failure_reason = std::move(reason);
    }
    /// A set-up failed for good: recorded, and the listener told (unless the tunnel was
    /// closed: then its own closing ended the set-up).
    void report_failure() {
        if (on_failure && acceptor.is_open()) {
            on_failure(failure, failure_reason);
        }
    }
};

namespace {

using tunnel_state = std::shared_ptr<tls_tunnel_state>;

/// Connects and handshakes `server` with the real server; false (the reason recorded) when
/// that fails.
asio::awaitable<bool> open_server_leg(tunnel_state st, ssl::stream<tcp::socket>& server) {
    tcp::resolver resolver(co_await asio::this_coro::executor);
    auto [resolve_ec, endpoints] =
        co_await resolver.async_resolve(st->host, std::to_string(st->port), no_throw);
    if (resolve_ec) {
        st->fail(tls_failure::connect_failed, st->name + ": " + resolve_ec.message());
        co_return false;
    }
    auto [connect_ec, endpoint] =
        co_await asio::async_connect(server.lowest_layer(), endpoints, no_throw);
    if (connect_ec) {
        st->fail(tls_failure::connect_failed, st->name + ": " + connect_ec.message());
        co_return false;
    }
    send_at_once(server.lowest_layer());
    // SNI names a host, never an address (RFC 6066).
    if (!is_ip_address(st->host)) {
        SSL_set_tlsext_host_name(server.native_handle(), st->host.c_str());
    }
    if (st->verify_host) {
        server.set_verify_callback(named_host_verification(st->host));
    }
    auto [handshake_ec] = co_await server.async_handshake(ssl::stream_base::client, no_throw);
    if (!handshake_ec) {
        co_return true;
    }
    const auto verify_result = SSL_get_verify_result(server.native_handle());
    if (verify_result != X509_V_OK) {
        st->fail(tls_failure::certificate_rejected,
                 st->name + ": " + X509_verify_cert_error_string(verify_result));
    } else {
        st->fail(tls_failure::handshake_failed, st->name + ": " + handshake_ec.message());
    }
    co_return false;
}

/// Copies `from` to `to` until either fails or closes, then closes both legs: the other
/// direction's pending operation then ends too.
template <class From, class To>
asio::awaitable<void> pump(std::shared_ptr<tunnel_legs> legs, From& from, To& to) {
    std::array<char, 16384> buffer{};
    for (;;) {
        auto [read_ec, n] = co_await from.async_read_some(asio::buffer(buffer), no_throw);
        if (read_ec) {
            break;
        }
        auto [write_ec, written] =
            co_await asio::async_write(to, asio::buffer(buffer, n), no_throw);
        if (write_ec) {
            break;
        }
    }
    legs->close();
}

/// Closes `legs` when the set-up's deadline passes (unless cancelled first): the set-up's
/// pending operation, whatever it is, then fails at once.
asio::awaitable<void> close_at_deadline(tunnel_state st, std::shared_ptr<tunnel_legs> legs) {
    asio::steady_timer deadline(co_await asio::this_coro::executor, st->handshake_timeout);
    if (auto [ec] = co_await deadline.async_wait(no_throw); !ec) {
        legs->close();
    }
}

asio::awaitable<void> serve(tunnel_state st, std::shared_ptr<tunnel_legs> legs) {
    using namespace asio::experimental::awaitable_operators;
    if (st->current) {
        st->current->close();  // a connection the C client has given up
    }
    st->current = legs;
    auto first = co_await (open_server_leg(st, legs->server) || close_at_deadline(st, legs));
    if (first.index() == 1) {
        // Recorded once both branches are done: the set-up's own failure ("operation
        // aborted") is not the reason.
        st->fail(tls_failure::handshake_failed, st->name + ": no TLS connection within " +
                                                    std::to_string(st->handshake_timeout.count()) +
                                                    " ms");
    }
    if (first.index() == 1 || !std::get<0>(first)) {
        legs->close();
        st->report_failure();
        co_return;
    }
    st->fail(tls_failure::none, {});
    co_await (pump(legs, legs->client, legs->server) && pump(legs, legs->server, legs->client));
}

asio::awaitable<void> accept_clients(tunnel_state st) {
    for (;;) {
        auto [ec, socket] = co_await st->acceptor.async_accept(no_throw);
        if (ec == asio::error::operation_aborted || !st->acceptor.is_open()) {
            co_return;
        }
        if (ec) {
            continue;
        }
        boost::system::error_code peer_ec;
        const auto peer = socket.remote_endpoint(peer_ec);
        if (peer_ec || !peer.address().is_loopback() || !st->is_own_client(peer.port())) {
            ++st->refused;
            socket.close(peer_ec);
            continue;
        }
        send_at_once(socket);
        asio::co_spawn(st->acceptor.get_executor(),
                       serve(st, std::make_shared<tunnel_legs>(std::move(socket), st->context)),
                       asio::detached);
    }
}

}  // namespace

tls_tunnel::tls_tunnel(asio::any_io_executor ex, ssl::context& context, const tls_config& settings,
                       std::string host, std::uint16_t port, client_check is_own_client,
                       failure_listener on_failure)
    : state_(std::make_shared<tls_tunnel_state>(ex, context, settings, std::move(host), port,
                                                std::move(is_own_client), std::move(on_failure))) {
    asio::co_spawn(ex, accept_clients(state_), asio::detached);
}

tls_tunnel::~tls_tunnel() {
    close();
}

std::uint16_t tls_tunnel::local_port() const {
    return state_->local_port;
}
const std::string& tls_tunnel::server() const {
    return state_->name;
}
tls_failure tls_tunnel::last_failure() const {
    return state_->failure;
}
const std::string& tls_tunnel::last_failure_reason() const {
    return state_->failure_reason;
}
std::size_t tls_tunnel::refused_connections() const {
    return state_->refused;
}

void tls_tunnel::close() {
    // On the tunnel's executor: its sockets are in use there (close() may come from any thread,
    // a session's destructor say).
    asio::dispatch(state_->acceptor.get_executor(), [st = state_] {
        boost::system::error_code ignored;
        st->acceptor.close(ignored);
        if (st->current) {
            st->current->close();
        }
    });
}

}  // namespace zkr::detail
