// The operations of every handle that holds nodes, written once: zkr::lock (one node) and
// zkr::lock_group (several: a lease, async_lock_all's locks); zkr::leadership is a lock.
// - An empty handle fails every operation with errc::not_owner (through the system executor:
//   it belongs to no session).
// - A guarded transaction checks every node the handle holds, so that the server applies nothing
//   once any of them is gone.
#pragma once

#include "lock_state.hpp"

#include <boost/asio/system_executor.hpp>

#include <memory>
#include <vector>

namespace zkr::detail {

/// Runs `op(state, h)` for a handle that holds something; fails `h` with errc::not_owner for an
/// empty one.
template <class State, class... Args, class Op>
void on_held(const std::shared_ptr<State>& state, handler<void(error_code, Args...)> h, Op op) {
    if (!state || state->empty()) {
        fail(std::move(h), boost::asio::system_executor(), make_error_code(errc::not_owner));
        return;
    }
    op(*state, std::move(h));
}

/// Runs `ops` as one transaction preceded by a check of each guard's node, on the first guard's
/// session. Handler: one result per op of `ops` (the checks are left out); errc::lock_lost if a
/// check failed, and each guard whose node was missing is marked lost. Fails with lock_lost at
/// once if a guard is lost already.
void guarded_multi(const std::vector<std::shared_ptr<lock_state>>& guards, std::vector<op> ops,
                   handler<void(error_code, std::vector<op_result>)> h);

}  // namespace zkr::detail
