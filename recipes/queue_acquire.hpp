// The queue algorithm shared by the mutex, the read-write lock and leader election
// (docs/mutex.md, "Guarantees"): protected create pipelined with the first listing, watch one node
// only, fast hand-off, survive connection loss, and never leave a node behind.
#pragma once

#include "contender.hpp"
#include "coroutines.hpp"

#include <zkr/log.hpp>
#include <zkr/znode.hpp>

#include <boost/asio/cancellation_signal.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace zkr::detail {

/// Where a queue's nodes go and what they carry: made once per recipe object (a mutex's, at its
/// construction) and shared by every acquisition on it, so that none copies them.
struct queue_spec {
    std::string dir;     ///< the lock directory
    std::string marker;  ///< "-lock-", "-__READ__", "-__WRIT__", "-latch-"
    std::string data;    ///< our node's data
};

/// Our node once we lead the queue (acquired_node, coroutines.hpp). An empty path means "not
/// acquired" (try_only and busy). The flags sit together: every acquisition carries its
/// request, and every mutex one.
struct acquire_request {
    session_ptr session;
    std::shared_ptr<const queue_spec> queue;
    bool try_only = false;
    /// Read our node back before claiming it, and check our session owns it (elections:
    /// Curator's double-leader bug CURATOR-696 came from skipping this).
    bool verify_owner = false;
    /// Take the lock without listing again when the one node ahead goes (fast hand-off). Off for
    /// the writers of a read-write lock: a downgrade puts a read node ahead of them, with the
    /// departing writer's sequence number (shared_mutex::async_downgrade, Curator's too).
    bool fast_handoff = true;
    /// Reported to the session's observer; off for a recipe's internal steps (the semaphore's
    /// turn in its queue), which are not acquisitions of their own.
    bool observed = true;
    /// A waiter watches its own node too (acquired_node::armed): the fast hand-off then
    /// needs no request to know the node is still ours, and the holder gets its loss watch
    /// armed. Off where the node is deleted as soon as it is taken (the semaphore's turn): the
    /// watch would only cost a request there.
    bool watch_own_node = true;
    const char* channel = log::channels::mutex;
    /// A node of ours to take over instead of creating one (mutex::async_adopt): the queue
    /// algorithm starts from a listing. (Behind a pointer: it is rare.)
    std::shared_ptr<const acquired_node> existing = nullptr;
    /// How long the lock may be held once acquired (mutex_options::max_hold).
    std::optional<std::chrono::milliseconds> max_hold = std::nullopt;
    /// The outcome of check_queue_request (lock_acquire.hpp) when it was made already: a mutex
    /// checks once, when it is made, and each acquisition reports that outcome.
    std::optional<error_code> check = std::nullopt;
};

/// Runs the algorithm on the session strand, then calls `on_done` there (inline: the caller
/// delivers the result to its own handler). Cancelling `slot` (any type) deletes our node and
/// ends with operation_aborted; so does every error.
///
/// While it waits for its turn an acquisition is a small heap object and one watch, not a
/// suspended coroutine: the coroutines run only from one answer to the next wait (a queue of
/// 10,000 waiters in one process costs what 10,000 of these objects cost).
void acquire(acquire_request request, boost::asio::cancellation_slot slot,
             handler<void(error_code, acquired_node)> on_done);

}  // namespace zkr::detail
