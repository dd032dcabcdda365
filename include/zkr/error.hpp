// Errors reported by zkr.
//
// Every asynchronous operation completes with a boost::system::error_code. Two categories exist:
// - zk_errc mirrors the ZooKeeper C client's return codes (the numeric values are the C values), so
//   a server-side condition such as "node exists" keeps the meaning ZooKeeper documents;
// - errc holds zkr's own conditions (session closed, lock lost, invalid path, ...).
// Two classifiers answer the questions callers ask most: can I retry (is_retryable) and is the
// session, with every lock and watch it carried, gone (is_session_lost).
#pragma once

#include <zkr/export.hpp>

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace zkr {

using error_code = boost::system::error_code;

/// ZooKeeper's own result codes, with the numeric values of the C client.
enum class zk_errc : int {
    system_error = -1,
    runtime_inconsistency = -2,
    data_inconsistency = -3,
    connection_loss = -4,
    marshalling_error = -5,
    unimplemented = -6,
    operation_timeout = -7,
    bad_arguments = -8,
    invalid_state = -9,
    new_config_no_quorum = -13,
    reconfig_in_progress = -14,
    ssl_connection_error = -15,
    api_error = -100,
    no_node = -101,
    no_auth = -102,
    bad_version = -103,
    no_children_for_ephemerals = -108,
    node_exists = -110,
    not_empty = -111,
    session_expired = -112,
    invalid_callback = -113,
    invalid_acl = -114,
    auth_failed = -115,
    closing = -116,
    nothing = -117,
    session_moved = -118,
    not_readonly = -119,
    ephemeral_on_local_session = -120,
    no_watcher = -121,
    reconfig_disabled = -123,
    session_closed_require_sasl_auth = -124,
    throttled_op = -127,
};

/// zkr's own conditions.
enum class errc : int {
    session_closed = 1,      ///< the session was closed (by the user or by destruction)
    connect_timeout,         ///< no server answered within session_config::connect_timeout
    invalid_connect_string,  ///< the hosts string could not be parsed or resolved
    invalid_path,            ///< a path is not a valid absolute ZooKeeper path
    not_connected,           ///< async_connect has not completed successfully yet
    lock_lost,               ///< the lock (or leadership) was lost: expiry, deletion, or partition
    lock_node_deleted,       ///< our lock node was deleted by someone else
    session_suspended,       ///< the connection was lost and the policy counts that as loss
    session_deadline,        ///< disconnected so long that the server may have expired us
    not_owner,               ///< the handle does not own a lock (empty, released or lost)
    invalid_argument,        ///< an argument is out of range (see the message)
    semaphore_limit_mismatch,  ///< the semaphore exists with another maximum of leases
    request_too_large,         ///< a request over ZooKeeper's packet limit
                               ///< (session_config::max_packet_bytes)
    too_many_watches,  ///< the session's watches would no longer fit in the packet re-arming them
    ipv6_literal,      ///< "::1:2181": an IPv6 address without brackets ("[::1]:2181")
    chroot_missing,    ///< the connect string's chroot does not exist on the server
    path_in_use,       ///< the path holds data of another kind: something else uses it
    deadlock,  ///< a blocking call (zkr::blocking) from the thread that would have to complete it
    ttl_disabled,         ///< the server does not allow TTL nodes (zookeeper.extendedTypesEnabled)
    max_hold_passed,      ///< held for mutex_options::max_hold: the lock was taken back
    quorum_unreachable,   ///< connected, but no answer through the leader for so long that it
                          ///< may have expired us (session_config::quorum_check)
    already_held,         ///< a handle of this process already holds that node (adopted or joined)
    too_many_open_files,  ///< the process (EMFILE) or the system (ENFILE) ran out of descriptors
    not_a_lock_node,      ///< revocation or a sequencer check named a node that is no contender
                          ///< of a lock recipe (a persistent node, a directory, another recipe's)
    not_revocable,        ///< a lock node whose recipe does not heed revocation (an election's,
                          ///< a turn in a semaphore's queue)
    node_taken,           ///< another session's node holds the path (persistent_node waits for it)
    already_started,      ///< the object was started already (or closed)
    invalid_service_instance,  ///< JSON that is not a service instance in Curator's format, or
                               ///< an instance's field out of range (see the message)
    not_a_counter,             ///< a counter's node holds data that is not a counter of its kind (a
                    ///< shared_count's 4 bytes, an atomic_long's 8 or none): nothing is written
    outcome_unknown,  ///< a write's answer was lost, and ZooKeeper cannot tell whether it landed
                      ///< (a counter: another writer may have written the same bytes at the same
                      ///< version; a queue's put or take: the item's name is not known)
    claim_lost,  ///< a queue claim is gone (released, completed, or its session ended or renewed
                 ///< since it was made): its completion is refused and nothing is written
    not_a_transaction,         ///< a two-phase commit's transaction node (or its decision, or a
                               ///< vote) holds data that is not of the recipe: nothing is written
    unknown_transaction,       ///< no transaction with that id (never proposed, or removed)
    transaction_exists,        ///< another proposal holds that transaction id
    unknown_participant,       ///< the name is not one of the transaction's participants
    already_voted,             ///< the participant voted otherwise already: a vote is cast once
    already_decided,           ///< the transaction is decided: a vote after the decision is refused
    not_decided,               ///< removing a transaction that is not decided yet
    priority_out_of_range,     ///< a queue item's priority outside Curator's int (put_options):
                               ///< nothing is written
    delay_out_of_range,        ///< a queue item's delay negative or over put_options::max_delay:
                               ///< nothing is written
    unsupported_put_option,    ///< a priority or a delay on a queue whose layout has no room for
                               ///< it (curator_simple), or both on one item: nothing is written
    tls_config_invalid,        ///< session_config::tls cannot be used: a file missing or not PEM,
                               ///< a key that does not match or opens with another password, no CA
    tls_handshake_failed,      ///< no TLS connection to any server: protocol, a client certificate
                               ///< the server wanted, a plaintext port, the handshake deadline
    tls_certificate_rejected,  ///< a server's certificate failed verification (another CA,
                               ///< expired, another host name): the log says why
};

ZKR_API const boost::system::error_category& zk_category() noexcept;
ZKR_API const boost::system::error_category& zkr_category() noexcept;

inline error_code make_error_code(zk_errc e) noexcept {
    return {static_cast<int>(e), zk_category()};
}
inline error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), zkr_category()};
}

/// Maps a ZooKeeper C client return code (ZOK, ZNONODE, ...) to an error_code; 0 is success.
ZKR_API error_code from_zk_code(int rc) noexcept;

/// True for transient conditions: the same request may succeed once the connection is back.
ZKR_API bool is_retryable(const error_code& ec) noexcept;

/// True when the session is gone for good (expired, closed, authentication failed): every
/// ephemeral node, watch and lock of that session is gone too.
ZKR_API bool is_session_lost(const error_code& ec) noexcept;

}  // namespace zkr

namespace boost::system {
template <>
struct is_error_code_enum<zkr::zk_errc> : std::true_type {};
template <>
struct is_error_code_enum<zkr::errc> : std::true_type {};
}  // namespace boost::system
