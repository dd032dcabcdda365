// The node cache: one coroutine per started cache follows the node with one watch (a data
// watch while it exists, an exists watch while it does not), reads it again when the watch
// fires, and judges what changed by the stat.
#include "access.hpp"
#include "cache_events.hpp"
#include "path.hpp"

#include <zkr/node_cache.hpp>
#include <zkr/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>

#include <mutex>
#include <optional>

namespace zkr {
namespace detail {

struct node_cache_impl : cache_core {
    node_cache_impl(session_ptr s, std::string p) : cache_core(std::move(s), std::move(p)) {}

    // ---- Driver strand. ----
    /// What was reported last.
    followed_node node;

    // ---- Any thread. ----
    std::shared_ptr<const node_data> snapshot() const {
        std::lock_guard lock(mutex);
        return current;
    }
    void set_snapshot(const std::optional<node_data>& n) {
        auto next = n ? std::make_shared<const node_data>(*n) : nullptr;
        std::lock_guard lock(mutex);
        current = std::move(next);
    }

  private:
    mutable std::mutex mutex;
    std::shared_ptr<const node_data> current;
};

namespace {

namespace asio = boost::asio;

/// What one look at the node found, and the watch that reports its next change.
struct look_result {
    error_code ec;
    std::optional<node_data> node;
    zkr::watch watch;
};

/// Reads the node and leaves one watch on it: get_data with a watch; if the node is missing,
/// exists with a watch (for its creation); if exists finds it (created in between), its data
/// with a plain get_data, the exists watch standing for the data watch (it fires on a change
/// and on deletion alike).
asio::awaitable<look_result> look(const session_ptr& s, const std::string& path) {
    auto [ec, data, w] = co_await call<void(error_code, node_data, zkr::watch)>(
        [&](auto h) { s->watch_data(path, std::move(h)); });
    if (!ec) {
        co_return look_result{ec, std::move(data), std::move(w)};
    }
    if (ec != zk_errc::no_node) {
        co_return look_result{ec, std::nullopt, {}};
    }
    auto [eec, st, ew] = co_await call<void(error_code, std::optional<stat>, zkr::watch)>(
        [&](auto h) { s->watch_exists(path, std::move(h)); });
    if (eec || !st) {
        co_return look_result{eec, std::nullopt, std::move(ew)};
    }
    auto [gec, got] = co_await call<void(error_code, node_data)>(
        [&](auto h) { s->get_data(path, std::move(h)); });
    if (gec == zk_errc::no_node) {
        co_return look_result{{}, std::nullopt, std::move(ew)};  // gone again: the watch fired
    }
    co_return look_result{gec, std::move(got), std::move(ew)};
}

/// Reports the change from what `c` reported last to `n`.
void report(node_cache_impl& c, std::optional<node_data> n) {
    if (c.node.advance(c.path, std::move(n), c.events)) {
        c.set_snapshot(c.node.last);
    }
}

/// The first snapshot: taken as is, reported as `initialized`.
void initialize(node_cache_impl& c, std::optional<node_data> n) {
    c.node.last = std::move(n);
    c.set_snapshot(c.node.last);
    c.events.push(cache_event{cache_event_type::initialized, c.path, c.node.last});
    c.start.complete({});
}

/// Follows the node until the cache is closed or ends.
asio::awaitable<std::tuple<error_code>> follow(std::shared_ptr<node_cache_impl> c) {
    const auto& s = c->session;
    bool initialized = false;
    bool resync = false;
    auto generation = s->generation();
    error_code ec;
    for (;;) {
        if (co_await cancellation_requested()) {
            co_return std::make_tuple(make_error_code(asio::error::operation_aborted));
        }
        if (resync) {
            // A new session may be served by a server behind the one that served the old:
            // sync it first, so that the read below is not older than what was reported.
            auto [sec] =
                co_await call<void(error_code)>([&](auto h) { s->sync(c->path, std::move(h)); });
            ec = sec == zk_errc::no_node ? error_code{} : sec;
        }
        look_result got;
        if (!ec) {
            got = co_await look(s, c->path);
            ec = got.ec;
        }
        if (!ec && co_await cancellation_requested()) {
            co_return std::make_tuple(make_error_code(asio::error::operation_aborted));
        }
        if (!ec) {
            if (!initialized) {
                initialize(*c, std::move(got.node));
                initialized = true;
            } else {
                report(*c, std::move(got.node));
                if (resync) {
                    c->events.push(cache_event{cache_event_type::resynced, c->path, c->node.last});
                }
            }
            resync = false;
            auto [wec, seen] = co_await got.watch.async_wait(use_tuple);
            (void)seen;
            ec = wec;
            if (!ec || ec == zk_errc::no_watcher) {
                // A change; or the watch went with the removal of another watch of this
                // session on the node (a cache closed meanwhile): look again either way.
                continue;
            }
        }
        if (is_retryable(ec)) {
            ec = co_await wait_connected(s, generation);
            if (!ec) {
                continue;  // the same session: its watches were re-armed, but one may have
                           // fired while the connection was down; look again
            }
        }
        if (is_session_lost(ec) && ec != errc::session_closed) {
            ec = co_await follow_renewal(s, generation);
            if (!ec) {
                generation = s->generation();
                resync = initialized;
                continue;
            }
        }
        co_return std::make_tuple(ec);
    }
}

}  // namespace
}  // namespace detail

node_cache::node_cache(session& s, std::string path)
    : node_cache(detail::access::seam(s), std::move(path)) {}

node_cache::node_cache(std::shared_ptr<detail::session_seam> s, std::string path)
    : impl_(std::make_shared<detail::node_cache_impl>(std::move(s), std::move(path))) {}

node_cache::node_cache(node_cache&&) noexcept = default;

node_cache& node_cache::operator=(node_cache&& other) noexcept {
    if (this != &other) {
        close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

node_cache::~node_cache() {
    close();
}

const std::string& node_cache::path() const noexcept {
    return detail::access::path_of(*this);
}

std::shared_ptr<const node_data> node_cache::current() const {
    return impl_ ? impl_->snapshot() : nullptr;
}

void node_cache::close() noexcept {
    detail::close_cache(impl_);
}

void node_cache::initiate_start(const impl_ptr& c, detail::handler<void(error_code)> h) {
    detail::start_cache(c, std::move(h), [c] { return detail::follow(c); }, {});
}

void node_cache::initiate_wait_event(const impl_ptr& c,
                                     detail::handler<void(error_code, cache_event)> h) {
    detail::wait_cache_event(c, std::move(h));
}

}  // namespace zkr
