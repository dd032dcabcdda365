// zkr::lock_group: several locks held together, released together.
//
// Returned by async_lock_all (several mutexes, all or nothing) and by semaphore::async_acquire
// (zkr::lease: one or more lease nodes). The contract is the lock's: owns() while every member is
// held, async_wait_lost when any member is lost, async_wait_revocation when any is asked to let
// go, async_release for all, and the destructor releases all without waiting.
#pragma once

#include <zkr/detail/holding_handle.hpp>
#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/lock.hpp>
#include <zkr/sequencer.hpp>

#include <memory>
#include <vector>

namespace zkr {

namespace detail {
struct group_state;
}

/// Locks held together (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Lifetimes: this object may be destroyed while operations are pending (they keep what they
///   need); arguments are copied.
/// - Thread safety: distinct objects are independent; one object may be used from several
///   threads (operations are serialised on the session's strand).
/// - Its handlers default to the first member's session executor.
class ZKR_API lock_group : public detail::holding_handle<lock_group> {
  public:
    lock_group() noexcept;
    explicit lock_group(std::vector<lock> locks);
    lock_group(lock_group&&) noexcept;
    /// Releases the held locks (without waiting) before taking over `other`'s.
    lock_group& operator=(lock_group&& other) noexcept;
    /// Releases without waiting.
    ~lock_group();

    /// True while every member is held (false for an empty group).
    bool owns() const noexcept;
    explicit operator bool() const noexcept { return owns(); }
    std::size_t size() const noexcept;
    /// The members, in acquisition order.
    const std::vector<lock>& locks() const noexcept;
    /// The first member's fencing token (0 for an empty group).
    std::int64_t fencing_token() const noexcept;
    /// Why a member was lost (the first lost member's reason; empty while all are held).
    error_code lost_reason() const;
    /// The first member's node and fencing token, for a resource to check (lock::sequencer):
    /// the one the group's fencing_token() names. Empty node for an empty group.
    zkr::sequencer sequencer() const;
    /// True once another client asked any member to let go (lock::revocation_requested).
    bool revocation_requested() const noexcept;

    // async_release, async_wait_lost, async_guarded_multi (one check per member),
    // async_wait_revocation (any member asked): detail::holding_handle.

  private:
    friend class detail::holding_handle<lock_group>;
    using impl_ptr = std::shared_ptr<detail::group_state>;
    static void initiate_release(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_wait_lost(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_guarded_multi(const impl_ptr&, std::vector<op>,
                                       detail::handler<void(error_code, std::vector<op_result>)>);
    static void initiate_wait_revocation(const impl_ptr&, detail::handler<void(error_code)>);

    impl_ptr impl_;
};

}  // namespace zkr
