// The tree cache, step by step over the fake session, with every fault at every request, as
// cache_steps_test.cpp does for the node and children caches: the events, replayed, build a
// tree that is always a tree (no node without its parent, none removed before its children),
// of states the server had, in order, ending in the server's subtree; a renewed session ends in
// `resynced`; the maximum depth and the watch budget are kept; a closed cache leaves no watch.
#include "cache_runs.hpp"
#include "fake_session.hpp"

#include "access.hpp"

#include <zkr/tree_cache.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using detail::access;

const std::string root = "/app/t";

/// "path type data", without the stat.
std::string brief(const cache_event& e) {
    return e.path + " " + to_string(e.type) + (e.node ? " " + e.node->data : "");
}

/// Another client's writes, every state recorded.
struct tree_world {
    fake_server server;
    std::vector<std::pair<std::string, node_data>> history;

    tree_world() {
        created_node out;
        server.apply_create("/app", {}, create_mode::persistent, 0, out);
    }
    void create(const std::string& p, std::string data) {
        created_node out;
        server.apply_create(p, std::move(data), create_mode::persistent, 0, out);
        record(p);
    }
    void set(const std::string& p, std::string data) {
        zkr::stat out;
        server.apply_set(p, std::move(data), -1, out);
        record(p);
    }
    /// Deletes `p` and its subtree, deepest first.
    void remove_tree(const std::string& p) {
        if (!server.exists(p)) {
            return;
        }
        for (const auto& name : server.children_of(p)) {
            remove_tree(p + "/" + name);
        }
        server.remove(p);
    }
    /// (A conflict injected by a test may have deleted the node written.)
    void record(const std::string& p) {
        if (auto it = server.nodes.find(p); it != server.nodes.end()) {
            history.emplace_back(p, node_data{it->second.data, it->second.stat});
        }
    }
    bool had(const std::string& p, const node_data& n) const {
        return std::any_of(history.begin(), history.end(), [&](const auto& h) {
            return h.first == p && h.second.data == n.data && h.second.stat.czxid == n.stat.czxid &&
                   h.second.stat.mzxid == n.stat.mzxid;
        });
    }
    /// The subtree at `root` down to `max_depth` levels, by full path.
    std::map<std::string, node_data> subtree(int max_depth) const {
        std::map<std::string, node_data> out;
        std::function<void(const std::string&, int)> walk = [&](const std::string& p, int d) {
            auto it = server.nodes.find(p);
            if (it == server.nodes.end()) {
                return;
            }
            out.emplace(p, node_data{it->second.data, it->second.stat});
            if (d < max_depth) {
                for (const auto& name : server.children_of(p)) {
                    walk(p + "/" + name, d + 1);
                }
            }
        };
        walk(root, 0);
        return out;
    }
};

std::vector<std::string> describe(const std::map<std::string, node_data>& m) {
    std::vector<std::string> out;
    for (const auto& [p, n] : m) {
        out.push_back(p + "=" + n.data + "@" + std::to_string(n.stat.czxid) + "/" +
                      std::to_string(n.stat.mzxid));
    }
    return out;
}

/// The events replayed: each follows from the copy before it (an addition under a held parent,
/// an update of the same node with newer data, a removal of a held node with no held child),
/// every state is one the server had; returns the copy they build.
std::map<std::string, node_data> replay(const std::vector<cache_event>& events,
                                        const tree_world& w) {
    std::map<std::string, node_data> copy;
    for (std::size_t i = 0; i < events.size(); ++i) {
        const auto& e = events[i];
        SCOPED_TRACE("event " + std::to_string(i) + ": " + brief(e));
        if (e.type == cache_event_type::initialized || e.type == cache_event_type::resynced) {
            EXPECT_EQ(e.path, root);
            EXPECT_FALSE(e.node);
            continue;
        }
        if (!e.node) {
            ADD_FAILURE() << "an event without its node";
            continue;
        }
        auto it = copy.find(e.path);
        switch (e.type) {
            case cache_event_type::added:
                EXPECT_EQ(it, copy.end()) << "added over a node held";
                if (e.path != root) {
                    EXPECT_TRUE(copy.count(e.path.substr(0, e.path.rfind('/'))))
                        << "added without its parent";
                }
                copy[e.path] = *e.node;
                break;
            case cache_event_type::updated:
                if (it == copy.end()) {
                    ADD_FAILURE() << "updated a node not held";
                    break;
                }
                EXPECT_EQ(it->second.stat.czxid, e.node->stat.czxid);
                EXPECT_GT(e.node->stat.mzxid, it->second.stat.mzxid);
                it->second = *e.node;
                break;
            case cache_event_type::removed: {
                if (it == copy.end()) {
                    ADD_FAILURE() << "removed a node not held";
                    break;
                }
                EXPECT_EQ(it->second.stat.czxid, e.node->stat.czxid);
                auto next = std::next(it);
                EXPECT_FALSE(next != copy.end() && next->first.rfind(e.path + "/", 0) == 0)
                    << "removed before its children";
                copy.erase(it);
                break;
            }
            default:
                break;
        }
        if (e.type != cache_event_type::removed) {
            EXPECT_TRUE(w.had(e.path, *e.node)) << "invented";
        }
    }
    return copy;
}

/// What one run saw, and the tree on the server, replayed from the events and in the copy at
/// its end.
struct tree_run : cache_trace {
    std::map<std::string, node_data> server;
    std::map<std::string, node_data> replayed;
    std::shared_ptr<const tree_cache::snapshot> current;

    std::string str() const { return cache_trace::str(brief); }
};

/// A tree cache on /app/t over the tree `build` makes, with fault `f` at request `step`: the
/// writes `writes` makes, the cache left to settle after each; the waits take every event.
tree_run follow_tree(std::size_t step, fault f, bool renews,
                     const std::function<void(tree_world&)>& build,
                     const std::function<std::vector<std::function<void()>>(tree_world&)>& writes) {
    asio::io_context ioc;
    tree_world w;
    build(w);
    auto s = std::make_shared<fake_session>(ioc, w.server, our_session);
    s->renews = renews;
    s->inject(step, f);
    tree_run r;
    static_cast<cache_trace&>(r) = follow_cache<tree_cache>(
        ioc, w.server, s, std::make_shared<tree_cache>(access::construct<tree_cache>(s, root)),
        writes(w), [&](const tree_cache& cache) {
            r.current = cache.current();
            r.server = w.subtree(tree_cache_options::unlimited);
        });
    r.replayed = replay(r.events, w);
    return r;
}

/// A tree cache on /app/t (holding a, a/x): another client creates b, writes a/x, creates
/// a/x/deep, deletes the subtree a, creates a and a/y, writes the root; the waits take every
/// event.
tree_run run_tree(std::size_t step, fault f, bool renews) {
    return follow_tree(
        step, f, renews,
        [](tree_world& w) {
            w.create(root, "r1");
            w.create(root + "/a", "a1");
            w.create(root + "/a/x", "x1");
        },
        [](tree_world& w) -> std::vector<std::function<void()>> {
            return {[&] { w.create(root + "/b", "b1"); },
                    [&] { w.set(root + "/a/x", "x2"); },
                    [&] { w.create(root + "/a/x/deep", "d1"); },
                    [&] { w.remove_tree(root + "/a"); },
                    [&] {
                        w.create(root + "/a", "a2");
                        w.create(root + "/a/y", "y1");
                    },
                    [&] { w.set(root, "r2"); }};
        });
}

void expect_converged(const tree_run& r) {
    EXPECT_EQ(describe(r.replayed), describe(r.server)) << "the events";
    ASSERT_TRUE(r.current);
    EXPECT_EQ(describe(*r.current), describe(r.server)) << "the copy";
}

TEST(TreeCacheSteps, FollowsWritesAtEveryDepthAndARecreatedSubtree) {
    const auto clean = run_tree(static_cast<std::size_t>(-1), fault::none, false);
    SCOPED_TRACE(clean.str());
    EXPECT_FALSE(clean.start_ec);
    EXPECT_FALSE(clean.end_ec);
    std::vector<std::string> seen;
    for (const auto& e : clean.events) {
        seen.push_back(brief(e));
    }
    // The subtree deleted and created again: its old nodes removed (deepest first), then the
    // new ones added (parents first).
    EXPECT_EQ(seen, (std::vector<std::string>{
                        "/app/t added r1",
                        "/app/t/a added a1",
                        "/app/t/a/x added x1",
                        "/app/t initialized",
                        "/app/t/b added b1",
                        "/app/t/a/x updated x2",
                        "/app/t/a/x/deep added d1",
                        "/app/t/a/x/deep removed d1",
                        "/app/t/a/x removed x2",
                        "/app/t/a removed a1",
                        "/app/t/a added a2",
                        "/app/t/a/y added y1",
                        "/app/t updated r2",
                    }));
    expect_converged(clean);
    EXPECT_EQ(clean.watches_left, 0u);
}

TEST(TreeCacheSteps, UnderEveryFaultAtEveryRequest) {
    const auto clean = run_tree(static_cast<std::size_t>(-1), fault::none, false);
    ASSERT_GT(clean.requests_at_start, 0u);
    std::size_t applied = 0;
    for_every_fault(clean.requests.size(), [&](std::size_t step, fault f, bool renews) {
        const auto r = run_tree(step, f, renews);
        if (!r.fault_applied) {
            return;
        }
        ++applied;
        SCOPED_TRACE(fault_label(f, renews, step) + "\n" + r.str());
        if (expect_outcome(r, f, renews, step, clean.requests_at_start) ==
            run_outcome::carried_on) {
            expect_converged(r);
        }
    });
    // Every fault but a conflict applies at every request.
    EXPECT_GE(applied, 2 * 5 * clean.requests.size());
}

/// A tree cache on /app/t whose first snapshot takes batches of several requests (three
/// children of two children each): another client writes a leaf, deletes a subtree and adds a
/// node; the waits take every event.
tree_run run_wide(std::size_t step, fault f, bool renews) {
    return follow_tree(
        step, f, renews,
        [](tree_world& w) {
            w.create(root, "r");
            for (const auto* kid : {"/a", "/b", "/c"}) {
                w.create(root + kid, "k");
                w.create(root + kid + "/0", "l");
                w.create(root + kid + "/1", "l");
            }
        },
        [](tree_world& w) -> std::vector<std::function<void()>> {
            return {[&] { w.set(root + "/c/1", "l2"); }, [&] { w.remove_tree(root + "/b"); },
                    [&] { w.create(root + "/a/2", "l"); }};
        });
}

TEST(TreeCacheSteps, ReadsAListingsChildrenTogetherUnderEveryFault) {
    const auto clean = run_wide(static_cast<std::size_t>(-1), fault::none, false);
    SCOPED_TRACE(clean.str());
    EXPECT_FALSE(clean.start_ec);
    // The first snapshot level by level: the reads of a listing's children sent together, then
    // their listings together.
    const std::vector<std::string> load(clean.requests.begin(),
                                        clean.requests.begin() + clean.requests_at_start);
    EXPECT_EQ(
        load,
        (std::vector<std::string>{
            "watch_data /app/t",         "watch_children /app/t",     "watch_data /app/t/a",
            "watch_data /app/t/b",       "watch_data /app/t/c",       "watch_children /app/t/a",
            "watch_children /app/t/b",   "watch_children /app/t/c",   "watch_data /app/t/a/0",
            "watch_data /app/t/a/1",     "watch_data /app/t/b/0",     "watch_data /app/t/b/1",
            "watch_data /app/t/c/0",     "watch_data /app/t/c/1",     "watch_children /app/t/a/0",
            "watch_children /app/t/a/1", "watch_children /app/t/b/0", "watch_children /app/t/b/1",
            "watch_children /app/t/c/0", "watch_children /app/t/c/1",
        }));
    expect_converged(clean);
    for_every_fault(clean.requests.size(), [&](std::size_t step, fault f, bool renews) {
        const auto r = run_wide(step, f, renews);
        if (!r.fault_applied) {
            return;
        }
        SCOPED_TRACE(fault_label(f, renews, step) + "\n" + r.str());
        if (expect_outcome(r, f, renews, step, clean.requests_at_start) ==
            run_outcome::carried_on) {
            expect_converged(r);
        }
    });
}

/// A started cache over /app/t holding a (with a/x, a/x/deep) and b, on its own io_context.
struct started_tree {
    asio::io_context ioc;
    tree_world w;
    std::shared_ptr<fake_session> s;
    std::unique_ptr<tree_cache> cache;
    std::optional<error_code> start_ec;

    explicit started_tree(tree_cache_options options = {},
                          std::size_t watch_budget = static_cast<std::size_t>(-1)) {
        w.create(root, "r");
        w.create(root + "/a", "a");
        w.create(root + "/a/x", "x");
        w.create(root + "/a/x/deep", "deep");
        w.create(root + "/b", "b");
        s = std::make_shared<fake_session>(ioc, w.server, our_session);
        s->watch_budget = watch_budget;
        cache = std::make_unique<tree_cache>(access::construct<tree_cache>(s, root, options));
        cache->async_start([this](error_code ec) { start_ec = ec; });
        drain(ioc, "the cache");
    }
    ~started_tree() {
        cache.reset();
        drain(ioc, "the cache");
    }
    started_tree(const started_tree&) = delete;
    started_tree& operator=(const started_tree&) = delete;

    /// Takes the queued events, then what ended them (if they did).
    std::pair<std::vector<std::string>, error_code> take() {
        std::vector<std::string> seen;
        for (;;) {
            std::optional<std::pair<error_code, cache_event>> got;
            asio::cancellation_signal cancel;
            cache->async_wait_event(asio::bind_cancellation_slot(
                cancel.slot(), [&](error_code ec, cache_event e) { got.emplace(ec, e); }));
            drain(ioc, "the cache");
            if (!got) {
                // Nothing queued: the wait is cancelled (it loses no event).
                cancel.emit(asio::cancellation_type::partial);
                drain(ioc, "the cache");
                return {seen, {}};
            }
            if (got->first) {
                return {seen, got->first};
            }
            seen.push_back(brief(got->second));
        }
    }
    std::vector<std::string> watched() const {
        std::vector<std::string> out;
        for (const auto& [p, n] : w.server.nodes) {
            if (auto k = w.server.watches_on(p)) {
                out.push_back(p + ":" + std::to_string(k));
            }
        }
        return out;
    }
};

TEST(TreeCacheSteps, KeepsToItsMaximumDepth) {
    {
        started_tree t({.max_depth = 1});
        ASSERT_EQ(t.start_ec, error_code{});
        ASSERT_TRUE(t.cache->current());
        std::vector<std::string> held;
        for (const auto& [p, n] : *t.cache->current()) {
            held.push_back(p);
        }
        EXPECT_EQ(held, (std::vector<std::string>{"/app/t", "/app/t/a", "/app/t/b"}));
        // The root's data and children; its children's data only; nothing below.
        EXPECT_EQ(t.watched(), (std::vector<std::string>{"/app/t:2", "/app/t/a:1", "/app/t/b:1"}));
        // Changes below the depth are not seen; those within it are.
        t.w.create(root + "/a/z", "z");
        t.w.set(root + "/a/x", "x2");
        t.w.set(root + "/a", "a2");
        drain(t.ioc);
        EXPECT_EQ(t.take().first, (std::vector<std::string>{
                                      "/app/t added r",
                                      "/app/t/a added a",
                                      "/app/t/b added b",
                                      "/app/t initialized",
                                      "/app/t/a updated a2",
                                  }));
        EXPECT_EQ(t.cache->current()->size(), 3u);
    }
    {
        started_tree t({.max_depth = 0});  // the root only
        ASSERT_EQ(t.start_ec, error_code{});
        ASSERT_TRUE(t.cache->current());
        EXPECT_EQ(t.cache->current()->size(), 1u);
        EXPECT_EQ(t.watched(), (std::vector<std::string>{"/app/t:1"}));
    }
    {
        started_tree t({.max_depth = -1});
        EXPECT_EQ(t.start_ec, errc::invalid_argument);
        EXPECT_EQ(t.w.server.watches_of(t.s.get()), 0u);
    }
    {
        started_tree t;  // no limit
        ASSERT_EQ(t.start_ec, error_code{});
        EXPECT_EQ(t.cache->current()->size(), 5u);
        EXPECT_EQ(t.w.server.watches_of(t.s.get()), 10u);
    }
}

TEST(TreeCacheSteps, MergesWhatNobodyWaitedForButNeverInventsAState) {
    started_tree t;
    ASSERT_EQ(t.start_ec, error_code{});
    // The subtree a deleted and created again, and written, while nobody waits.
    t.w.set(root + "/a/x", "x2");
    drain(t.ioc);
    t.w.remove_tree(root + "/a");
    drain(t.ioc);
    t.w.create(root + "/a", "a2");
    t.w.create(root + "/a/x", "x3");
    drain(t.ioc);
    t.w.set(root + "/a/x", "x4");
    drain(t.ioc);
    // The first snapshot level by level (the reads of a listing's children go out together),
    // each parent before its children.
    EXPECT_EQ(t.take().first, (std::vector<std::string>{
                                  "/app/t added r",
                                  "/app/t/a added a",
                                  "/app/t/b added b",
                                  "/app/t/a/x added x",
                                  "/app/t/a/x/deep added deep",
                                  "/app/t initialized",
                                  "/app/t/a/x/deep removed deep",
                                  "/app/t/a/x removed x2",
                                  "/app/t/a removed a",
                                  "/app/t/a added a2",
                                  "/app/t/a/x added x4",
                              }));
}

TEST(TreeCacheSteps, ASubtreeRecreatedUnseenIsToldByItsCzxid) {
    // Deleted and created again before the cache reads anything: only the new czxid of a tells
    // it; the old subtree is removed (deepest first) before the new one is added.
    started_tree t;
    ASSERT_EQ(t.start_ec, error_code{});
    static_cast<void>(t.take());
    t.w.remove_tree(root + "/a");
    t.w.create(root + "/a", "a2");
    t.w.create(root + "/a/y", "y");
    drain(t.ioc);
    EXPECT_EQ(t.take().first, (std::vector<std::string>{
                                  "/app/t/a/x/deep removed deep",
                                  "/app/t/a/x removed x",
                                  "/app/t/a removed a",
                                  "/app/t/a added a2",
                                  "/app/t/a/y added y",
                              }));
    ASSERT_TRUE(t.cache->current());
    EXPECT_EQ(describe(*t.cache->current()), describe(t.w.subtree(tree_cache_options::unlimited)));
    // Four nodes, two watches each: none left on the old ones.
    EXPECT_EQ(t.w.server.watches_of(t.s.get()), 8u);
}

TEST(TreeCacheSteps, OfAMissingRootStartsEmptyAndSeesItsCreation) {
    asio::io_context ioc;
    tree_world w;
    auto s = std::make_shared<fake_session>(ioc, w.server, our_session);
    auto cache = access::construct<tree_cache>(s, root);
    std::optional<error_code> started;
    cache.async_start([&](error_code ec) { started = ec; });
    drain(ioc, "the cache");
    ASSERT_TRUE(started);
    EXPECT_FALSE(*started);
    ASSERT_TRUE(cache.current());
    EXPECT_TRUE(cache.current()->empty());
    EXPECT_EQ(w.server.watches_on(root), 1u);
    w.create(root, "r");
    drain(ioc, "the cache");
    w.create(root + "/c", "c");
    drain(ioc, "the cache");
    ASSERT_EQ(cache.current()->size(), 2u);
    EXPECT_EQ(cache.current()->at(root + "/c").data, "c");
    cache.close();
    drain(ioc, "the cache");
    EXPECT_EQ(w.server.watches_of(s.get()), 0u);
}

TEST(TreeCacheSteps, TooLargeForTheWatchBudgetIsRefusedNotStuck) {
    {
        // 5 nodes need 10 watches: refused at the start, then to the waiter.
        started_tree t({}, 9);
        ASSERT_TRUE(t.start_ec);
        EXPECT_EQ(*t.start_ec, errc::too_many_watches);
        EXPECT_NE(t.start_ec->message().find("packet limit"), std::string::npos)
            << t.start_ec->message();
        EXPECT_EQ(t.take().second, errc::too_many_watches);
        t.cache->close();
        drain(t.ioc);
        EXPECT_EQ(t.w.server.watches_of(t.s.get()), 0u);
    }
    {
        // Grown past the budget later: the events so far, then the refusal.
        started_tree t({}, 10);
        ASSERT_EQ(t.start_ec, error_code{});
        t.w.create(root + "/c", "c");
        drain(t.ioc);
        const auto [seen, end] = t.take();
        EXPECT_EQ(seen.size(), 6u);  // five added, initialized
        EXPECT_EQ(end, errc::too_many_watches);
        EXPECT_EQ(t.take().second, errc::too_many_watches);
        t.cache->close();
        drain(t.ioc);
        EXPECT_EQ(t.w.server.watches_of(t.s.get()), 0u);
    }
}

TEST(TreeCacheSteps, StartsOnceAndClosedLeavesNoWatch) {
    started_tree t;
    ASSERT_EQ(t.start_ec, error_code{});
    std::optional<error_code> again;
    t.cache->async_start([&](error_code ec) { again = ec; });
    drain(t.ioc);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, errc::already_started);
    EXPECT_EQ(t.w.server.watches_of(t.s.get()), 10u);
    std::optional<error_code> waited;
    static_cast<void>(t.take());
    t.cache->async_wait_event([&](error_code ec, cache_event) { waited = ec; });
    t.cache->close();
    drain(t.ioc);
    ASSERT_TRUE(waited);
    EXPECT_EQ(*waited, asio::error::operation_aborted);
    EXPECT_EQ(t.w.server.watches_of(t.s.get()), 0u);
    ASSERT_TRUE(t.cache->current());  // the last snapshot stays
    EXPECT_EQ(t.cache->current()->size(), 5u);
}

TEST(TreeCacheSteps, AReadersSnapshotNeverChangesUnderIt) {
    started_tree t;
    ASSERT_EQ(t.start_ec, error_code{});
    auto held = t.cache->current();
    ASSERT_TRUE(held);
    const auto before = describe(*held);
    std::weak_ptr<const tree_cache::snapshot> watched = held;
    // Changes while a reader holds the snapshot: the reader's copy stays as it was.
    t.w.set(root + "/a/x", "x2");
    t.w.remove_tree(root + "/b");
    drain(t.ioc);
    EXPECT_EQ(describe(*held), before);
    auto now = t.cache->current();
    EXPECT_NE(now.get(), held.get());
    EXPECT_EQ(describe(*now), describe(t.w.subtree(tree_cache_options::unlimited)));
    // Let go of: a weak pointer cannot bring it back, not even once the cache edits the map
    // nobody holds in place.
    held.reset();
    const auto* unheld = now.get();
    now.reset();
    t.w.set(root + "/a", "a2");
    drain(t.ioc);
    EXPECT_TRUE(watched.expired());
    const auto after = t.cache->current();
    EXPECT_EQ(after.get(), unheld) << "edited in place: nobody held it";
    EXPECT_EQ(after->at(root + "/a").data, "a2");
    EXPECT_EQ(describe(*after), describe(t.w.subtree(tree_cache_options::unlimited)));
}

}  // namespace
}  // namespace zkr::test
