// The entry points of every queue recipe: acquire, adopt and prepare a lock directory, and deliver
// what they hold. A hold's max_hold clock starts in one place, deliver_held: once the holder has
// its handle, so that a holder is told of the loss before its node goes (lock_state::lose).
#pragma once

#include "lock_state.hpp"
#include "queue_acquire.hpp"

#include <zkr/lock_group.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zkr::detail {

/// The longest max_hold zkr counts: a century, "practically never". A longer bound is cut to it,
/// since the steady clock's deadline (now + max_hold, in nanoseconds) overflows past ~292 years
/// into the past, which would take the lock back at once.
inline constexpr std::chrono::hours longest_hold{24 * 365 * 100};

/// Checks a max_hold (mutex_options, semaphore_options) before anything is created:
/// errc::invalid_argument for a bound that is not positive (it would take the lock back at once);
/// a bound past longest_hold is cut to it.
error_code check_max_hold(std::optional<std::chrono::milliseconds>& max_hold);

/// What acquire_lock and adopt_lock check before any request: the paths, the max_hold (cut to
/// longest_hold) and the size of our node's create. Kept in `request.check`, and answered from
/// there when it is set.
error_code check_queue_request(acquire_request& request);

/// Runs the queue algorithm and wraps the result in a lock handle: the one entry point of every
/// lock recipe (mutex, shared_mutex, election). The max_hold clock starts once `h` has run.
void acquire_lock(acquire_request request, loss_policy policy,
                  handler<void(error_code, zkr::lock)> h);

/// True if `node` is a node of `dir` whose name carries `marker`: one async_adopt may take over.
bool names_node_of(const std::string& node, const std::string& dir, std::string_view marker);

/// Whether this process may take over `node`: it exists, our session owns it, and no handle of
/// ours holds it (errc::not_owner, errc::already_held otherwise). On success the node stays
/// claimed (session_seam::holds_node) while the returned claim lives: keep it until the node's
/// own lock_state has started.
boost::asio::awaitable<std::tuple<error_code, zkr::stat, std::shared_ptr<node_claim>>>
claim_own_node(session_ptr s, std::string node);

/// Takes over `node`, a node of the queue `request` describes that our session owns, and
/// completes once it holds the lock (at once, or after waiting like an acquisition): the
/// async_adopt of every queue recipe. Errors: errc::invalid_path (not a node of that queue),
/// errc::invalid_argument (max_hold), claim_own_node's, and acquire_lock's. The max_hold clock
/// starts once `h` has run.
void adopt_lock(acquire_request request, std::string node, loss_policy policy,
                handler<void(error_code, zkr::lock)> h);

/// Creates a lock directory (and its missing ancestors) ahead of the first acquisition: the
/// async_prepare of every lock recipe. Checks the paths as acquire_lock does.
void prepare_lock_dir(const session_ptr& s, const std::string& dir, const std::string& marker,
                      handler<void(error_code)> h);

/// Completes `pending` with `held`, then starts its max_hold clock (each member's, for a group:
/// a lease): the clock is posted behind the delivery, through the same executors.
void deliver_held(pending_handler<void(error_code, zkr::lock)>& pending, error_code ec,
                  zkr::lock held);
void deliver_held(pending_handler<void(error_code, zkr::lock_group)>& pending, error_code ec,
                  zkr::lock_group held);

/// `h` wrapped to deliver through deliver_held: for an operation whose handle reaches the caller
/// from a coroutine (spawn).
template <class Handle>
handler<void(error_code, Handle)> delivering(handler<void(error_code, Handle)> h,
                                             const completion_executors& ex) {
    return adapt<void(error_code, Handle), void(error_code, Handle)>(
        std::move(h), ex, [](auto& pending, error_code ec, Handle held) {
            deliver_held(pending, ec, std::move(held));
        });
}

}  // namespace zkr::detail
