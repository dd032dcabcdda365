// zkr::mutex: a distributed, herd-free, cancellation-safe mutual exclusion lock.
//
// Each acquisition creates an ephemeral sequential node "<path>/_c_<uuid>-lock-<seq>" (the
// naming of Apache Curator's InterProcessMutex, so Java and C++ processes can share a lock) and
// waits, watching only the node just ahead of it, until it is first in line. kazoo's
// "__lock__" nodes in the same directory are honoured as contenders too.
//
// One mutex object serves any number of concurrent acquisitions; each gets its own node and
// its own zkr::lock. There is no reentrancy: a second async_lock from the same process queues
// behind the first like any other contender.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/lock.hpp>
#include <zkr/names.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace zkr {

class session;
namespace detail {
class session_seam;
struct access;
struct mutex_impl;
}  // namespace detail

struct mutex_options {
    loss_policy on_loss = loss_policy::on_expiry;
    /// Data stored in our lock node (shown by `zkr status`). Empty: "<hostname>:<pid>".
    std::string node_data = {};
    /// The longest a lock may be held, from its acquisition: then the holder loses it
    /// (errc::max_hold_passed, through async_wait_lost as any loss) and its node is deleted, so
    /// the next waiter goes ahead. Unset: no limit. A frozen holder cannot be told: its node
    /// stays until its session expires (docs/mutex.md, "Bounded holds"); fencing covers that.
    /// Zero or negative: acquisitions fail with errc::invalid_argument before creating anything.
    /// Longer than a century: a century ("practically never").
    std::optional<std::chrono::milliseconds> max_hold = std::nullopt;
};

/// A distributed mutex on one lock directory (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Lifetimes: this object may be destroyed while operations are pending (they keep what they
///   need); arguments are copied.
/// - Thread safety: distinct objects are independent; one object may be used from several
///   threads (operations are serialised on the session's strand).
class ZKR_API mutex {
  public:
    /// `path` is the lock directory, created (as container nodes) on first use or by
    /// async_prepare. Nothing is checked until an operation, which fails with
    /// errc::invalid_path for a malformed path.
    ///
    /// The mutex shares the session's state: it may outlive the `session` object, and locks
    /// may outlive both. Once the session is closed (destroying the session object closes it),
    /// operations fail with errc::session_closed. `s` must not be a moved-from session.
    mutex(session& s, std::string path, mutex_options options = {});

    const std::string& path() const noexcept;

    /// Acquires the lock, waiting as long as it takes.
    ///
    /// Handler signature: void(error_code, lock).
    /// Executor: the handler's associated executor, by default the session's.
    /// Cancellation: terminal, partial and total. Our node is deleted before the handler runs
    /// (or, if the connection is down, as soon as it is back), and the handler gets
    /// boost::asio::error::operation_aborted. For a timeout, combine with a timer:
    ///   co_await (m.async_lock(as_tuple(use_awaitable)) || timer.async_wait(use_awaitable))
    /// Connection loss while waiting is survived as long as the session lives.
    /// Errors: errc::invalid_path, errc::invalid_argument (options.max_hold not positive),
    /// zk_errc::session_expired, errc::session_closed, zk_errc::no_auth (the lock directory's ACL
    /// denies us), errc::lock_node_deleted (our node was deleted while we waited).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_lock(Token&& token = {}) {
        return detail::initiate<void(error_code, lock)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_lock(impl, false, std::move(h)); });
    }

    /// Acquires the lock only if it is free now; never waits for another holder.
    /// Handler signature: void(error_code, lock): no error and an empty lock when busy (our
    /// node is deleted again before completion).
    /// Costs 2 requests when free, 3 when busy. Cancellation and errors: as async_lock.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_try_lock(Token&& token = {}) {
        return detail::initiate<void(error_code, lock)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_lock(impl, true, std::move(h)); });
    }

    /// Takes over a node of this mutex's directory that our session already owns, by its path
    /// (lock::path()): after a restart that resumed the session (session_config::resume), the
    /// previous process's lock is re-attached with its fencing token. Completes once that node
    /// holds the lock: at once if it did, after waiting like async_lock if it was still queued.
    /// Only one process may use a session: the previous one must be gone (docs/session.md).
    ///
    /// Handler signature: void(error_code, lock).
    /// Errors: errc::not_owner (no such node, or another session owns it), errc::already_held
    /// (a handle of this process holds the node already, is adopting it, or an acquisition of
    /// this process waits with it: use that one),
    /// errc::invalid_path (not a node of this directory and kind), and async_lock's. Cancellation:
    /// as async_lock (the adopted node is deleted).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_adopt(std::string node_path, Token&& token = {}) {
        return detail::initiate<void(error_code, lock)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string node) {
                initiate_adopt(impl, std::move(node), std::move(h));
            },
            std::move(node_path));
    }

    /// Creates the lock directory and its missing ancestors now (container nodes, which the
    /// server removes once they have held nodes and are empty again), so that the first
    /// acquisition costs what every later one does (2 requests when free). In a missing
    /// directory it would first see its create fail, then create each component of the path
    /// in turn (one round trip each), then start again: for "/app/locks/db", 5 more round trips.
    ///
    /// Handler signature: void(error_code): success also when the directory exists. Waits
    /// through connection loss. Errors: errc::invalid_path, zk_errc::no_auth (an ancestor's ACL
    /// denies us), the session's end (zk_errc::session_expired, errc::session_closed).
    /// Not cancellable.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_prepare(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_prepare(impl, std::move(h)); });
    }

    using executor_type = boost::asio::any_io_executor;
    /// The executor handlers default to: the session's.
    executor_type get_executor() const noexcept;

  private:
    friend struct detail::access;
    /// One side of a read-write lock: the same queue with Curator's "__READ__"/"__WRIT__" names.
    mutex(std::shared_ptr<detail::session_seam> s, std::string path, std::string marker,
          mutex_options options);

    using impl_ptr = std::shared_ptr<const detail::mutex_impl>;
    static void initiate_prepare(const impl_ptr& impl, detail::handler<void(error_code)> h);
    static void initiate_adopt(const impl_ptr& impl, std::string node,
                               detail::handler<void(error_code, lock)> h);
    static void initiate_lock(const impl_ptr& impl, bool try_only,
                              detail::handler<void(error_code, lock)> h);

    impl_ptr impl_;
};

}  // namespace zkr
