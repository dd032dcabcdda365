// zkr::lock: proof that we hold a lock, as a move-only handle (like std::unique_lock).
//
// A lock is returned by the acquisition operations of mutex (and of the other lock recipes). It
// owns one ephemeral znode: its path() and its fencing_token(), the node's creation zxid, which
// strictly increases from one holder to the next. Destroying the handle releases the lock at once,
// without waiting: a discarded handle means an unlocked mutex, so keep it alive for as long as the
// critical section lasts.
//
// A lock can be lost without release: the session expires, someone deletes our node, or (with
// loss_policy::on_suspend) the connection drops. owns() then turns false and async_wait_lost
// completes. Because a client can never know at once that it was cut off, a lock alone protects
// nothing: pass fencing_token() to the resource and let it reject stale tokens, or write to
// ZooKeeper with async_guarded_multi, which the server refuses once our node is gone.
#pragma once

#include <zkr/detail/holding_handle.hpp>
#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/op.hpp>
#include <zkr/sequencer.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace zkr {

class leadership;
namespace detail {
class lock_state;
struct access;
}  // namespace detail

/// When a held lock counts as lost.
enum class loss_policy {
    /// Lost on session expiry, on deletion of our node, or when disconnected so long that the
    /// server may have expired the session (session timeout / 4 after the disconnect). A short
    /// disconnect only suspends. The default.
    on_expiry,
    /// Lost as soon as the connection drops, even if the session later recovers.
    on_suspend,
};

/// A held lock (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Lifetimes: this object may be destroyed while operations are pending (they keep what they
///   need); arguments are copied.
/// - Thread safety: distinct objects are independent; one object may be used from several
///   threads (operations are serialised on the session's strand).
/// - A handle must not be used concurrently with its own move or destruction.
class ZKR_API lock : public detail::holding_handle<lock> {
  public:
    /// An empty handle: owns() is false.
    lock() noexcept;
    explicit lock(std::shared_ptr<detail::lock_state> state) noexcept;
    lock(lock&&) noexcept;
    /// Releases the held lock (without waiting) before taking over `other`'s.
    lock& operator=(lock&& other) noexcept;
    /// Releases without waiting.
    ~lock();

    using executor_type = boost::asio::any_io_executor;

    /// The executor handlers default to: the session's (a system executor for an empty handle).
    executor_type get_executor() const noexcept;

    /// True while the lock is held: acquired, not released, not known to be lost.
    bool owns() const noexcept;
    explicit operator bool() const noexcept { return owns(); }

    /// Full path of our lock node (empty for an empty handle).
    const std::string& path() const noexcept;

    /// The lock node's czxid: unique, and increasing in the order holders acquired the lock,
    /// across the whole ensemble. 0 for an empty handle.
    std::int64_t fencing_token() const noexcept;

    /// Why the lock was lost (empty while held or after a normal release).
    error_code lost_reason() const;

    /// Our node and its fencing token, for a resource to check with async_check (sequencer.hpp).
    /// Empty node for an empty handle.
    zkr::sequencer sequencer() const;

    // async_release, async_wait_lost, async_guarded_multi, async_wait_revocation:
    // detail::holding_handle.

    /// True once another client asked us to let go (async_revoke, Curator's Revoker).
    bool revocation_requested() const noexcept;

    // async_wait_revocation: detail::holding_handle.

  private:
    friend struct detail::access;
    friend class detail::holding_handle<lock>;
    friend class leadership;  // async_publish writes the lock's node
    using impl_ptr = std::shared_ptr<detail::lock_state>;
    static void initiate_release(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_wait_lost(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_guarded_multi(const impl_ptr&, std::vector<op>,
                                       detail::handler<void(error_code, std::vector<op_result>)>);
    static void initiate_wait_revocation(const impl_ptr&, detail::handler<void(error_code)>);

    impl_ptr impl_;
};

}  // namespace zkr
