// What a session tells an observer: the events behind a lock's metrics, as they happen.
//
// Give a session an observer (session_config::observer) and it reports every acquisition, hold,
// loss, revocation request, session state change and request round trip of the recipes that run
// on it. zkr::metrics (zkr/metrics.hpp) is the observer most applications want: it counts and
// times them for a scrape. Write your own to feed another metrics system or a trace.
//
// Calls come from zkr's driver strands, while zkr waits: an observer must be quick, must not
// block, and must be safe to call from several threads at once (sessions on different threads
// may share one). The events of one session arrive in order. An observer that throws
// terminates the program (the functions are noexcept).
//
// Without an observer the recipes measure nothing: the cost is one pointer test per event.
#pragma once

#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <chrono>
#include <string_view>

namespace zkr {

enum class session_state;

/// The ZooKeeper request behind a round trip. Reads that set a watch count as the read.
enum class request_kind { create, remove, get_data, exists, get_children, set_data, multi, sync };

/// "create", "remove", "get_data", ...
ZKR_API std::string_view to_string(request_kind kind) noexcept;

/// What a lock event is about.
struct lock_subject {
    /// "mutex", "read_lock", "write_lock", "election" or "semaphore" (one per lease).
    std::string_view recipe;
    /// The recipe's path: the lock directory, the election's path, the semaphore's path.
    std::string_view path;
};

class observer {
  public:
    virtual ~observer() = default;

    /// Granted `waited` after it was asked for. `handed_off`: it waited for a holder ahead of it
    /// to let go (a hand-off), rather than finding the lock free.
    virtual void acquired(const lock_subject& /*subject*/, std::chrono::nanoseconds /*waited*/,
                          bool /*handed_off*/) noexcept {}

    /// An acquisition ended without the lock, with its error (operation_aborted when cancelled
    /// or timed out). A try_lock that finds the lock busy is not a failure.
    virtual void acquisition_failed(const lock_subject& /*subject*/,
                                    std::chrono::nanoseconds /*waited*/,
                                    error_code /*ec*/) noexcept {}

    /// A hold ended after `held`: released by its holder (`reason` empty) or lost (the reason,
    /// as lock::lost_reason() gives it). Exactly once per acquired().
    virtual void hold_ended(const lock_subject& /*subject*/, std::chrono::nanoseconds /*held*/,
                            error_code /*reason*/) noexcept {}

    /// A revoker asked this holder to let go (lock::async_wait_revocation). At most once per
    /// hold, and only while someone waits for loss or revocation (that is when zkr watches).
    virtual void revocation_requested(const lock_subject& /*subject*/) noexcept {}

    /// The session went from one state to another.
    virtual void session_state_changed(session_state /*from*/, session_state /*to*/) noexcept {}

    /// A request's answer arrived (or it failed locally) `round_trip` after it was sent.
    virtual void request_completed(request_kind /*kind*/, std::chrono::nanoseconds /*round_trip*/,
                                   error_code /*ec*/) noexcept {}
};

}  // namespace zkr
