// A session's listeners (session_seam::add_listener), held weakly: one implementation for the real
// session and the step tests' fake, so the step tests deliver events as production does. Driver
// strand.
#pragma once

#include "session_seam.hpp"

#include <boost/container/devector.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace zkr::detail {

class session_listeners {
  public:
    /// Every waiting acquisition is a listener, removed when it ends: in about the order they
    /// came, so the ended ones are dropped from the front, and removal finds its entry near it.
    void add(std::weak_ptr<session_listener> listener,
             listener_scope scope = listener_scope::generation) {
        while (!listeners_.empty() && listeners_.front().weak.expired()) {
            listeners_.pop_front();
        }
        const auto* raw = listener.lock().get();
        listeners_.push_back({raw, std::move(listener), scope});
    }

    /// The ZooKeeper session ended and a new one begins (a renewal): the listeners of the old
    /// one, told of its expiry already, hear nothing more. Only the lasting ones stay.
    void end_generation() {
        erase_where([](const entry& e) { return e.scope == listener_scope::generation; });
    }

    /// Drops `listener` now rather than once it has gone (its memory goes with the last
    /// reference, which the list would otherwise keep).
    void remove(const session_listener* listener) {
        const auto at = std::find_if(listeners_.begin(), listeners_.end(),
                                     [&](const entry& e) { return e.raw == listener; });
        if (at != listeners_.end()) {
            listeners_.erase(at);
        }
    }

    /// Tells every live listener. A listener may add or remove listeners meanwhile: those added
    /// hear the next event, not this one.
    void notify(session_event event) {
        erase_where([](const entry& e) { return e.weak.expired(); });
        std::vector<std::weak_ptr<session_listener>> listeners;
        listeners.reserve(listeners_.size());
        for (const auto& e : listeners_) {
            listeners.push_back(e.weak);
        }
        for (auto& weak : listeners) {
            if (auto l = weak.lock()) {
                l->on_session_event(event);
            }
        }
    }

    /// session_seam::holds_node: only a rare refusal path walks the listeners.
    bool hold(const std::string& node) const {
        return std::any_of(listeners_.begin(), listeners_.end(), [&](const entry& e) {
            auto l = e.weak.lock();
            return l && l->holds_node(node);
        });
    }

  private:
    template <class Predicate>
    void erase_where(Predicate p) {
        listeners_.erase(std::remove_if(listeners_.begin(), listeners_.end(), p), listeners_.end());
    }

    struct entry {
        const session_listener* raw;  ///< for remove(); never dereferenced
        std::weak_ptr<session_listener> weak;
        listener_scope scope;
    };
    /// Cheap at both ends like a deque, and nothing allocated while empty (a deque allocates its
    /// first block when made: 600 bytes per session).
    boost::container::devector<entry> listeners_;
};

}  // namespace zkr::detail
