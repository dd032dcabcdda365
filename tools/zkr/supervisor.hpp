// Running a command while holding a lock (or lease, or leadership): the child gets the lock's
// path and fencing token in its environment, signals sent to us are forwarded to it, and if the
// lock is lost it gets SIGTERM, then SIGKILL after a grace period.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace zkr::cli {

/// What the command needs to know about the handle it runs under.
struct held {
    std::string path;
    std::int64_t fencing_token = 0;
    /// Starts waiting for loss; the callback gets the reason (operation_aborted once released).
    std::function<void(std::function<void(boost::system::error_code)>)> wait_lost;
    /// Starts waiting for a revocation request (success when asked); empty when requests are
    /// not heeded (a lease, leadership, --ignore-revocation).
    std::function<void(std::function<void(boost::system::error_code)>)> wait_revocation = {};
};

struct child_outcome {
    int exit_code = 0;  ///< the shell's convention: the status, or 128+N when killed by signal N
    bool lost = false;  ///< the lock was lost while the command ran
    boost::system::error_code lost_reason;
    bool revoked = false;  ///< stopped because another client asked for the lock
};

/// Spawns `argv` (PATH lookup) and supervises it until it exits.
boost::asio::awaitable<child_outcome> run_child(const std::vector<std::string>& argv, const held& h,
                                                std::chrono::seconds grace, bool quiet);

}  // namespace zkr::cli
