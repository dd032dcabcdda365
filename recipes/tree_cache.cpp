// The tree cache: one coroutine per started cache reads each node of the subtree with a data
// watch and lists each node above the maximum depth with a children watch, and waits until one
// of those watches fires. Each node is judged by its stat as the node cache judges its node
// (followed_node); the work to do is kept in path order, so a parent is always read before its
// children and a subtree is only entered under a parent the cache holds. The requests go out in
// batches of that order (do_work: the reads of a listing's children together), whose answers
// are taken as if each had been sent after the one before was taken.
#include "access.hpp"
#include "cache_events.hpp"
#include "path.hpp"
#include "published_map.hpp"

#include <zkr/session.hpp>
#include <zkr/tree_cache.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <vector>

namespace zkr {
namespace detail {

struct tree_cache_impl : cache_core {
    tree_cache_impl(session_ptr s, std::string p, int depth)
        : cache_core(std::move(s), std::move(p)), max_depth(depth), wake(session->strand()) {
        on_close = [this] { wake.cancel(); };
    }

    const int max_depth;

    // ---- Driver strand. ----
    /// What was reported of each node, by full path (removed ones too: their czxid).
    std::map<std::string, followed_node> nodes;
    /// What the watches said since the coroutine last looked: these nodes changed, these
    /// listings changed, or a watch ended otherwise (the session's end).
    std::set<std::string> changed;
    std::set<std::string> relist;
    error_code lost;
    /// The generation the coroutine's watches belong to (as in the children cache).
    std::uint64_t watch_generation = 0;
    /// Wakes the coroutine (cancelled when a watch fires).
    boost::asio::steady_timer wake;

    /// Reports the change of `p` to `now` (followed_node::advance) and marks it for the next
    /// publish().
    bool report(const std::string& p, std::optional<node_data> now) {
        changed_since_publish.insert(p);
        return nodes[p].advance(p, std::move(now), events);
    }
    /// Publishes the nodes reported since the last time: O(changes), not O(nodes).
    void publish() { copy.publish_changes(changed_since_publish, nodes); }

    // ---- Any thread. ----
    std::shared_ptr<const tree_cache::snapshot> snapshot() const { return copy.get(); }

  private:
    std::set<std::string> changed_since_publish;
    published_map<tree_cache::snapshot> copy;
};

namespace {

namespace asio = boost::asio;

/// The prefix every descendant of `p` starts with.
std::string below(const std::string& p) {
    return p == "/" ? p : p + "/";
}

/// The levels of `p` below `root` (0 for the root itself).
int depth_of(const std::string& root, const std::string& p) {
    if (p == root) {
        return 0;
    }
    const auto rest = std::string_view(p).substr(below(root).size());
    return 1 + static_cast<int>(std::count(rest.begin(), rest.end(), '/'));
}

/// The watches of one node: on its data (or its existence, for a missing root) and its children.
struct node_watches {
    zkr::watch data;
    zkr::watch kids;
};

enum class watch_kind { data, children };

/// Starts waiting on `w`: its firing is recorded in `c` for `p` and wakes the coroutine.
void listen(const std::shared_ptr<tree_cache_impl>& c, zkr::watch& w, std::string p,
            watch_kind kind) {
    if (!w.armed()) {
        return;
    }
    w.async_wait(asio::bind_executor(
        c->session->strand(), [weak = std::weak_ptr<tree_cache_impl>(c), p = std::move(p), kind,
                               armed_in = c->watch_generation](error_code ec, watch_event) {
            auto c = weak.lock();
            if (!c || c->closed || ec == asio::error::operation_aborted ||
                armed_in != c->watch_generation) {
                return;  // closed, a watch we let go of, or one of a session renewed since
            }
            if (ec && ec != zk_errc::no_watcher) {
                c->lost = ec;
            } else if (kind == watch_kind::data) {
                c->changed.insert(p);
            } else {
                c->relist.insert(p);
            }
            c->wake.cancel();
        }));
}

/// The coroutine's own state: the watches it holds and the work it has to do, in path order.
struct tree_work {
    std::map<std::string, node_watches> watches;
    std::set<std::string> reread;  ///< nodes to read
    std::set<std::string> relist;  ///< nodes to list

    /// Forgets the descendants of `p` (their watches are removed).
    void drop_below(const std::string& p) {
        const auto prefix = below(p);
        erase_prefixed(watches, prefix);
        erase_prefixed(reread, prefix);
        erase_prefixed(relist, prefix);
    }
    /// Forgets `p` and its descendants.
    void drop(const std::string& p) {
        watches.erase(p);
        reread.erase(p);
        relist.erase(p);
        drop_below(p);
    }

  private:
    template <class Sorted>
    static void erase_prefixed(Sorted& m, const std::string& prefix) {
        auto first = m.lower_bound(prefix);
        auto last = first;
        while (last != m.end() && key_of(*last).compare(0, prefix.size(), prefix) == 0) {
            ++last;
        }
        m.erase(first, last);
    }
    static const std::string& key_of(const std::string& k) { return k; }
    template <class V>
    static const std::string& key_of(const std::pair<const std::string, V>& kv) {
        return kv.first;
    }
};

/// Reports the removal of every descendant of `p` the cache holds, deepest first, and forgets
/// them.
void remove_below(tree_cache_impl& c, tree_work& work, const std::string& p) {
    const auto prefix = below(p);
    std::vector<std::string> held;
    for (auto it = c.nodes.lower_bound(prefix);
         it != c.nodes.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        if (it->second.last && it->first != p) {
            held.push_back(it->first);
        }
    }
    // A child sorts after its parent: backwards, children come first.
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
        c.report(*it, std::nullopt);
    }
    work.drop_below(p);
}

/// Reports `p` and its subtree gone, and forgets them.
void remove_subtree(tree_cache_impl& c, tree_work& work, const std::string& p) {
    remove_below(c, work, p);
    if (c.nodes.count(p)) {
        c.report(p, std::nullopt);
    }
    work.drop(p);
}

/// True if the cache holds a node at `p` (looked up, never added).
bool holds(const tree_cache_impl& c, const std::string& p) {
    auto it = c.nodes.find(p);
    return it != c.nodes.end() && it->second.last.has_value();
}

/// True if `p` is the root or its parent is held: only then is it followed.
bool reachable(const tree_cache_impl& c, const std::string& p) {
    return p == c.path || holds(c, std::string(parent_path(p)));
}

/// The requests in flight at most: the reads of a listing's children (and the listings of the
/// nodes just read) go out together, one round trip for a window of them instead of one each.
constexpr std::size_t window = 256;

using read_result = call_result<void(error_code, node_data, zkr::watch)>::type;
using listing_result = call_result<void(error_code, children, zkr::watch)>::type;

/// The next requests to send together, all reads (`read`) or all listings: the first of the
/// work in path order and those of the same kind after it, up to the first of the other kind (a
/// node is read before it is listed, a parent listed before its children are read). Work no
/// longer to be done (under a node gone, a listing of a node gone) is dropped on the way.
std::vector<std::string> next_batch(tree_cache_impl& c, tree_work& work, bool& read) {
    read = !work.reread.empty() &&
           (work.relist.empty() || *work.reread.begin() <= *work.relist.begin());
    auto& from = read ? work.reread : work.relist;
    const auto& other = read ? work.relist : work.reread;
    std::vector<std::string> run;
    for (auto it = from.begin(); it != from.end() && run.size() < window; ++it) {
        if (!other.empty() && (read ? *it > *other.begin() : *it >= *other.begin())) {
            break;
        }
        run.push_back(*it);
    }
    std::vector<std::string> batch;
    for (auto& p : run) {
        if (!from.count(p)) {
            continue;  // dropped just now with an ancestor
        }
        if (!reachable(c, p)) {
            work.drop(p);  // under a node gone meanwhile
            continue;
        }
        if (!read && !holds(c, p)) {
            work.relist.erase(p);  // gone meanwhile
            continue;
        }
        batch.push_back(std::move(p));
    }
    return batch;
}

/// True if the answer for `p` is still wanted when its turn comes: the answers of a batch are
/// taken in order, and one before may have made this one moot (its node gone, or replaced with
/// its subtree). A moot answer is dropped with its watch.
bool still_wanted(const tree_cache_impl& c, const std::set<std::string>& pending,
                  const std::string& p) {
    return pending.count(p) && reachable(c, p);
}

/// Takes the read of `p` (its data, armed with a watch): reports the node's change, and plans
/// its listing. An error other than no_node is returned and leaves the read to be done again.
asio::awaitable<error_code> take_read(std::shared_ptr<tree_cache_impl> c, tree_work& work,
                                      std::string p, read_result r) {
    auto& [dec, data, w] = r;
    if (!still_wanted(*c, work.reread, p)) {
        co_return error_code{};
    }
    const auto& s = c->session;
    const auto& root = c->path;
    if (dec && dec != zk_errc::no_node) {
        co_return dec;
    }
    if (dec) {
        remove_subtree(*c, work, p);
        if (p == root) {
            // No root, no tree; its creation is watched.
            auto [eec, st, ew] = co_await call<void(error_code, std::optional<stat>, zkr::watch)>(
                [&](auto h) { s->watch_exists(p, std::move(h)); });
            if (eec || st) {
                work.reread.insert(p);  // to read again; or created meanwhile: to read
                co_return eec;
            }
            auto& kept = work.watches[p].data;
            kept = std::move(ew);
            listen(c, kept, p, watch_kind::data);
        }
        co_return error_code{};
    }
    auto& n = c->nodes[p];
    if (n.last && n.last->stat.czxid != data.stat.czxid && !n.older(data)) {
        // Another node at this path: the old one's subtree went with it.
        remove_below(*c, work, p);
        work.watches[p].kids = zkr::watch{};
        work.relist.insert(p);
    }
    // A state older than the one reported (a server behind) is dropped; the watch it came with
    // still tells of the next change.
    static_cast<void>(c->report(p, std::move(data)));
    auto& kept = work.watches[p].data;
    kept = std::move(w);
    listen(c, kept, p, watch_kind::data);
    if (depth_of(root, p) < c->max_depth && !work.watches[p].kids.armed()) {
        work.relist.insert(p);
    }
    work.reread.erase(p);
    co_return error_code{};
}

/// Takes the listing of `p` (armed with a watch): reports the children gone, and plans the
/// reads of those not followed yet. An error other than no_node is returned and leaves the
/// listing to be done again.
error_code take_listing(const std::shared_ptr<tree_cache_impl>& c, tree_work& work,
                        const std::string& p, listing_result r) {
    auto& [lec, kids, w] = r;
    if (!still_wanted(*c, work.relist, p) || !holds(*c, p)) {
        return {};
    }
    if (lec == zk_errc::no_node) {
        work.relist.erase(p);
        work.reread.insert(p);  // the read says what is gone
        return {};
    }
    if (lec) {
        return lec;
    }
    work.relist.erase(p);
    auto& kept = work.watches[p].kids;
    kept = std::move(w);
    listen(c, kept, p, watch_kind::children);
    const std::set<std::string> listed(kids.names.begin(), kids.names.end());
    const auto prefix = below(p);
    std::vector<std::string> gone;
    for (auto it = c->nodes.lower_bound(prefix);
         it != c->nodes.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        const auto name = it->first.substr(prefix.size());
        if (it->second.last && name.find('/') == std::string::npos && !listed.count(name)) {
            gone.push_back(it->first);
        }
    }
    for (const auto& g : gone) {
        remove_subtree(*c, work, g);  // the listing is newer than its read
    }
    for (const auto& name : kids.names) {
        const auto child = join_path(p, name);
        auto it = work.watches.find(child);
        if (it == work.watches.end() || !it->second.data.armed()) {
            work.reread.insert(child);
        }
    }
    return {};
}

/// Does the work until none is left or a request fails (its error). The requests of a batch
/// are sent together and answered in order; their answers are then taken one by one in that
/// order, as if each had been sent after the one before was taken: the events come in the same
/// order, parents before children. Past a failed one, the batch's answers are dropped (with
/// their watches) and their work stays to be done.
asio::awaitable<error_code> do_work(std::shared_ptr<tree_cache_impl> c, tree_work& work) {
    const auto& s = c->session;
    while (!work.reread.empty() || !work.relist.empty()) {
        bool read = false;
        const auto batch = next_batch(*c, work, read);
        error_code ec;
        if (read) {
            auto answers = co_await call_all<void(error_code, node_data, zkr::watch)>(
                s, batch.size(),
                [&](std::size_t i, auto h) { s->watch_data(batch[i], std::move(h)); });
            for (std::size_t i = 0; i < batch.size() && !ec; ++i) {
                ec = co_await take_read(c, work, batch[i], std::move(answers[i]));
            }
        } else {
            auto answers = co_await call_all<void(error_code, children, zkr::watch)>(
                s, batch.size(),
                [&](std::size_t i, auto h) { s->watch_children(batch[i], std::move(h)); });
            for (std::size_t i = 0; i < batch.size() && !ec; ++i) {
                ec = take_listing(c, work, batch[i], std::move(answers[i]));
            }
        }
        if (ec) {
            co_return ec;
        }
        if (co_await cancellation_requested()) {
            co_return make_error_code(asio::error::operation_aborted);
        }
    }
    co_return error_code{};
}

asio::awaitable<std::tuple<error_code>> follow(std::shared_ptr<tree_cache_impl> c) {
    const auto& s = c->session;
    const auto& root = c->path;
    tree_work work;
    work.reread.insert(root);
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
                co_await call<void(error_code)>([&](auto h) { s->sync(root, std::move(h)); });
            ec = sec == zk_errc::no_node ? error_code{} : sec;
        }
        if (!ec) {
            ec = co_await do_work(c, work);
            if (ec == asio::error::operation_aborted) {
                co_return std::make_tuple(ec);
            }
        }
        if (!ec && co_await cancellation_requested()) {
            co_return std::make_tuple(make_error_code(asio::error::operation_aborted));
        }
        if (!ec) {
            c->publish();
            if (!initialized) {
                initialized = true;
                c->events.push(cache_event{cache_event_type::initialized, root, std::nullopt});
                c->start.complete({});
            } else if (resync) {
                c->events.push(cache_event{cache_event_type::resynced, root, std::nullopt});
            }
            resync = false;
            while (c->relist.empty() && c->changed.empty() && !c->lost) {
                c->wake.expires_at(asio::steady_timer::time_point::max());
                co_await c->wake.async_wait(use_tuple);
                if (co_await cancellation_requested()) {
                    co_return std::make_tuple(make_error_code(asio::error::operation_aborted));
                }
            }
            for (const auto& p : c->changed) {
                work.reread.insert(p);
                // A fired watch is spent: the read arms it again.
                if (auto it = work.watches.find(p); it != work.watches.end()) {
                    it->second.data = zkr::watch{};
                }
            }
            for (const auto& p : c->relist) {
                work.relist.insert(p);
            }
            c->changed.clear();
            c->relist.clear();
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
                work = tree_work{};
                work.reread.insert(root);
                c->changed.clear();
                c->relist.clear();
                c->lost = {};
                for (const auto& [p, n] : c->nodes) {
                    if (n.last) {
                        work.reread.insert(p);
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

tree_cache::tree_cache(session& s, std::string path, tree_cache_options options)
    : tree_cache(detail::access::seam(s), std::move(path), options) {}

tree_cache::tree_cache(std::shared_ptr<detail::session_seam> s, std::string path,
                       tree_cache_options options)
    : impl_(std::make_shared<detail::tree_cache_impl>(std::move(s), std::move(path),
                                                      options.max_depth)) {}

tree_cache::tree_cache(tree_cache&&) noexcept = default;

tree_cache& tree_cache::operator=(tree_cache&& other) noexcept {
    if (this != &other) {
        close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

tree_cache::~tree_cache() {
    close();
}

const std::string& tree_cache::path() const noexcept {
    return detail::access::path_of(*this);
}

std::shared_ptr<const tree_cache::snapshot> tree_cache::current() const {
    return impl_ ? impl_->snapshot() : nullptr;
}

void tree_cache::close() noexcept {
    detail::close_cache(impl_);
}

void tree_cache::initiate_start(const impl_ptr& c, detail::handler<void(error_code)> h) {
    detail::start_cache(
        c, std::move(h), [c] { return detail::follow(c); },
        c->max_depth < 0 ? make_error_code(errc::invalid_argument) : error_code{});
}

void tree_cache::initiate_wait_event(const impl_ptr& c,
                                     detail::handler<void(error_code, cache_event)> h) {
    detail::wait_cache_event(c, std::move(h));
}

}  // namespace zkr
