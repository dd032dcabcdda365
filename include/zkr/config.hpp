// Configuration of a session: a plain aggregate with documented defaults.
#pragma once

#include <zkr/znode.hpp>

#include <chrono>
#include <string>

namespace zkr {

/// How much of the ZooKeeper C client's own log is forwarded to Boost.Log (channel "zkr.client").
enum class client_log_level { error = 1, warning = 2, info = 3, debug = 4 };

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

    /// "user:password" for ZooKeeper's digest scheme, empty for none. Wrong credentials are not
    /// refused at connect time (ZooKeeper only records the identity): operations on nodes whose
    /// ACL does not grant that identity fail with zk_errc::no_auth.
    std::string digest_credentials;

    /// ACL given to every node zkr creates (lock nodes and their parents).
    acl_list acl = open_acl();

    /// Forwarded C-client log level. The library installs no Boost.Log sink: records only
    /// appear where the application routes them.
    client_log_level log_level = client_log_level::warning;
};

}  // namespace zkr
