// zkr::children_cache: a local copy of a directory's children (each child's data and stat),
// kept current with one watch on the directory and one on each child, and their changes as
// events (zkr::cache_event, one per child; `initialized` and `resynced` name the directory).
//
// The same guarantees as zkr::node_cache, child by child (docs/long-lived.md): changes judged
// by the stat, never an older state after a newer one, intermediate states possibly coalesced
// but never invented, convergence after every fault, `resynced` after a session renewal. A
// directory that does not exist has no children (its creation is watched).
//
// What it costs: 1 + N watches for N children; one get_children (with its watch) per change of
// the listing, one get_data (with its watch) per child added or changed; after a renewal a
// sync, the listing and every child read again.
#pragma once

#include <zkr/cache_event.hpp>
#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/znode.hpp>

#include <map>
#include <memory>
#include <string>

namespace zkr {

class session;
namespace detail {
class session_seam;
struct access;
struct children_cache_impl;
}  // namespace detail

/// A cache of a directory's children (see the file comment). Executor, lifetimes and thread
/// safety as for zkr::node_cache.
class ZKR_API children_cache {
  public:
    /// The children by name (not path).
    using snapshot = std::map<std::string, node_data>;

    children_cache(session& s, std::string path);
    children_cache(children_cache&&) noexcept;
    children_cache& operator=(children_cache&&) noexcept;
    /// Closes the cache (close()).
    ~children_cache();

    const std::string& path() const noexcept;

    /// As node_cache::async_start: completes once every child has been read.
    /// Handler signature: void(error_code).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_start(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_start(impl, std::move(h)); });
    }

    /// The copy: the children by name; null before the first snapshot and for a moved-from
    /// cache. Cheap; any thread.
    std::shared_ptr<const snapshot> current() const;

    /// As node_cache::async_wait_event; `path` is the child's (the directory's for
    /// `initialized` and `resynced`, which carry no node).
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
    children_cache(std::shared_ptr<detail::session_seam> s, std::string path);

    using impl_ptr = std::shared_ptr<detail::children_cache_impl>;
    static void initiate_start(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_wait_event(const impl_ptr&,
                                    detail::handler<void(error_code, cache_event)>);

    impl_ptr impl_;
};

}  // namespace zkr
