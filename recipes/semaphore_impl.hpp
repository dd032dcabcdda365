// What a zkr::semaphore is made of (its impl_): shared by its copies, and by every operation
// started on it for as long as that operation runs.
#pragma once

#include <zkr/semaphore.hpp>

#include <memory>
#include <string>

namespace zkr::detail {

class session_seam;

struct semaphore_impl {
    std::shared_ptr<session_seam> session;
    std::string path;  ///< the semaphore's node: its data is the maximum
    int max = 0;       ///< leases at most
    semaphore_options options;
};

}  // namespace zkr::detail
