// The names zkr's recipes give to znodes: one table for the recipes, the CLI, `zkr status`, the
// docs and the tests. They are Apache Curator's names (and kazoo's, which zkr reads), so that
// processes of all three libraries can share one lock directory; changing one breaks interop.
//
// A queue node is "<protection prefix><uuid><marker><sequence>": "_c_<uuid>-lock-0000000007".
// The uuid lets a contender find its node after a create whose answer was lost; the sequence is
// the server's counter of the parent directory, which orders the queue.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

namespace zkr::names {

/// Curator's "protected" node prefix, before the creator's uuid.
inline constexpr std::string_view protection_prefix = "_c_";

/// The creator's uuid in a protected name, as text ("8-4-4-4-12" hex digits), and the sequence the
/// server appends to a sequential node's name: their lengths.
inline constexpr std::size_t uuid_length = 36;
inline constexpr std::size_t sequence_length = 10;

/// The length of a protected sequential node's name with `marker`: "_c_<uuid><marker><sequence>".
constexpr std::size_t protected_name_length(std::string_view marker) noexcept {
    return protection_prefix.size() + uuid_length + marker.size() + sequence_length;
}

/// Markers between the uuid and the sequence number.
inline constexpr std::string_view lock_marker = "-lock-";      ///< mutex, semaphore queue
inline constexpr std::string_view read_marker = "-__READ__";   ///< read-write lock, readers
inline constexpr std::string_view write_marker = "-__WRIT__";  ///< read-write lock, writers
inline constexpr std::string_view latch_marker = "-latch-";    ///< leader election
inline constexpr std::string_view lease_marker = "-lease-";    ///< semaphore leases
/// kazoo's markers (nodes "<hex>__lock__<seq>"), recognised in lock directories.
inline constexpr std::string_view kazoo_lock_marker = "__lock__";
inline constexpr std::string_view kazoo_read_marker = "__rlock__";

/// A semaphore at PATH keeps its queue in PATH/locks and its leases in PATH/leases
/// (Curator's InterProcessSemaphoreV2 layout).
inline constexpr std::string_view semaphore_queue = "locks";
inline constexpr std::string_view semaphore_leases = "leases";
/// The data a revoker writes into a holder's node to ask it to let go (Curator's
/// LockInternals.REVOKE_MESSAGE, written by its Revoker.attemptRevoke).
inline constexpr std::string_view revoke_request = "__REVOKE__";
/// A queue at PATH: items are PATH/qn-<sequence> (Curator's SimpleDistributedQueue) or, in the
/// curator_distributed layout, PATH/queue-... (Curator's DistributedQueue family), claims
/// PATH/zkr-claims/<item> by default, waiting consumers PATH/zkr-waiters/_c_<uuid>-wait-<sequence>.
/// zkr's own names never begin as an item's.
inline constexpr std::string_view queue_item_prefix = "qn-";
inline constexpr std::string_view curator_queue_item_prefix = "queue-";
inline constexpr std::string_view queue_claims = "zkr-claims";
inline constexpr std::string_view queue_waiters = "zkr-waiters";
inline constexpr std::string_view waiter_marker = "-wait-";
/// A double barrier's node that says "everyone is in" (Curator's DistributedDoubleBarrier).
inline constexpr std::string_view double_barrier_ready = "ready";
/// A two-phase commit's transaction PATH/<txid> holds one vote node per participant,
/// "vote-<name>", and, once decided, "decision"; a vote's data and the decision's are "commit" or
/// "abort" (docs/two-phase-commit.md).
inline constexpr std::string_view vote_prefix = "vote-";
inline constexpr std::string_view decision_node = "decision";
inline constexpr std::string_view commit_word = "commit";
inline constexpr std::string_view abort_word = "abort";

/// What a queue node is for: queue_entry::kind. (A semaphore queues in its "locks" folder with
/// lock nodes; its leases are counted, not queued, and have no kind.)
namespace kinds {
inline constexpr std::string_view lock = "lock";
inline constexpr std::string_view read = "read";
inline constexpr std::string_view write = "write";
inline constexpr std::string_view latch = "latch";
inline constexpr std::array<std::string_view, 4> all{lock, read, write, latch};
}  // namespace kinds

/// One naming scheme of queue nodes: the marker that ends the name before the sequence, whether
/// its holders share the lock, and its kind.
struct queue_scheme {
    std::string_view marker;
    bool shared;
    std::string_view kind;
};

/// Every scheme a lock directory may hold, in the order names are matched: a name is of the
/// first scheme whose marker (without its leading '-') ends the name before the sequence.
/// "__rlock__" comes before "__lock__", which is its suffix. Leases are not queued: the
/// semaphore counts them instead.
inline constexpr std::array<queue_scheme, 6> queue_schemes{{
    {kazoo_read_marker, true, kinds::read},
    {kazoo_lock_marker, false, kinds::lock},
    {read_marker.substr(1), true, kinds::read},
    {write_marker.substr(1), false, kinds::write},
    {lock_marker, false, kinds::lock},
    {latch_marker, false, kinds::latch},
}};

}  // namespace zkr::names
