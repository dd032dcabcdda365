// The state a zkr::watch shares with the C client's watcher context.
//
// The C client calls the watcher on its own thread, possibly before the read that set the watch
// has completed, and possibly never (when the session closes). So the event is stored until a
// wait arrives, and the wait until the event arrives; a mutex orders the two sides.
#pragma once

#include "completion.hpp"
#include "session_impl.hpp"

#include <zkr/watch.hpp>

#include <mutex>
#include <optional>
#include <string>

namespace zkr::detail {

struct watch_state : std::enable_shared_from_this<watch_state> {
    watch_state(std::weak_ptr<session_impl> s, session_impl::strand_type st, std::string p,
                int type)
        : session(std::move(s)), strand(std::move(st)), path(std::move(p)), watch_type(type) {}

    /// Records the outcome; completes the waiter if there is one. Called once by the C side
    /// (event, expiry) or by the registry drain (session closed); later calls are ignored.
    void deliver(error_code ec, watch_event event);

    void wait(handler<void(error_code, watch_event)> h);

    /// The user no longer wants the event: complete a pending wait with operation_aborted and
    /// ask the server to drop the watch.
    void cancel();

    /// True while the server may still hold the watch and nobody consumed it.
    bool armed();

    /// Called by the C context when the C client lets go of it.
    void detach_context();

    std::mutex mutex;
    const std::weak_ptr<session_impl> session;
    const session_impl::strand_type strand;
    const std::string path;
    const int watch_type;
    void* c_context = nullptr;  // non-null while the C client may call it
    bool consumed = false;
    std::optional<std::pair<error_code, watch_event>> result;
    pending_handler<void(error_code, watch_event)> waiter;
};

}  // namespace zkr::detail
