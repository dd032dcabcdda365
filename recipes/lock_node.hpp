// What a node is, before revocation writes into it or a sequencer check calls it valid: both act
// on a path that comes from outside (a command line, a token a resource was handed), and zkr
// never writes to, deletes or vouches for a node that is not a lock node of a known recipe.
#pragma once

#include "coroutines.hpp"

#include <zkr/znode.hpp>

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>
#include <tuple>

namespace zkr::detail {

struct lock_node {
    /// What it is for: one of names::kinds::all, or "lease" (a semaphore's lease), or
    /// "semaphore" (a contender in a semaphore's queue).
    std::string_view role;
    zkr::stat stat;
    /// Nothing ahead of it blocks it (the head of an exclusive queue, a reader with no writer
    /// ahead, a lease within the semaphore's maximum). Only with `with_holding`.
    bool holds = false;
};

inline constexpr std::string_view lease_role = "lease";
inline constexpr std::string_view semaphore_queue_role = "semaphore";

/// Reads `node` and says what it is. Errors: zk_errc::no_node; errc::not_a_lock_node when it is
/// not an ephemeral node named by a known lock scheme in a lock directory; the session's errors.
/// `with_holding` also lists its directory to decide `holds` (one more request, two for a lease).
boost::asio::awaitable<std::tuple<error_code, lock_node>> inspect_lock_node(session_ptr s,
                                                                            std::string node,
                                                                            bool with_holding);

}  // namespace zkr::detail
