// The TLS tunnels of one session (session_config::tls): one per server it was ever given, so
// that every address the C client picks or rotates to leads to one real server. The C client is
// given the tunnels' loopback addresses instead of the servers' (route()); the tunnels outlive
// renewals and set_servers, and close with the session.
#pragma once

#include "tls_tunnel.hpp"

#include <zkr/error.hpp>

#include <boost/asio/ssl/context.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace zkr::detail {

class tls_tunnels {
  public:
    /// Loads the trust and the client identity at once; a failure is kept (config_error()),
    /// not thrown. Tunnels serve on `driver` (the session's driver strand).
    tls_tunnels(boost::asio::any_io_executor driver, const tls_config& config,
                std::chrono::milliseconds session_timeout);
    ~tls_tunnels();
    tls_tunnels(const tls_tunnels&) = delete;
    tls_tunnels& operator=(const tls_tunnels&) = delete;

    /// errc::tls_config_invalid (the reason logged) if the settings cannot be used, or
    /// errc::invalid_argument for a handshake timeout not in [0, session_timeout).
    error_code config_error() const;

    /// Who may use the tunnels: the C client's own socket, by its local port (tls_tunnel.hpp).
    void admit_only(tls_tunnel::client_check is_own_client);

    /// `hosts` (a valid connect string) with each server replaced by its tunnel's loopback
    /// address, the chroot kept: what the C client is given. Opens the tunnels it needs. Any
    /// thread. Empty when the settings cannot be used (config_error()).
    std::string route(std::string_view hosts);

    /// The latest TLS set-up failure since forget_failures() (errc::tls_handshake_failed or
    /// errc::tls_certificate_rejected), empty if none. A server that cannot be reached at all
    /// is no TLS failure. Any thread.
    error_code latest_failure() const;
    void forget_failures();

    /// Stops every tunnel: after the C handle is closed (its goodbye goes through them).
    void close();

  private:
    /// What the tunnels' handlers reach, which may run after this object is gone.
    struct shared_state {
        std::mutex mutex;
        tls_tunnel::client_check is_own_client;
        error_code latest_failure;
        std::string latest_reason;  // logged as a warning once per change, then at debug level
        void on_failure(tls_failure kind, const std::string& reason);
    };

    boost::asio::any_io_executor driver_;
    tls_config config_;  // handshake_timeout resolved
    std::chrono::milliseconds session_timeout_;
    std::optional<boost::asio::ssl::context> context_;  // empty when the settings are unusable
    std::string context_error_;
    std::shared_ptr<shared_state> shared_ = std::make_shared<shared_state>();

    std::mutex mutex_;  // route() runs on any thread (set_servers)
    std::map<std::string, std::unique_ptr<tls_tunnel>, std::less<>> by_server_;  // "host:port"
};

}  // namespace zkr::detail
