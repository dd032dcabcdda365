// What a cache (zkr::node_cache) reports: one change of what it holds, as an event.
//
// A cache keeps a local copy of nodes and reports how that copy changes. The copy follows the
// server through one-shot watches, so it sees the server's states in order but not necessarily
// all of them: a node written twice within a round trip may be reported once, with the later
// data. Every state reported is one the server had, never an older one than a state reported
// before (stats are compared, not versions), and a node deleted and created again is reported
// as removed, then added, never as an update.
#pragma once

#include <zkr/export.hpp>
#include <zkr/znode.hpp>

#include <optional>
#include <string>

namespace zkr {

enum class cache_event_type {
    added,        ///< the node exists now (it did not, or it was another node: a new czxid)
    updated,      ///< the same node (same czxid) has newer data (a greater mzxid)
    removed,      ///< the node is gone; `node` is the last state the cache held
    initialized,  ///< the first snapshot is loaded (once); `node` is it, if the node exists
    /// After the session was renewed (session_config::renew_after_expiry) the cache read the
    /// server again: the changes found were reported just before, and the snapshot matches the
    /// server again; `node` is it, if the node exists.
    resynced,
};

/// The type's name as written above ("added", ..., "resynced"): for logs and `zkr watch`.
ZKR_API const char* to_string(cache_event_type t) noexcept;

/// One change of a cache's copy.
struct cache_event {
    cache_event_type type = cache_event_type::initialized;
    std::string path;
    std::optional<node_data> node;
};

}  // namespace zkr
