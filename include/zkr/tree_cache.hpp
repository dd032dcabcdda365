// zkr::tree_cache: a local copy of a subtree (the root and its descendants down to a maximum
// depth, each node's data and stat), kept current with watches, and its changes as events
// (zkr::cache_event, one per node, with full paths; `initialized` and `resynced` name the root).
//
// The same guarantees as zkr::node_cache, node by node (docs/long-lived.md, "tree_cache"):
// changes judged by the stat (a new czxid is removed + added, a greater mzxid updated), never an
// older state after a newer one, intermediate states possibly coalesced but never invented,
// convergence after every fault, `resynced` after a session renewal. A node deleted with its
// subtree is reported removed after each of its descendants (deepest first); a subtree created
// again is then reported added, parents before children. A root that does not exist is an empty
// tree (its creation is watched).
//
// Depth: `max_depth` counts the levels below the root. 0 caches the root only; 1 the root and
// its children; the default has no limit. A negative depth is refused (errc::invalid_argument).
//
// What it costs: two watches per node (its data and its children), one for the nodes at the
// maximum depth, whose children are not followed; a tree whose watches would not fit in the
// session's budget (session_config::max_packet_bytes) ends the cache with
// errc::too_many_watches. One get_children (with its watch) per change of a listing, one get_data
// (with its watch) per node added or changed; after a renewal a sync, then every node read and
// listed again.
#pragma once

#include <zkr/cache_event.hpp>
#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/znode.hpp>

#include <limits>
#include <map>
#include <memory>
#include <string>

namespace zkr {

class session;
namespace detail {
class session_seam;
struct access;
struct tree_cache_impl;
}  // namespace detail

struct tree_cache_options {
    /// No depth limit.
    static constexpr int unlimited = std::numeric_limits<int>::max();
    /// The levels below the root that are cached: 0 for the root only. Negative: refused by
    /// async_start with errc::invalid_argument.
    int max_depth = unlimited;
};

/// A cache of a subtree (see the file comment). Executor, lifetimes and thread safety as for
/// zkr::node_cache.
class ZKR_API tree_cache {
  public:
    /// The nodes by full path (the root's included, if it exists).
    using snapshot = std::map<std::string, node_data>;

    tree_cache(session& s, std::string path, tree_cache_options options = {});
    tree_cache(tree_cache&&) noexcept;
    tree_cache& operator=(tree_cache&&) noexcept;
    /// Closes the cache (close()).
    ~tree_cache();

    const std::string& path() const noexcept;

    /// As node_cache::async_start: completes once every node down to the maximum depth has been
    /// read (one `added` each, then `initialized`).
    /// Handler signature: void(error_code).
    /// Errors: as node_cache::async_start, and errc::invalid_argument for a negative max_depth;
    /// errc::too_many_watches if the tree needs more watches than the session may hold.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_start(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_start(impl, std::move(h)); });
    }

    /// The copy: the nodes by full path; null before the first snapshot and for a moved-from
    /// cache. Cheap (a shared pointer copied under a mutex); any thread.
    std::shared_ptr<const snapshot> current() const;

    /// As node_cache::async_wait_event; `path` is the node's (the root's for `initialized` and
    /// `resynced`, which carry no node). Ends with errc::too_many_watches, after the queued
    /// events, if the tree grows past the session's watch budget.
    /// Handler signature: void(error_code, cache_event).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_event(Token&& token = {}) {
        return detail::initiate<void(error_code, cache_event)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_wait_event(impl, std::move(h)); });
    }

    /// As node_cache::close: every watch of the cache is removed from the server.
    void close() noexcept;

  private:
    friend struct detail::access;
    tree_cache(std::shared_ptr<detail::session_seam> s, std::string path,
               tree_cache_options options = {});

    using impl_ptr = std::shared_ptr<detail::tree_cache_impl>;
    static void initiate_start(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_wait_event(const impl_ptr&,
                                    detail::handler<void(error_code, cache_event)>);

    impl_ptr impl_;
};

}  // namespace zkr
