// zkr::node_cache: a local copy of one node (whether it exists, its data and its stat), kept
// current with one watch, and its changes as events (zkr::cache_event).
//
// async_start loads the first snapshot (a node that does not exist is a valid one); current()
// reads the copy from any thread; async_wait_event reports the changes one by one. The cache
// follows its node through connection losses, and through session renewals
// (session_config::renew_after_expiry): it reads the node again in the new session and reports
// what changed, then `resynced`. Without renewal an expired session ends the cache.
//
// What it costs: one watch on the server, and one get_data (with its watch) per change seen;
// two requests (exists, then get_data) when the node is created while the cache waits for it.
// In memory: the snapshot, and the events not yet waited for (consecutive updates are merged,
// an addition removed before anyone waited for it is dropped: see docs/long-lived.md).
#pragma once

#include <zkr/cache_event.hpp>
#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/znode.hpp>

#include <memory>
#include <string>

namespace zkr {

class session;
namespace detail {
class session_seam;
struct access;
struct node_cache_impl;
}  // namespace detail

/// A cache of one node (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Lifetimes: the cache may outlive the session object (it then ends with
///   errc::session_closed). Destroying the cache closes it (see close()).
/// - Thread safety: any member may be called from any thread; one async_wait_event at a time.
class ZKR_API node_cache {
  public:
    node_cache(session& s, std::string path);
    node_cache(node_cache&&) noexcept;
    node_cache& operator=(node_cache&&) noexcept;
    /// Closes the cache (close()).
    ~node_cache();

    const std::string& path() const noexcept;

    /// Loads the first snapshot and keeps the copy current from then on; the first event is
    /// `initialized`. Connection loss is waited out.
    /// Handler signature: void(error_code).
    /// Cancellation: terminal, partial and total: completes with operation_aborted and closes
    /// the cache (its watch is removed).
    /// Errors: errc::already_started (a second call), errc::invalid_path,
    /// errc::too_many_watches (the session's watch budget is spent), zk_errc::no_auth, the
    /// session's end (zk_errc::session_expired without renewal, errc::session_closed),
    /// operation_aborted once closed.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_start(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_start(impl, std::move(h)); });
    }

    /// The copy: the node's data and stat, or null while the node does not exist, before the
    /// first snapshot and for a moved-from cache. Cheap (a shared pointer is copied under a
    /// mutex); any thread.
    std::shared_ptr<const node_data> current() const;

    /// The next change, in the order the cache saw them. An event that nobody waits for stays
    /// queued until a wait takes it.
    /// Handler signature: void(error_code, cache_event).
    /// Cancellation: terminal, partial and total: completes with operation_aborted; no event is
    /// lost (the next wait gets it).
    /// Errors: once the queued events are taken, what ended the cache: errc::too_many_watches,
    /// zk_errc::no_auth, zk_errc::session_expired (without renewal), errc::session_closed;
    /// operation_aborted once closed (close(), a cancelled start). A wait made before
    /// async_start gets the `initialized` event.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_event(Token&& token = {}) {
        return detail::initiate<void(error_code, cache_event)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_wait_event(impl, std::move(h)); });
    }

    /// Stops following the node: removes the cache's watch from the server, ends a pending
    /// start or wait with operation_aborted and drops the queued events; current() keeps the
    /// last snapshot. Does not wait; idempotent; any thread.
    void close() noexcept;

  private:
    friend struct detail::access;
    node_cache(std::shared_ptr<detail::session_seam> s, std::string path);

    using impl_ptr = std::shared_ptr<detail::node_cache_impl>;
    static void initiate_start(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_wait_event(const impl_ptr&,
                                    detail::handler<void(error_code, cache_event)>);

    impl_ptr impl_;
};

}  // namespace zkr
