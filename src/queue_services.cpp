#include "queue_services.hpp"

#include "log.hpp"
#include "path.hpp"
#include "recycling.hpp"
#include "spare_node.hpp"

#include <boost/asio/post.hpp>

#include <utility>

namespace zkr::detail {

std::shared_ptr<listing_batcher> listing_batcher::keep_alive() {
    // Shares the session's count: one reference, as a capture of the session would be.
    return std::shared_ptr<listing_batcher>(session_.shared_from_this(), this);
}

void listing_batcher::first_look_listing(const std::string& dir, listing_handler h) {
    auto& entry = *find_or_insert(batches_, spare_, dir);
    auto& b = entry.second;
    if (b.in_flight == 0 && b.waiting.empty()) {
        callers one;
        one.push_back(std::move(h));
        list_for(entry, std::move(one));
        return;
    }
    b.waiting.push_back(std::move(h));
    if (!b.flush_posted) {
        // After the current handler: every create issued meanwhile goes out before the listing.
        // The entry stays until then: its listing in flight keeps it.
        b.flush_posted = true;
        boost::asio::post(session_.strand(), [self = keep_alive(), &entry] {
            auto& waiting = entry.second;
            waiting.flush_posted = false;
            self->list_for(entry, std::exchange(waiting.waiting, {}));
        });
    }
}

void listing_batcher::list_for(batch_map::value_type& entry, callers who) {
    ++entry.second.in_flight;
    // The entry's address is stable while it is in the map, and it stays there while this
    // listing is in flight.
    session_.get_children(entry.first, recycled([self = keep_alive(), &entry, who = std::move(who)](
                                                    error_code ec, children kids) mutable {
                              auto& b = entry.second;
                              if (--b.in_flight == 0 && b.waiting.empty() && !b.flush_posted) {
                                  erase_keeping(self->batches_, self->spare_,
                                                self->batches_.find(entry.first));
                              }
                              auto listing = std::allocate_shared<shared_listing>(
                                  recycling_allocator<shared_listing>(),
                                  shared_listing{std::move(kids), who.size(), {}});
                              for (auto& caller : who) {
                                  std::move(caller)(ec, listing);
                              }
                          }));
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
