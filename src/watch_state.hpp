// The state a zkr::watch shares with the C client's watcher context.
//
// The C client calls the watcher on the driver strand, possibly before the read that set the
// watch has completed, and possibly never (when the session closes). So the event is stored until
// a wait arrives, and the wait until the event arrives. Every transition happens on the driver
// strand; the public entry points (wait, cancel) post there.
#pragma once

#include "completion.hpp"

#include <zkr/watch.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace zkr::detail {

class session_seam;

struct watch_state : std::enable_shared_from_this<watch_state> {
    /// `ex`: the session's driver strand (where every transition happens) and the default
    /// executor of the public wait's handler (session_seam::shared_completions).
    watch_state(std::weak_ptr<session_seam> s, std::shared_ptr<const completion_executors> ex,
                std::string p, int type)
        : session(std::move(s)), executors(std::move(ex)), path(std::move(p)), watch_type(type) {}

    // ---- On the driver strand. ----

    /// Records the outcome; completes the waiter if there is one. Called once by the C side
    /// (event, expiry) or by the registry drain (session closed); later calls are ignored.
    void deliver(error_code ec, watch_event event);

    /// Waits for the event; `h` runs inline on the driver strand when it arrives (recipes
    /// continue in place), or is posted there if the event is already in.
    void wait_here(handler<void(error_code, watch_event)> h);

    /// Gives the watch up: a pending wait completes with operation_aborted (posted) and the
    /// server is asked to drop the watch.
    void cancel_here();

    /// The C context lets go of this state (it is being freed).
    void detach_context() noexcept { c_context = nullptr; }

    /// True once the event (or the session's end) is in, waited for or not.
    bool has_outcome() const noexcept { return result.has_value() || consumed.load(); }

    // ---- From any thread. ----

    /// The public wait: the handler runs on its own executor (default: the session's).
    void wait(handler<void(error_code, watch_event)> h);
    void cancel();
    /// True while the server may still hold the watch and nobody consumed it.
    bool armed() const noexcept { return !consumed.load(); }

    const std::weak_ptr<session_seam> session;
    const std::shared_ptr<const completion_executors> executors;
    const std::string path;
    const int watch_type;
    void* c_context = nullptr;  // driver strand: non-null while the C client may call it
    /// Driver strand: the connection changed state while the watch was armed (the C client
    /// tells every armed watcher). The events of the watches it re-arms on reconnecting come in
    /// the server's order of re-arming, not of the changes (see queue_acquire.cpp).
    bool interrupted = false;

  private:
    std::atomic<bool> consumed{false};
    std::optional<std::pair<error_code, watch_event>> result;
    handler<void(error_code, watch_event)> waiter;
};

}  // namespace zkr::detail
