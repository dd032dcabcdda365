// Running a command while holding a lock (or lease, or leadership): the command gets the lock's
// path and fencing token in its environment, signals sent to zkr are forwarded to it, and "the
// command" is its whole process tree (process_tree.hpp): every promise below holds for every
// process the command starts.
//
// How a hold ends, and when the lock is let go:
// - the command's tree ends by itself: released once the last of its processes is gone (a
//   daemon the command leaves behind keeps the lock, as with flock(1));
// - zkr ends the hold (a revocation request, --max-hold): SIGTERM to every process, SIGKILL to
//   what is left after the grace period, released once the tree is gone;
// - the lock is lost (the session expired, the node was deleted or forcibly revoked, the quorum
//   check failed): the lock may already be someone else's, so every process gets SIGKILL at once.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace zkr::cli {

/// What the command needs to know about the handle it runs under.
struct held {
    std::string path;
    std::int64_t fencing_token = 0;
    /// Starts waiting for loss; the callback gets the reason (operation_aborted once released).
    std::function<void(std::function<void(boost::system::error_code)>)> wait_lost;
    /// Starts waiting for a revocation request (success when asked); empty for handles that
    /// cannot be revoked (a lease, leadership, a barrier).
    std::function<void(std::function<void(boost::system::error_code)>)> wait_revocation = {};
    /// Stop the command when asked (false: --ignore-revocation; the request is still heard, so
    /// that an eviction that follows it is told as a revocation).
    bool heed_revocation = true;
    /// What `path` is, which names the variable that gives it to the command.
    enum class kind {
        lock,       ///< a lock, lease or leadership: ZKR_LOCK_PATH, with ZKR_FENCING_TOKEN and
                    ///< ZKR_SEQUENCER
        kept_node,  ///< a node kept in existence (node keep, service register): ZKR_NODE_PATH
        claim,      ///< a queue item's claim: ZKR_CLAIM_PATH, with ZKR_FENCING_TOKEN and
                    ///< ZKR_SEQUENCER
    } what = kind::lock;
    /// More of the command's environment, after its identity (a claimed queue item's).
    std::vector<std::string> environment = {};
    /// What the command reads on its standard input instead of zkr's (a claimed queue item).
    std::optional<std::string> input = {};
};

/// A node kept in existence at `path` (zkr node keep, zkr service register): never lost, since
/// it comes back whenever it goes.
inline held kept_node_at(std::string path) {
    held h;
    h.path = std::move(path);
    h.what = held::kind::kept_node;
    h.wait_lost = [](std::function<void(boost::system::error_code)>) {};
    return h;
}

/// How zkr ends a hold it decides to end.
struct hold_limits {
    /// Between SIGTERM and SIGKILL when zkr stops the command (not on loss: SIGKILL at once).
    std::chrono::seconds grace{10};
    /// Stop the command after this long, and only then let the lock go (--max-hold).
    std::optional<std::chrono::seconds> max_hold;
    bool quiet = false;
};

struct child_outcome {
    int exit_code = 0;  ///< the shell's convention: the status, or 128+N when killed by signal N
    bool lost = false;  ///< the lock was lost while the command's tree ran
    boost::system::error_code lost_reason;
    /// Another client asked for the lock while the command's tree ran, and the tree was stopped
    /// for it or the lock then taken away (a forced revocation).
    bool revoked = false;
    bool held_too_long = false;  ///< stopped because --max-hold passed
};

/// Spawns `argv` (PATH lookup) and supervises its whole process tree until it is gone.
boost::asio::awaitable<child_outcome> run_child(const std::vector<std::string>& argv, const held& h,
                                                hold_limits limits);

}  // namespace zkr::cli
