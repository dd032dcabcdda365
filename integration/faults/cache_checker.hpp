// The verdict of a cache fault run (cache_faults_test.cpp): did every cache report only states
// the server had, in the server's order, and end where the server ended?
//
// The writer's history (writer.hist, one writer, so it knows every state it made; after an
// unanswered request it reads the node back and records what it finds):
//   S name czxid mzxid      the child `name` had this state (created, or its data set)
//   A name czxid            the child `name`, incarnation czxid, was deleted
// The caches' histories: cache_client.cpp.
//
// For every cache and every child, the states the cache reported must be a subsequence of the
// writer's states of that child in order: each report matches a state strictly after the one
// matched before (a report that matches nothing is invented; one that matches only an earlier or
// the same state is stale: reordered or repeated). Removals match the deletion of the
// incarnation they name. The final snapshot must be the server's final state, and the events,
// replayed, must give that same snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace zkr::faults {

/// One child's state: (czxid, mzxid) while it exists.
struct child_state {
    std::int64_t czxid = 0;
    std::int64_t mzxid = 0;
    friend bool operator==(const child_state&, const child_state&) = default;
};

struct cache_verdict {
    std::size_t writes = 0;   ///< states in the writer's history
    std::size_t caches = 0;   ///< cache histories read
    std::size_t events = 0;   ///< child events reported, all caches
    std::size_t resyncs = 0;  ///< resynced events, all caches
    std::size_t invented = 0;
    std::size_t stale = 0;
    std::size_t unconverged = 0;   ///< caches whose final snapshot is not the server's
    std::size_t inconsistent = 0;  ///< caches whose events, replayed, do not give their snapshot
    std::size_t errors = 0;        ///< R lines, and caches that did not end cleanly
    std::vector<std::string> problems;  ///< the first few, described
    bool passed() const {
        return invented == 0 && stale == 0 && unconverged == 0 && inconsistent == 0 &&
               errors == 0 && caches > 0;
    }
};

/// The state of a directory after replaying the events of one cache history.
std::map<std::string, child_state> replay_cache_history(const std::string& history);

/// Checks the histories in `dir` (writer.hist, cache*.hist) against the server's final state.
cache_verdict check_cache_run(const std::string& dir,
                              const std::map<std::string, child_state>& final_state);

}  // namespace zkr::faults
