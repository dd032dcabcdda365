// Configuration of a session: a plain aggregate with documented defaults.
#pragma once

#include <zkr/tls.hpp>
#include <zkr/znode.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace zkr {

class observer;

/// A session's identity: its id and password (session::id()).
struct client_id {
    std::int64_t id = 0;
    std::array<char, 16> password{};
};

struct session_config {
    /// Comma-separated host:port list, optionally followed by a chroot ("/app"), as the C client
    /// takes it: "10.0.0.1:2181,10.0.0.2:2181/app".
    std::string hosts = "127.0.0.1:2181";

    /// Requested session timeout, 100 ms to 24 h (else async_connect fails with
    /// errc::invalid_argument); the server clamps it into its [min, max]SessionTimeout range.
    /// session::negotiated_timeout() tells what was granted.
    std::chrono::milliseconds session_timeout{10000};

    /// How long async_connect waits for a first server to accept the session.
    std::chrono::milliseconds connect_timeout{5000};

    /// Reach every server over TLS (its secureClientPort, given in hosts): the trust, the client
    /// certificate and the checks (zkr/tls.hpp, docs/tls.md). Plaintext when empty. Settings
    /// that cannot be used (a missing file, a key that does not match its certificate or whose
    /// password is wrong, no trust at all) fail async_connect with errc::tls_config_invalid; a
    /// server whose certificate is refused or whose handshake fails, with
    /// errc::tls_certificate_rejected or errc::tls_handshake_failed once connect_timeout passes.
    std::optional<tls_config> tls;

    /// "user:password" for ZooKeeper's digest scheme, empty for none. Wrong credentials are not
    /// refused at connect time (ZooKeeper only records the identity): operations on nodes whose
    /// ACL does not grant that identity fail with zk_errc::no_auth.
    std::string digest_credentials;

    /// ACL given to every node zkr creates (lock nodes and their parents).
    acl_list acl = open_acl();

    /// Drive this session from zkr's own I/O thread (one per process, shared by every session
    /// that asks for it) instead of the executor given to the session. The session's pings then
    /// do not depend on the application's threads: a handler that blocks them cannot cost the
    /// session. Handlers still run on their own executors; by default on the executor given to
    /// the session, as given (not wrapped in a strand: give a strand if that io_context runs on
    /// several threads and your handlers must not overlap).
    bool dedicated_io_thread = false;

    /// The largest packet the servers accept: their jute.maxbuffer (a Java system property, by
    /// default 1 MiB - 1). Requests that would exceed it fail with errc::request_too_large
    /// instead of making the server drop the connection, and a session refuses watches
    /// (errc::too_many_watches) before the packet that re-arms them after a reconnect would
    /// exceed it: past that, the server drops every reconnection and the session is stuck.
    std::size_t max_packet_bytes = 1048575;

    /// Join an existing session instead of starting a new one (its session::id(), from the
    /// process that opened it); id 0 starts a new session. The server hands the session over to
    /// whichever handle connected last: only one live handle may use it.
    client_id resume{};

    /// Told of every acquisition, hold, loss, revocation request, state change and request
    /// round trip on this session (zkr/observer.hpp); zkr::metrics counts them (zkr/metrics.hpp).
    /// Several sessions may share one. None by default: then nothing is measured.
    std::shared_ptr<zkr::observer> observer;

    /// While the session holds a lock, a lease or a leadership, check every T/8 (T: the
    /// negotiated timeout) that its server still reaches the ensemble's leader, and count the
    /// holds lost (errc::quorum_unreachable) once nothing has been answered through the leader
    /// for T/2. Any answered write counts; a sync is sent only when no write was answered in the
    /// last T/8. Without it, a holder whose server is cut off from the leader by a network that
    /// drops packets hears of nothing until that server gives up (syncLimit x tickTime), which
    /// may be after the leader expired the session and handed the lock on (docs/mutex.md, "When
    /// the ensemble splits"). Against a standalone server (or a one-member ensemble), as
    /// /zookeeper/config says, it sends nothing and loses nothing. Costs at most one sync per
    /// T/8 per session while it holds something, whatever the number of holds; on an ensemble,
    /// a leader that stops answering for T/2 costs the holds.
    bool quorum_check = true;

    /// After the server expires the session, open a new one with this same configuration
    /// instead of staying expired (docs/long-lived.md). Expiry stays final for what the
    /// expired session held: its locks, leases, leaderships and watches end with
    /// zk_errc::session_expired as without renewal, and nothing held then is ever held again.
    /// The session object carries on as the next generation (session::generation()): its state
    /// goes expired -> connecting -> connected, and the long-lived recipes (persistent nodes,
    /// memberships, elections that requeue, caches) carry on in it. Off by default.
    bool renew_after_expiry = false;
};

}  // namespace zkr
