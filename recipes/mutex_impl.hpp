// What a zkr::mutex is made of (its impl_): shared by its copies, and by every operation started
// on it for as long as that operation runs.
#pragma once

#include "queue_acquire.hpp"

#include <zkr/mutex.hpp>

#include <memory>
#include <string>

namespace zkr::detail {

struct mutex_impl {
    std::shared_ptr<session_seam> session;
    std::string path;       ///< the lock directory
    mutex_options options;  ///< node_data filled in ("<hostname>:<pid>" when given empty)
    /// What every acquisition on it starts from, made and checked once: its queue (path, marker
    /// naming its nodes, node data) and the check's outcome, which each acquisition reports.
    acquire_request request;
};

}  // namespace zkr::detail
