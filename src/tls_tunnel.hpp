// An in-process TLS tunnel to one ZooKeeper server, for a C client built without TLS.
//
// The C client connects in plaintext to a loopback port the tunnel owns; the tunnel forwards
// that connection over TLS (Boost.Asio's ssl::stream, OpenSSL) to the real server, on the
// owner's io_context, without a thread. One tunnel per ensemble member: the C client picks and
// rotates servers itself, and each of its addresses must lead to one server.
//
// Only the C client's own connection is let in: the owner knows that socket (it drives the
// client) and is asked, for each connection, whether the peer's port is its socket's local port.
// Any other local process is refused, so it cannot ride the session's client certificate.
//
// Both legs live and die together: when either side closes or fails, both are closed, and a
// failed TLS set-up closes the C client's leg at once (a connection loss it handles as any
// other). Why the set-up failed is kept (last_failure()), with OpenSSL's verification text when
// the server's certificate was rejected.
//
// A session with session_config::tls has one per server (tls_tunnels.hpp): see docs/tls.md.
#pragma once

#include <zkr/tls.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace zkr::detail {

/// An OpenSSL client context from `settings`: peer verification on, the given trust only, the
/// client identity loaded. Throws boost::system::system_error when a file cannot be used.
boost::asio::ssl::context make_tls_context(const tls_config& settings);

/// Why a tunnelled connection did not come up.
enum class tls_failure {
    none,
    connect_failed,        ///< the server's address could not be resolved or reached
    handshake_failed,      ///< TLS failed (protocol, refused client, plaintext peer, deadline)
    certificate_rejected,  ///< the server's certificate failed verification
};

struct tls_tunnel_state;

class tls_tunnel {
  public:
    /// Tells whether a connection from 127.0.0.1:`peer_port` is the owner's own client.
    using client_check = std::function<bool(std::uint16_t peer_port)>;
    /// Told when a connection's set-up failed, with why (last_failure(), last_failure_reason()).
    using failure_listener = std::function<void(tls_failure, const std::string& reason)>;

    /// Listens on 127.0.0.1:0 at once; serves connections on `ex` (every handler runs there).
    /// `context` (make_tls_context) must outlive the tunnel.
    tls_tunnel(boost::asio::any_io_executor ex, boost::asio::ssl::context& context,
               const tls_config& settings, std::string host, std::uint16_t port,
               client_check is_own_client, failure_listener on_failure = {});
    ~tls_tunnel();
    tls_tunnel(const tls_tunnel&) = delete;
    tls_tunnel& operator=(const tls_tunnel&) = delete;

    /// The loopback port to give the C client for this server.
    std::uint16_t local_port() const;
    /// The real server, for logs and errors (never the loopback port).
    const std::string& server() const;
    /// Why the latest connection's set-up failed; none once one came up.
    tls_failure last_failure() const;
    /// What failed, in words: OpenSSL's verification text for a rejected certificate.
    const std::string& last_failure_reason() const;
    /// Connections closed at once because they were not the owner's client.
    std::size_t refused_connections() const;
    /// Stops listening and closes the current connection's two legs, on the tunnel's executor
    /// (at once when called there). Any thread.
    void close();

  private:
    std::shared_ptr<tls_tunnel_state> state_;
};

}  // namespace zkr::detail
