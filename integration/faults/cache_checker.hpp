// The verdict of a cache fault run (cache_faults_test.cpp): did every cache report only states
// the server had, in the server's order, and end where the server ended?
//
// The writer's history (writer.hist, one writer, so it knows every state it made; after an
// unanswered request it reads the node back and records what it finds):
//   S name czxid mzxid      the child `name` had this state (created, or its data set)
//   A name czxid            the child `name`, incarnation czxid, was deleted
// A name is the node's path below the directory ("c3", or "t/g1" a level deeper).
// The caches' histories: cache_client.cpp (its first line names the kind of cache); a history
// the test ends with "X" is that of a process the nemesis killed.
//
// For every cache and every node, the states the cache reported must be a subsequence of the
// writer's states of that node in order: each report matches a state strictly after the one
// matched before (a report that matches nothing is invented; one that matches only an earlier or
// the same state is stale: reordered or repeated). Removals match the deletion of the
// incarnation they name. The final snapshot must be the server's final state as the cache's
// kind sees it (children: the directory's children; tree: every node below it; node:NAME: that
// node), and the events, replayed, must give that same snapshot. A killed cache has neither
// final snapshot nor end: its reports are checked, and its successor's.
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
    std::size_t caches = 0;   ///< cache histories read (killed caches included)
    std::size_t killed = 0;   ///< of which killed by the nemesis
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

using directory_state = std::map<std::string, child_state>;

/// The state of a directory after replaying the events of one cache history.
directory_state replay_cache_history(const std::string& history);

/// What a cache of kind `mode` (cache_client.cpp's MODE) holds of the directory `state`.
directory_state seen_by(const std::string& mode, const directory_state& state);

/// The kind of cache (its K line) of a history.
std::string cache_mode(const std::string& history);

/// Checks the histories in `dir` (writer.hist, cache*.hist) against the server's final state.
cache_verdict check_cache_run(const std::string& dir, const directory_state& final_state);

}  // namespace zkr::faults
