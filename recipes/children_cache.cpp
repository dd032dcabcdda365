// The children cache: one coroutine per started cache lists the directory with a watch, reads
// each new or changed child with a data watch, and waits until one of those watches fires.
// Each child is judged by its stat as the node cache judges its node (followed_node).
#include "access.hpp"
#include "cache_events.hpp"
#include "path.hpp"
#include "published_map.hpp"

#include <zkr/children_cache.hpp>
#include <zkr/session.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>

#include <map>
#include <set>
#include <vector>

namespace zkr {
namespace detail {

struct children_cache_impl : cache_core {
    children_cache_impl(session_ptr s, std::string p)
        : cache_core(std::move(s), std::move(p)), wake(session->strand()) {
        on_close = [this] { wake.cancel(); };
    }

    // ---- Driver strand. ----
    /// What was reported of each child, by name (removed ones too: their czxid).
    std::map<std::string, followed_node> kids;
    /// What the watches said since the coroutine last looked: the listing changed, these
    /// children changed, or a watch ended otherwise (the session's end).
    bool relist = false;
    std::set<std::string> changed;
    error_code lost;
    /// The generation the coroutine's watches belong to: a watch of an older one that ends
    /// late (its session renewed meanwhile) is no news.
    std::uint64_t watch_generation = 0;
    /// Wakes the coroutine (cancelled when a watch fires).
    boost::asio::steady_timer wake;

    /// Reports the change of child `name` to `now` (followed_node::advance) and marks it for
    /// the next publish().
    void report(const std::string& name, std::optional<node_data> now) {
        changed_since_publish.insert(name);
        kids[name].advance(join_path(path, name), std::move(now), events);
    }
    /// Publishes the children reported since the last time: O(changes), not O(children).
    void publish() { copy.publish_changes(changed_since_publish, kids); }

    // ---- Any thread. ----
    std::shared_ptr<const children_cache::snapshot> snapshot() const { return copy.get(); }

  private:
    std::set<std::string> changed_since_publish;
    published_map<children_cache::snapshot> copy;
};

namespace {

namespace asio = boost::asio;

/// The reads in flight at most: the children's reads go out together, one round trip for a
/// window of them instead of one each.
constexpr std::size_t window = 256;

/// Starts waiting on `w`: its firing is recorded in `c` (for child `name`, or the listing when
/// `name` is empty) and wakes the coroutine.
void listen(const std::shared_ptr<children_cache_impl>& c, zkr::watch& w, std::string name) {
    if (!w.armed()) {
        return;
    }
    w.async_wait(asio::bind_executor(
        c->session->strand(), [weak = std::weak_ptr<children_cache_impl>(c), name = std::move(name),
                               armed_in = c->watch_generation](error_code ec, watch_event) {
            auto c = weak.lock();
            if (!c || c->closed || ec == asio::error::operation_aborted ||
                armed_in != c->watch_generation) {
                return;  // closed, a watch we let go of, or one of a session renewed since
            }
            if (ec && ec != zk_errc::no_watcher) {
                c->lost = ec;
            } else if (name.empty()) {
                c->relist = true;
            } else {
                c->changed.insert(name);
            }
            c->wake.cancel();
        }));
}

asio::awaitable<std::tuple<error_code>> follow(std::shared_ptr<children_cache_impl> c) {
    const auto& s = c->session;
    const auto& dir = c->path;
    std::map<std::string, zkr::watch> watches;  // one data watch per child
    zkr::watch dir_watch;
    std::set<std::string> reread;  // children to read again
    bool relist = true;
    bool initialized = false;
    bool resync = false;
    auto generation = s->generation();
    c->watch_generation = generation;
    for (;;) {
        if (co_await cancellation_requested()) {
            co_return std::make_tuple(make_error_code(asio::error::operation_aborted));
        }
        error_code ec;
        if (resync) {
            auto [sec] =
                co_await call<void(error_code)>([&](auto h) { s->sync(dir, std::move(h)); });
            ec = sec == zk_errc::no_node ? error_code{} : sec;
        }
        if (!ec && relist) {
            std::vector<std::string> names;
            auto [lec, kids, w] = co_await call<void(error_code, children, zkr::watch)>(
                [&](auto h) { s->watch_children(dir, std::move(h)); });
            ec = lec;
            if (!ec) {
                names = std::move(kids.names);
                dir_watch = std::move(w);
            } else if (ec == zk_errc::no_node) {
                // No directory, no children; its creation is watched.
                auto [eec, st, ew] =
                    co_await call<void(error_code, std::optional<stat>, zkr::watch)>(
                        [&](auto h) { s->watch_exists(dir, std::move(h)); });
                ec = eec;
                if (!ec && st) {
                    continue;  // created meanwhile: list it
                }
                dir_watch = std::move(ew);
            }
            if (!ec) {
                relist = false;
                listen(c, dir_watch, {});
                const std::set<std::string> listed(names.begin(), names.end());
                for (auto& [name, kid] : c->kids) {
                    if (kid.last && !listed.count(name)) {
                        c->report(name, std::nullopt);  // the listing is newer than its read
                        watches.erase(name);
                        reread.erase(name);
                    }
                }
                for (const auto& name : names) {
                    if (!watches.count(name)) {
                        reread.insert(name);
                    }
                }
            }
        }
        // The children to read, a window at a time: sent together, answered in order, taken
        // in that order. Past a failed read, the window's answers are dropped (with their
        // watches) and those children stay to be read.
        while (!ec && !reread.empty()) {
            std::vector<std::string> batch;
            for (auto it = reread.begin(); it != reread.end() && batch.size() < window; ++it) {
                batch.push_back(*it);
            }
            auto answers = co_await call_all<void(error_code, node_data, zkr::watch)>(
                s, batch.size(), [&](std::size_t i, auto h) {
                    s->watch_data(join_path(dir, batch[i]), std::move(h));
                });
            for (std::size_t i = 0; i < batch.size() && !ec; ++i) {
                const auto& name = batch[i];
                auto& [dec, data, w] = answers[i];
                if (dec && dec != zk_errc::no_node) {
                    ec = dec;
                } else if (dec) {
                    c->report(name, std::nullopt);  // gone since the listing
                    watches.erase(name);
                    reread.erase(name);
                } else {
                    c->report(name, std::move(data));
                    auto& kept = watches[name];
                    kept = std::move(w);
                    listen(c, kept, name);
                    reread.erase(name);
                }
            }
            if (!ec && co_await cancellation_requested()) {
                co_return std::make_tuple(make_error_code(asio::error::operation_aborted));
            }
        }
        if (!ec && co_await cancellation_requested()) {
            co_return std::make_tuple(make_error_code(asio::error::operation_aborted));
        }
        if (!ec) {
            c->publish();
            if (!initialized) {
                initialized = true;
                c->events.push(cache_event{cache_event_type::initialized, dir, std::nullopt});
                c->start.complete({});
            } else if (resync) {
                c->events.push(cache_event{cache_event_type::resynced, dir, std::nullopt});
            }
            resync = false;
            while (!c->relist && c->changed.empty() && !c->lost) {
                c->wake.expires_at(asio::steady_timer::time_point::max());
                co_await c->wake.async_wait(use_tuple);
                if (co_await cancellation_requested()) {
                    co_return std::make_tuple(make_error_code(asio::error::operation_aborted));
                }
            }
            relist = std::exchange(c->relist, false);
            for (const auto& name : c->changed) {
                reread.insert(name);
            }
            c->changed.clear();
            ec = std::exchange(c->lost, {});
            if (!ec) {
                continue;
            }
        }
        if (is_retryable(ec)) {
            ec = co_await wait_connected(s, generation);
            if (!ec) {
                continue;  // the same session: what was to be read still is
            }
        }
        if (is_session_lost(ec) && ec != errc::session_closed) {
            ec = co_await follow_renewal(s, generation);
            if (!ec) {
                // Every watch ended with the old session: read everything again.
                generation = s->generation();
                c->watch_generation = generation;
                resync = initialized;
                relist = true;
                watches.clear();
                dir_watch = zkr::watch{};
                c->relist = false;
                c->changed.clear();
                c->lost = {};
                for (const auto& [name, kid] : c->kids) {
                    if (kid.last) {
                        reread.insert(name);
                    }
                }
                continue;
            }
        }
        co_return std::make_tuple(ec);
    }
}

}  // namespace
}  // namespace detail

children_cache::children_cache(session& s, std::string path)
    : children_cache(detail::access::seam(s), std::move(path)) {}

children_cache::children_cache(std::shared_ptr<detail::session_seam> s, std::string path)
    : impl_(std::make_shared<detail::children_cache_impl>(std::move(s), std::move(path))) {}

children_cache::children_cache(children_cache&&) noexcept = default;

children_cache& children_cache::operator=(children_cache&& other) noexcept {
    if (this != &other) {
        close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

children_cache::~children_cache() {
    close();
}

const std::string& children_cache::path() const noexcept {
    return detail::access::path_of(*this);
}

std::shared_ptr<const children_cache::snapshot> children_cache::current() const {
    return impl_ ? impl_->snapshot() : nullptr;
}

void children_cache::close() noexcept {
    detail::close_cache(impl_);
}

void children_cache::initiate_start(const impl_ptr& c, detail::handler<void(error_code)> h) {
    detail::start_cache(c, std::move(h), [c] { return detail::follow(c); }, {});
}

void children_cache::initiate_wait_event(const impl_ptr& c,
                                         detail::handler<void(error_code, cache_event)> h) {
    detail::wait_cache_event(c, std::move(h));
}

}  // namespace zkr
