// A session's listeners (session_seam::add_listener), held weakly: one implementation for the real
// session and the step tests' fake, so the step tests deliver events as production does. Driver
// strand.
#pragma once

#include "session_seam.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace zkr::detail {

class session_listeners {
  public:
    /// Amortised O(1): the ended ones are dropped once the list has doubled since the last
    /// time (every waiting acquisition is a listener: 10,000 waiters must not cost 10,000
    /// scans each).
    void add(std::weak_ptr<session_listener> listener) {
        if (listeners_.size() >= prune_at_) {
            std::erase_if(listeners_, [](const auto& l) { return l.expired(); });
            prune_at_ = std::max<std::size_t>(16, 2 * listeners_.size());
        }
        listeners_.push_back(std::move(listener));
    }

    /// Tells every live listener. A listener may add listeners meanwhile: they hear the next
    /// event, not this one.
    void notify(session_event event) {
        auto listeners = listeners_;
        std::erase_if(listeners_, [](const auto& l) { return l.expired(); });
        for (auto& weak : listeners) {
            if (auto l = weak.lock()) {
                l->on_session_event(event);
            }
        }
    }

    /// session_seam::holds_node.
    bool hold(const std::string& node) const { return listeners_hold(listeners_, node); }

  private:
    std::vector<std::weak_ptr<session_listener>> listeners_;
    std::size_t prune_at_ = 16;
};

}  // namespace zkr::detail
