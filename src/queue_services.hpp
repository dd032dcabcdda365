// What a session does for the queues beyond single requests, written once over the seam
// (session_seam.hpp): the real session (session_impl) and the step tests' fake
// (tests/fake_session) both hold these, so the step tests run the same batching as production.
//
// - listing_batcher: the first look of a new contender (session_seam::first_look_listing). The
//   first contender of a directory gets a listing of its own, right behind its create: one round
//   trip. Contenders that come while it is answered share one listing taken after all their
//   creates: a burst of waiters of one session costs two listings, not one each (each would
//   carry the whole queue). Built on the session's own get_children, so any session batches.
// - notice_memory: which foreign names in which directories a session has already warned about
//   (session_seam::first_notice), bounded.
//
// Driver strand only.
#pragma once

#include "session_seam.hpp"

#include <boost/container/small_vector.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace zkr::detail {

class listing_batcher {
  public:
    using listing_handler = handler<void(error_code, std::shared_ptr<shared_listing>)>;

    /// Lists through `session`, which owns this batcher (a member of it): a listing under way
    /// keeps the session, and so the batcher, alive.
    explicit listing_batcher(session_seam& session) noexcept : session_(session) {}
    listing_batcher(const listing_batcher&) = delete;
    listing_batcher& operator=(const listing_batcher&) = delete;

    /// session_seam::first_look_listing: `h` gets a listing taken after every create the caller
    /// (and any contender of `dir` before it in this handler) has sent.
    void first_look_listing(const std::string& dir, listing_handler h);

    /// True when no listing is in flight or waiting (for tests).
    bool idle() const noexcept { return batches_.empty(); }

  private:
    /// One listing's callers: mostly one, without a heap block for it.
    using callers = boost::container::small_vector<listing_handler, 1>;
    /// Listings of first looks of one directory: requests in flight, and the contenders waiting
    /// for the next one.
    struct batch {
        int in_flight = 0;
        bool flush_posted = false;
        callers waiting;
    };
    using batch_map = std::unordered_map<std::string, batch>;

    /// Lists `entry`'s directory for `who`. The entry stays (in_flight) until the answer.
    void list_for(batch_map::value_type& entry, callers who);
    /// This batcher, owned with the session it belongs to.
    std::shared_ptr<listing_batcher> keep_alive();

    session_seam& session_;
    batch_map batches_;
    batch_map::node_type spare_;  ///< the last entry let go (spare_node.hpp)
};

class notice_memory {
  public:
    static constexpr std::size_t default_capacity = 10000;
    explicit notice_memory(std::size_t capacity = default_capacity) : capacity_(capacity) {}

    /// True the first time `name` in `dir` is noticed. Remembers `capacity` names; past that it
    /// says false, once it said so in the log.
    bool first_notice(const std::string& dir, const std::string& name);

  private:
    std::size_t capacity_;
    std::unordered_set<std::string> noticed_;
};

}  // namespace zkr::detail
