// Revocation over any session (zkr::async_revoke's body; the step tests run it on the fake).
#pragma once

#include "session_seam.hpp"

#include <zkr/revoke.hpp>

#include <string>

namespace zkr::detail {

/// Asks the holder of `node` to let go (and, if forced, deletes the node after the grace
/// period): see zkr::async_revoke.
void revoke_node(const session_ptr& s, std::string node, revoke_options options,
                 handler<void(error_code, revocation)> h);

}  // namespace zkr::detail
