// The lock queue as a pure function: which child names are contenders, in what order, and what a
// given contender must do next. No I/O here, so every rule has a unit test.
//
// Recognised names (all ZooKeeper sequential nodes, so the trailing digits are the parent's
// creation counter, shared by every scheme in one directory):
//   _c_<uuid>-lock-<seq>       Curator InterProcessMutex / LeaderSelector, zkr mutex   exclusive
//   _c_<uuid>-__WRIT__<seq>    Curator InterProcessReadWriteLock writer, zkr writer   exclusive
//   _c_<uuid>-__READ__<seq>    Curator read lock, zkr reader                          shared
//   _c_<uuid>-latch-<seq>      Curator LeaderLatch, zkr election                      exclusive
//   <hex>__lock__<seq>         kazoo Lock / Election / WriteLock                      exclusive
//   <hex>__rlock__<seq>        kazoo ReadLock                                         shared
//   _c_<uuid>-lease-<seq>      Curator semaphore lease, zkr lease                     (not queued)
// The markers are in <zkr/names.hpp> (names::queue_schemes).
#pragma once

#include <zkr/names.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zkr::detail {

/// The decimal digits of a sequential node's counter (at most 18): nullopt for anything else.
std::optional<std::int64_t> parse_sequence(std::string_view digits);

enum class contender_kind { exclusive, shared };

struct contender {
    std::string name;
    std::int64_t sequence = 0;
    contender_kind kind = contender_kind::exclusive;
    /// What the node is for: one of names::kinds::all.
    std::string_view role;
};

/// Parses one child name; nullopt if it follows no known scheme.
std::optional<contender> parse_contender(std::string_view name);

/// Contenders among `names`, ordered by sequence. Names of no known scheme go to `unknown`.
std::vector<contender> sorted_contenders(const std::vector<std::string>& names,
                                         std::vector<std::string>* unknown = nullptr);

/// What one contender sees when it looks at the queue.
struct queue_view {
    bool found = false;        ///< our node is in the listing
    bool acquired = false;     ///< nothing ahead of us blocks us
    std::size_t blockers = 0;  ///< contenders ahead of us that block us
    std::size_t position = 0;  ///< index of our node in the queue (0 = head)
    /// The one node to watch: an exclusive contender watches its immediate predecessor, a shared
    /// one the nearest exclusive contender below it.
    std::string watch;
    /// Deleting `watch` unblocks us (it is our only blocker): no need to list again.
    bool watch_is_last_blocker = false;
};

/// Where `own_name` stands among the children `names` (in any order; names of no known scheme go
/// to `unknown`): the rules of sorted_contenders and holders, applied in one pass.
queue_view evaluate(const std::vector<std::string>& names, std::string_view own_name,
                    std::vector<std::string>* unknown = nullptr);

/// One listing, parsed and ordered once, for many contenders to look themselves up in: the
/// waiters of one session that queued together share one listing, and evaluating it once per
/// waiter (evaluate) would cost the square of the queue's length.
class queue_index {
  public:
    /// Names of no known scheme go to `unknown`.
    explicit queue_index(const std::vector<std::string>& names,
                         std::vector<std::string>* unknown = nullptr);

    /// The same answer as evaluate(names, own_name), in logarithmic time.
    queue_view view_of(std::string_view own_name) const;

    std::size_t size() const noexcept { return entries_.size(); }

  private:
    struct entry {
        std::string_view name;  // into the listing, which must outlive the index
        std::int64_t sequence;
        contender_kind kind;
    };
    std::vector<entry> entries_;  // in queue order
    /// For each position: exclusive contenders before it, and the index of the nearest one.
    std::vector<std::size_t> exclusive_before_;
    std::vector<std::size_t> nearest_exclusive_;
};

/// Which of `queue` hold the lock now (nobody ahead blocks them), by index.
std::vector<bool> holders(const std::vector<contender>& queue);

/// The Curator-compatible name prefix of our node: "_c_<uuid>" + marker ("-lock-", ...).
std::string protected_prefix(std::string_view uuid, std::string_view marker);

/// The path a new protected node of `dir` is created with: "<dir>/_c_<uuid><marker>", a fresh
/// uuid, in one allocation (the create appends the sequence).
std::string protected_node_path(std::string_view dir, std::string_view marker);

/// A random RFC 4122 version-4 UUID in its 36-character text form.
std::string make_uuid();
/// The same, appended to `out`.
void append_uuid(std::string& out);

}  // namespace zkr::detail
