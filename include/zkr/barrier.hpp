// zkr::barrier: a gate that holds processes until it is removed.
//
// The barrier is one persistent node at its path (Apache Curator's DistributedBarrier layout, so
// Java processes share it): async_set creates it, async_remove deletes it, and async_wait
// completes once it does not exist. Waiters watch the node itself: removing the barrier wakes
// every waiter at once, which is the point of a barrier. The node is persistent, so a barrier
// outlives the session that set it: whoever sets it must remove it (or an operator, with
// `zkr barrier remove`).
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <memory>
#include <string>

namespace zkr {

class session;
namespace detail {
class session_seam;
struct access;
struct barrier_impl;
}  // namespace detail

/// A barrier (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Lifetimes: as for zkr::mutex (the barrier may outlive the session object; operations then
///   fail with errc::session_closed).
/// - Errors: errc::invalid_path, zk_errc::no_auth, the session's end (zk_errc::session_expired,
///   errc::session_closed). Connection loss is waited out while the session lives.
class ZKR_API barrier {
  public:
    barrier(session& s, std::string path);

    const std::string& path() const noexcept;

    /// Sets the barrier: creates its node (and missing ancestors, as container nodes).
    /// Handler signature: void(error_code): success also when it was set already.
    /// Not cancellable.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_set(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_set(impl, std::move(h)); });
    }

    /// Removes the barrier: every waiter proceeds.
    /// Handler signature: void(error_code): success also when it was not set.
    /// Errors: zk_errc::not_empty if something was created under the barrier's node.
    /// Not cancellable.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_remove(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_remove(impl, std::move(h)); });
    }

    /// Waits until the barrier is not set: at once if it is not. Costs one watch while waiting.
    /// Handler signature: void(error_code).
    /// Cancellation: terminal, partial and total (operation_aborted; the watch is removed). For
    /// a timeout, combine with a timer with `||` (see docs/guide.md, Timeouts).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_wait(impl, std::move(h)); });
    }

  private:
    friend struct detail::access;
    barrier(std::shared_ptr<detail::session_seam> s, std::string path);

    using impl_ptr = std::shared_ptr<const detail::barrier_impl>;
    static void initiate_set(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_remove(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_wait(const impl_ptr&, detail::handler<void(error_code)>);

    impl_ptr impl_;
};

}  // namespace zkr
