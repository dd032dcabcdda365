#include "queue_services.hpp"

#include "log.hpp"
#include "path.hpp"

#include <boost/asio/post.hpp>

namespace zkr::detail {

std::shared_ptr<listing_batcher> listing_batcher::keep_alive() {
    // Shares the session's count: one reference, as a capture of the session would be.
    return std::shared_ptr<listing_batcher>(session_.shared_from_this(), this);
}

void listing_batcher::first_look_listing(const std::string& dir, listing_handler h) {
    auto& b = batches_[dir];
    if (b.in_flight == 0 && b.waiting.empty()) {
        std::vector<listing_handler> one;
        one.push_back(std::move(h));
        list_for(dir, std::move(one));
        return;
    }
    b.waiting.push_back(std::move(h));
    if (!b.flush_posted) {
        // After the current handler: every create issued meanwhile goes out before the listing.
        b.flush_posted = true;
        boost::asio::post(session_.strand(), [self = keep_alive(), dir] {
            auto& waiting = self->batches_[dir];
            waiting.flush_posted = false;
            self->list_for(dir, std::move(waiting.waiting));
            waiting.waiting.clear();
        });
    }
}

void listing_batcher::list_for(const std::string& dir, std::vector<listing_handler> callers) {
    ++batches_[dir].in_flight;
    session_.get_children(dir, [self = keep_alive(), dir, callers = std::move(callers)](
                                   error_code ec, children kids) mutable {
        auto it = self->batches_.find(dir);
        if (--it->second.in_flight == 0 && it->second.waiting.empty() && !it->second.flush_posted) {
            self->batches_.erase(it);
        }
        auto listing =
            std::make_shared<shared_listing>(shared_listing{std::move(kids), callers.size(), {}});
        for (auto& caller : callers) {
            std::move(caller)(ec, listing);
        }
    });
}

bool notice_memory::first_notice(const std::string& dir, const std::string& name) {
    if (noticed_.size() >= capacity_) {
        return false;
    }
    const bool first = noticed_.insert(join_path(dir, name)).second;
    if (first && noticed_.size() == capacity_) {
        ZKR_LOG(warning, log::channels::session,
                "more than " << capacity_ << " foreign nodes seen: no more warnings about them");
    }
    return first;
}

}  // namespace zkr::detail
