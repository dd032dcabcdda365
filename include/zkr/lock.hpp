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

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/op.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace zkr {

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
class ZKR_API lock {
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

    /// Releases the lock: deletes our node.
    ///
    /// Handler signature: void(error_code).
    /// Completes once the node is gone, or the session has ended (which removed it). If the
    /// connection is down, completes no later than the loss deadline with errc::session_deadline
    /// while deletion goes on in the background.
    /// Errors: errc::not_owner for an empty or already released handle; the loss reason if the
    /// lock had been lost before. Not cancellable.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_release(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [state = state_](auto h) { release_impl(state, std::move(h)); });
    }

    /// Waits until the lock is lost.
    ///
    /// Handler signature: void(error_code): the reason (zk_errc::session_expired,
    /// errc::lock_node_deleted, errc::session_deadline, errc::session_suspended,
    /// errc::session_closed). Completes at once if the lock is already lost; with
    /// operation_aborted if the lock is released first. The first call makes zkr watch our node
    /// (one request) so that its deletion by another client is noticed.
    /// Cancellation: terminal, partial, total (operation_aborted).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_lost(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [state = state_](auto h) { wait_lost_impl(state, std::move(h)); });
    }

    /// Runs `ops` as one ZooKeeper transaction that first checks our lock node still exists: the
    /// server applies nothing once the lock is lost.
    ///
    /// Handler signature: void(error_code, std::vector<op_result>) with one result per op in
    /// `ops` (the check is not included). errc::lock_lost if the check failed (the lock is then
    /// marked lost); otherwise the first failing op's error.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_guarded_multi(std::vector<op> ops, Token&& token = {}) {
        return detail::initiate<void(error_code, std::vector<op_result>)>(
            std::forward<Token>(token),
            [state = state_](auto h, std::vector<op> o) {
                guarded_multi_impl(state, std::move(o), std::move(h));
            },
            std::move(ops));
    }

  private:
    friend struct detail::access;
    using state_ptr = std::shared_ptr<detail::lock_state>;
    static void release_impl(const state_ptr&, detail::handler<void(error_code)>);
    static void wait_lost_impl(const state_ptr&, detail::handler<void(error_code)>);
    static void guarded_multi_impl(const state_ptr&, std::vector<op>,
                                   detail::handler<void(error_code, std::vector<op_result>)>);

    state_ptr state_;
};

}  // namespace zkr
