// TLS to ZooKeeper's secure client port: what a session trusts and how it proves who it is
// (session_config::tls, docs/tls.md).
#pragma once

#include <chrono>
#include <string>

namespace zkr {

enum class tls_version { tls1_2, tls1_3 };

/// With session_config::tls set, every server of the hosts string (and of set_servers) is
/// reached over TLS at the port given there: the servers' secureClientPort.
struct tls_config {
    /// PEM file of CA certificates to trust. With ca_directory, the only trust there is unless
    /// use_system_store: a private ensemble's CA should not share trust with every public one.
    std::string ca_file;
    /// A directory of CA certificates named by subject hash (openssl rehash).
    std::string ca_directory;
    /// Trust the system's CA store (/etc/ssl/certs) too.
    bool use_system_store = false;

    /// Client certificate (PEM, with its chain) and its key, for servers that ask for one
    /// (ssl.clientAuth=want|need). A key encrypted with key_password.
    std::string certificate_file;
    std::string key_file;
    std::string key_password;

    /// Check that the server's certificate names the host it is reached at (its DNS name or IP
    /// address, subjectAltName). Off, anyone holding a certificate from a trusted CA can pose as
    /// the server: for tests only.
    bool verify_host = true;

    tls_version minimum_version = tls_version::tls1_2;

    /// Resolving, connecting and the TLS handshake together, per connection; 0 for a third of
    /// the session timeout. Else it must be below the session timeout (or async_connect fails
    /// with errc::invalid_argument): the session must outlive a server that never answers.
    std::chrono::milliseconds handshake_timeout{0};
};

}  // namespace zkr
