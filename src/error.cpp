// The two error categories and the classifiers.
#include <zkr/error.hpp>

#include <zookeeper/zookeeper.h>

#include <string>

namespace zkr {
namespace {

class zk_category_impl final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "zookeeper"; }

    std::string message(int ev) const override {
        switch (static_cast<zk_errc>(ev)) {
            case zk_errc::connection_loss:
                return "connection to ZooKeeper lost; the session may still be alive: retry once "
                       "reconnected";
            case zk_errc::operation_timeout:
                return "ZooKeeper operation timed out; retry once reconnected";
            case zk_errc::no_node:
                return "node does not exist";
            case zk_errc::node_exists:
                return "node already exists";
            case zk_errc::no_auth:
                return "not authorized: the node's ACL does not grant this session's identity "
                       "(check session_config::digest_credentials)";
            case zk_errc::bad_version:
                return "version mismatch: the node changed since it was read";
            case zk_errc::not_empty:
                return "node has children";
            case zk_errc::no_children_for_ephemerals:
                return "ephemeral nodes may not have children";
            case zk_errc::session_expired:
                return "ZooKeeper session expired: its ephemeral nodes and locks are gone; take "
                       "them again in a new session (a renewing session opens one itself)";
            case zk_errc::auth_failed:
                return "ZooKeeper authentication failed: check the credentials";
            case zk_errc::invalid_acl:
                return "invalid ACL";
            case zk_errc::bad_arguments:
                return "bad arguments (malformed path or parameter)";
            case zk_errc::invalid_state:
                return "the ZooKeeper handle is in an unusable state (expired or auth failed)";
            case zk_errc::closing:
                return "ZooKeeper handle is closing";
            case zk_errc::session_moved:
                return "session moved to another server";
            case zk_errc::not_readonly:
                return "state-changing request sent to a read-only server";
            case zk_errc::no_watcher:
                return "no such watch";
            case zk_errc::throttled_op:
                return "operation throttled by the server; retry later";
            case zk_errc::marshalling_error:
                return "request could not be marshalled (out of memory?)";
            default:
                return zerror(ev);
        }
    }
};

class zkr_category_impl final : public boost::system::error_category {
  public:
    const char* name() const noexcept override { return "zkr"; }

    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::session_closed:
                return "session closed";
            case errc::connect_timeout:
                return "could not connect to any ZooKeeper server in time: check the hosts string "
                       "and that the servers are running and reachable";
            case errc::invalid_connect_string:
                return "invalid connect string: expected host:port[,host:port...][/chroot]";
            case errc::invalid_path:
                return "invalid path: it must start with '/', not end with '/', have no empty, "
                       "'.' or '..' node name, be valid UTF-8 without the characters ZooKeeper "
                       "refuses (U+0000-U+001F, U+007F-U+009F, U+D800-U+F8FF, U+FFF0 and up), "
                       "and be at most 4096 bytes, the nodes a recipe makes in it included";
            case errc::not_connected:
                return "session not connected: call async_connect first";
            case errc::lock_lost:
                return "lock lost";
            case errc::lock_node_deleted:
                return "lock lost: our lock node was deleted by another client";
            case errc::session_suspended:
                return "lock lost: connection to ZooKeeper lost (strict loss policy)";
            case errc::session_deadline:
                return "lock lost: disconnected long enough that the server may have expired "
                       "the session";
            case errc::quorum_unreachable:
                return "lock lost: our server has not reached the ensemble's leader for long "
                       "enough that the leader may have expired the session";
            case errc::not_a_lock_node:
                return "not a lock node: the path names no ephemeral contender of a lock recipe "
                       "(a persistent node, a lock directory, another recipe's node); name a "
                       "holder's node, as lock::path() or `zkr status` shows it";
            case errc::not_revocable:
                return "not revocable: only mutex, read-write lock and semaphore lease nodes heed "
                       "revocation (an election's node or a semaphore's queue turn is refused, "
                       "and nothing was written)";
            case errc::not_owner:
                return "the handle does not own a lock";
            case errc::invalid_argument:
                return "invalid argument: a value is outside its documented range (for example "
                       "session_config::session_timeout, 100 ms to 24 h, or a lease count)";
            case errc::semaphore_limit_mismatch:
                return "the semaphore at this path was created with a different maximum of "
                       "leases: use the same maximum everywhere, or another path";
            case errc::request_too_large:
                return "request larger than ZooKeeper's packet limit (jute.maxbuffer, 1 MiB by "
                       "default): the server would drop the connection; store less in a node, or "
                       "raise jute.maxbuffer on every server and session_config::max_packet_bytes";
            case errc::ipv6_literal:
                return "an IPv6 address in a connect string needs brackets, [::1]:2181: "
                       "without them its last colon cannot be told from the port's";
            case errc::chroot_missing:
                return "the chroot of the connect string does not exist on the server: create "
                       "it, or connect without a chroot";
            case errc::path_in_use:
                return "the node at this path holds data of another kind: something else uses "
                       "this path; choose another";
            case errc::too_many_watches:
                return "too many watches on this session: after a reconnect they are re-armed in "
                       "one packet, which would exceed ZooKeeper's packet limit (jute.maxbuffer) "
                       "and leave the session unable to reconnect; spread the waiters over more "
                       "sessions, or raise jute.maxbuffer and session_config::max_packet_bytes";
            case errc::deadlock:
                return "a blocking call made on the thread that runs zkr's callbacks would wait "
                       "for itself: call it from another thread, or use the asynchronous form";
            case errc::ttl_disabled:
                return "the server does not allow TTL nodes: start every server with "
                       "-Dzookeeper.extendedTypesEnabled=true (ZooKeeper 3.5.3 or later)";
            case errc::max_hold_passed:
                return "held for the longest hold allowed (max_hold): the lock was taken back and "
                       "its node deleted";
            case errc::already_held:
                return "this process already holds that node through another handle (adopted, or "
                       "joined under that id): use that handle; two would each claim the node, "
                       "and releasing one would leave the other claiming a deleted node";
            case errc::node_taken:
                return "another session's node holds this path: it is left alone, and the path "
                       "is taken as soon as that node goes (delete it, or choose another path)";
            case errc::already_started:
                return "already started (or closed): start an object once; make a new one to "
                       "start again";
            case errc::invalid_service_instance:
                return "not a service instance in Curator's discovery format (JSON with name, id, "
                       "address, port, sslPort, payload, registrationTimeUTC, serviceType, "
                       "uriSpec, enabled), or a field out of range";
            case errc::too_many_open_files:
                return "out of file descriptors (each session needs 2): close sessions or files "
                       "that are not needed, or raise the limit (ulimit -n, RLIMIT_NOFILE; "
                       "fs.file-max for the whole system)";
            case errc::not_a_counter:
                return "the node holds data that is not a counter of this kind (shared_count: 4 "
                       "bytes, atomic_long: 8 bytes or none): something else uses the path, and "
                       "nothing was written";
            case errc::outcome_unknown:
                return "the write's answer was lost and ZooKeeper cannot tell whether it landed: "
                       "a counter's node holds what the write asked for, which another writer may "
                       "have written as well (read the value: the change may or may not count); a "
                       "queue's put may or may not have added its item, and a take's item was "
                       "removed by this consumer or another one (not handed over, never twice)";
            case errc::claim_lost:
                return "the queue claim is gone (released, completed, or its ZooKeeper session "
                       "ended or was renewed since it was claimed): the completion was refused "
                       "and nothing was written; the item is back in the queue for another "
                       "consumer, so drop what was done with it";
            case errc::not_a_transaction:
                return "the node holds data that is not a two-phase commit's transaction (or its "
                       "vote or decision): something else uses the path, and nothing was written";
            case errc::unknown_transaction:
                return "no transaction with that id: it was never proposed, or it was removed";
            case errc::transaction_exists:
                return "a transaction with that id exists with another proposal: choose another "
                       "id, or let async_propose generate one";
            case errc::unknown_participant:
                return "the name is not one of the transaction's participants";
            case errc::already_voted:
                return "this participant voted otherwise already: a vote is cast once";
            case errc::already_decided:
                return "the transaction is decided already: the vote came too late (read the "
                       "outcome)";
            case errc::not_decided:
                return "the transaction is not decided yet: only a decided transaction is removed "
                       "(wait for its decision first)";
            case errc::priority_out_of_range:
                return "the queue item's priority is outside Curator's int (-2147483648 to "
                       "2147483647), which its node name encodes: nothing was written";
            case errc::delay_out_of_range:
                return "the queue item's delay is negative or over put_options::max_delay (365 "
                       "days): nothing was written (a delay of 0 delivers at once)";
            case errc::unsupported_put_option:
                return "a priority or a delay needs a queue in the curator_distributed layout "
                       "(queue_options::layout), and one item takes one or the other, not both "
                       "(Curator's node names carry one): nothing was written";
            case errc::tls_config_invalid:
                return "the TLS settings cannot be used (session_config::tls): a certificate, "
                       "key or CA file is missing or not PEM, the key does not match the "
                       "certificate or its password, or no CA is trusted (the log says which)";
            case errc::tls_handshake_failed:
                return "no TLS connection to any server: the handshake failed (a plaintext "
                       "port, a server that wants a client certificate, no common protocol "
                       "version) or passed tls_config::handshake_timeout (the log says why)";
            case errc::tls_certificate_rejected:
                return "a server's TLS certificate was rejected: signed by a CA not trusted "
                       "here, expired, or not naming the host it was reached at (the log gives "
                       "OpenSSL's reason)";
        }
        return "unknown zkr error";
    }
};

}  // namespace

const boost::system::error_category& zk_category() noexcept {
    static const zk_category_impl instance;
    return instance;
}

const boost::system::error_category& zkr_category() noexcept {
    static const zkr_category_impl instance;
    return instance;
}

error_code from_zk_code(int rc) noexcept {
    if (rc == ZOK) {
        return {};
    }
    // A request cut short by our own close reports the session's end, not the C client's detail.
    if (rc == ZCLOSING) {
        return make_error_code(errc::session_closed);
    }
    return {rc, zk_category()};
}

bool is_retryable(const error_code& ec) noexcept {
    return ec == zk_errc::connection_loss || ec == zk_errc::operation_timeout ||
           ec == zk_errc::throttled_op;
}

bool is_session_lost(const error_code& ec) noexcept {
    return ec == zk_errc::session_expired || ec == zk_errc::auth_failed ||
           ec == zk_errc::invalid_state || ec == zk_errc::closing || ec == errc::session_closed;
}

}  // namespace zkr
