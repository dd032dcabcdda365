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
    std::string marker;     ///< names its nodes: names::lock_marker, or a read-write lock's side
    mutex_options options;  ///< node_data filled in ("<hostname>:<pid>" when given empty)
    /// What every acquisition on it starts from, made and checked once: its queue (path, marker,
    /// node data), and `refusal`, the error each acquisition reports at once if the check failed.
    acquire_request request;
    error_code refusal;
};

}  // namespace zkr::detail
