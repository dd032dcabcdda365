// The asynchronous operations of every handle that holds nodes, declared once: zkr::lock (one
// node) and zkr::lock_group (several: a lease, async_lock_all's locks). zkr::leadership forwards
// to its lock.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/op.hpp>

#include <utility>
#include <vector>

namespace zkr::detail {

/// Mixed into `Handle`, which has a member `impl_` and the static functions initiate_release,
/// initiate_wait_lost, initiate_guarded_multi and initiate_wait_revocation taking it (defined in
/// the library).
///
/// Common to these operations: the handler runs on its associated executor, by default the
/// session's (the first member's for a group); never inline from the initiating function. The
/// handle may be destroyed while they are pending. An empty handle fails them with
/// errc::not_owner.
template <class Handle>
class holding_handle {
  public:
    /// Releases what the handle holds: deletes its node(s).
    ///
    /// Handler signature: void(error_code): for a group, the first member's error.
    /// Completes once the node is gone, or the session has ended (which removed it). If the
    /// connection is down, completes no later than the loss deadline with errc::session_deadline
    /// while deletion goes on in the background.
    /// Errors: errc::not_owner for an empty or already released handle; the loss reason if it
    /// had been lost before. Not cancellable.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_release(Token&& token = {}) {
        return initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = handle().impl_](auto h) { Handle::initiate_release(impl, std::move(h)); });
    }

    /// Waits until the handle's node (a group: any member's) is lost.
    ///
    /// Handler signature: void(error_code): the reason (zk_errc::session_expired,
    /// errc::lock_node_deleted, errc::session_deadline, errc::quorum_unreachable,
    /// errc::session_suspended, errc::session_closed, errc::max_hold_passed). Completes at once if
    /// it is lost already; with operation_aborted if it is released first. The first call makes zkr
    /// watch the node (one request) so that its deletion by another client is noticed.
    /// Cancellation: terminal, partial, total (operation_aborted).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_lost(Token&& token = {}) {
        return initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = handle().impl_](auto h) { Handle::initiate_wait_lost(impl, std::move(h)); });
    }

    /// Runs `ops` as one ZooKeeper transaction that first checks that the handle's node(s)
    /// still exist: the server applies nothing once any is lost. A group's members may hold
    /// nodes of different sessions: the transaction runs on the first one's.
    ///
    /// Handler signature: void(error_code, std::vector<op_result>) with one result per op in
    /// `ops` (the checks are not included). errc::lock_lost if a check failed (that node's lock
    /// is then marked lost); otherwise the first failing op's error.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_guarded_multi(std::vector<op> ops, Token&& token = {}) {
        return initiate<void(error_code, std::vector<op_result>)>(
            std::forward<Token>(token),
            [impl = handle().impl_](auto h, std::vector<op> o) {
                Handle::initiate_guarded_multi(impl, std::move(o), std::move(h));
            },
            std::move(ops));
    }

    /// Waits until another client asks us to let go (a group: any member): zkr::async_revoke,
    /// `zkr revoke`, or Curator's Revoker.attemptRevoke, which write names::revoke_request into
    /// our node. Letting go is ours to do (async_release); a forced revocation deletes the node
    /// after its grace period, and the handle is then lost (errc::lock_node_deleted) like any
    /// other.
    ///
    /// Handler signature: void(error_code): success once requested (at once if it was); the
    /// loss reason if the node is lost first; operation_aborted if released first or cancelled.
    /// The first call makes zkr watch the node (one request), as async_wait_lost does.
    /// Cancellation: terminal, partial, total.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_revocation(Token&& token = {}) {
        return initiate<void(error_code)>(std::forward<Token>(token),
                                          [impl = handle().impl_](auto h) {
                                              Handle::initiate_wait_revocation(impl, std::move(h));
                                          });
    }

  private:
    const Handle& handle() const noexcept { return static_cast<const Handle&>(*this); }
};

}  // namespace zkr::detail
