// Revocation: asking the holder of a lock to let go, and, if it will not, taking the lock away.
//
// Cooperative revocation is Apache Curator's: the revoker writes a request into the holder's node
// (Revoker.attemptRevoke), the holder hears of it through its lock handle
// (lock::async_wait_revocation; Curator: a RevocationListener) and releases when it can. Curator
// and zkr processes can ask each other.
//
// Forced revocation deletes the holder's node once a grace period has passed. The holder then
// loses the lock (errc::lock_node_deleted) as if an operator had deleted the node, and the next
// waiter goes ahead. This is safe only with fencing: the evicted holder may be in the middle of a
// write, and hears of its loss one round trip later at best (never, while it is frozen). A
// resource that refuses tokens lower than the highest it has seen, or a write made with
// async_guarded_multi, refuses that late write; a resource without either would take it.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <chrono>
#include <string>

namespace zkr {

class session;

struct revoke_options {
    /// Delete the holder's node if it has not let go within `grace`.
    bool force = false;
    std::chrono::milliseconds grace{std::chrono::seconds(10)};
};

/// How a revocation ended.
enum class revocation {
    requested,  ///< asked (not forced): the holder lets go when it can, or not at all
    released,   ///< forced, and the holder let go within the grace period
    evicted,    ///< forced: the grace period passed and the holder's node was deleted (or
                ///< possibly deleted: our delete's answer was lost and the node is gone)
};

namespace detail {
ZKR_API void initiate_revoke(session& s, std::string node, revoke_options options,
                             handler<void(error_code, revocation)> h);
}

/// Asks the holder of the lock node `node` (a full path: lock::path(), a queue_entry's node in
/// its directory) to let go; with options.force, deletes the node if it is still there after
/// options.grace.
///
/// Handler signature: void(error_code, revocation).
/// Only a mutex's, a read-write lock's or a semaphore lease's node is ever written to or
/// deleted, and only the node looked at (the request is written at the version read, the
/// eviction deletes the same creation, czxid): anything else is refused before any write.
/// Errors: zk_errc::no_node when `node` does not exist (nothing held there);
/// errc::not_a_lock_node (a persistent node, a directory, a node of no lock recipe);
/// errc::not_revocable (an election's node, a turn in a semaphore's queue); errc::invalid_path;
/// zk_errc::no_auth; the session's errors. Waits through connection loss. Not cancellable.
/// `s` must be valid until the operation is initiated.
template <class Token = boost::asio::deferred_t>
[[nodiscard]] auto async_revoke(session& s, std::string node, revoke_options options = {},
                                Token&& token = {}) {
    return detail::initiate<void(error_code, revocation)>(
        std::forward<Token>(token),
        [&s](auto h, std::string n, revoke_options o) {
            detail::initiate_revoke(s, std::move(n), o, std::move(h));
        },
        std::move(node), options);
}

}  // namespace zkr
