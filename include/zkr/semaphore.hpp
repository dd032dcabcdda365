// zkr::semaphore: a distributed counting semaphore with leases.
//
// At most max_leases leases exist at any time across all clients. A lease is an ephemeral node
// under "<path>/leases" ("_c_<uuid>-lease-<seq>", Apache Curator's InterProcessSemaphoreV2
// layout), so a crashed holder's lease goes with its session. Acquisitions queue on an internal
// zkr::mutex ("<path>/locks"): only the first in line watches the lease directory, so a released
// lease wakes one waiter, not all of them, and waiters are served in order.
//
// The maximum is stored in the data of the "<path>" node (persistent) by the first user; a client
// that brings another maximum gets errc::semaphore_limit_mismatch instead of silently
// over-admitting (Curator does not check this; kazoo does). A "<path>" node holding data that is
// not a count belongs to something else: errc::path_in_use.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/lock_group.hpp>
#include <zkr/mutex.hpp>

#include <memory>
#include <string>
#include <vector>

namespace zkr {

class session;

struct semaphore_options;
namespace detail {
class session_seam;
struct access;
struct semaphore_impl;
}  // namespace detail

/// One or more leases held together: the lock-handle contract (owns, loss, release, destructor
/// releases at once), with fencing_token() the first lease node's czxid.
using lease = lock_group;

struct semaphore_options {
    loss_policy on_loss = loss_policy::on_expiry;
    /// Data stored in our lease nodes. Empty: "<hostname>:<pid>".
    std::string node_data = {};
    /// The longest a lease may be held: as mutex_options::max_hold (positive, at most a century),
    /// for every node of the lease.
    std::optional<std::chrono::milliseconds> max_hold = std::nullopt;
};

/// A counting semaphore (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Lifetimes: this object may be destroyed while operations are pending (they keep what they
///   need); arguments are copied.
/// - Thread safety: distinct objects are independent; one object may be used from several
///   threads (operations are serialised on the session's strand).
class ZKR_API semaphore {
  public:
    /// Lifetimes: as for zkr::mutex (the semaphore may outlive the session object; operations
    /// then fail with errc::session_closed). The first acquisition creates the directory and its
    /// "locks" and "leases" folders, one round trip per missing path component.
    semaphore(session& s, std::string path, int max_leases, semaphore_options options = {});

    const std::string& path() const noexcept;
    int max_leases() const noexcept;

    /// Acquires `count` leases, all or nothing, waiting as long as it takes.
    ///
    /// Handler signature: void(error_code, lease).
    /// Cancellation: terminal, partial, total: our lease nodes and our place in the queue are
    /// deleted, then operation_aborted. Use `||` with a timer for a timeout.
    /// Errors: errc::invalid_argument (count < 1 or > max_leases, or options.max_hold not
    /// positive), errc::semaphore_limit_mismatch, errc::path_in_use (the "<path>" node holds data
    /// that is not a lease count: another kind of node), errc::invalid_path, session errors.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_acquire(int count, Token&& token = {}) {
        return start(count, false, std::forward<Token>(token));
    }
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_acquire(Token&& token = {}) {
        return start(1, false, std::forward<Token>(token));
    }

    /// Acquires `count` leases only if they are free now (an empty lease, no error, otherwise).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_try_acquire(int count, Token&& token = {}) {
        return start(count, true, std::forward<Token>(token));
    }
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_try_acquire(Token&& token = {}) {
        return start(1, true, std::forward<Token>(token));
    }

    /// Takes over lease nodes our session holds (lease::locks()[i].path()) after a restart that
    /// resumed the session (session_config::resume), as mutex::async_adopt does: a lease node
    /// is a granted lease (the queue is only for acquiring), so the lease is held at once.
    ///
    /// Handler signature: void(error_code, lease).
    /// Errors: errc::invalid_path (not a lease node of this semaphore), errc::invalid_argument
    /// (no node, more than max_leases, options.max_hold not positive), errc::not_owner (no such
    /// node, or another session owns it), errc::already_held (a handle of this process holds
    /// it, or it is listed twice), the session's errors. Not cancellable.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_adopt(std::vector<std::string> lease_nodes, Token&& token = {}) {
        return detail::initiate<void(error_code, lease)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::vector<std::string> nodes) {
                initiate_adopt(impl, std::move(nodes), std::move(h));
            },
            std::move(lease_nodes));
    }

  private:
    friend struct detail::access;
    semaphore(std::shared_ptr<detail::session_seam> s, std::string path, int max_leases,
              semaphore_options options);

    template <class Token>
    auto start(int count, bool try_only, Token&& token) {
        return detail::initiate<void(error_code, lease)>(
            std::forward<Token>(token), [impl = impl_, count, try_only](auto h) {
                initiate_acquire(impl, count, try_only, std::move(h));
            });
    }
    using impl_ptr = std::shared_ptr<const detail::semaphore_impl>;
    static void initiate_acquire(const impl_ptr& impl, int count, bool try_only,
                                 detail::handler<void(error_code, lease)> h);
    static void initiate_adopt(const impl_ptr& impl, std::vector<std::string> nodes,
                               detail::handler<void(error_code, lease)> h);

    impl_ptr impl_;
};

}  // namespace zkr
