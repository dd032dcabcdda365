// zkr::tree_cache against a real server: another client's writes at several depths, a subtree
// deleted and created again, the maximum depth kept (no watch below it), a forced expiry with
// renewal, the watch budget's refusal, and no watch left behind; and kazoo's TreeCache on the
// same tree.
#include "test_support.hpp"

#include <zkr/session.hpp>
#include <zkr/tree_cache.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include <signal.h>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

/// The next event as "path type data" (the path relative to `root`, "." for the root itself),
/// or the error's message.
asio::awaitable<std::string> next_event(tree_cache& cache, const std::string& root) {
    auto [ec, e] = co_await cache.async_wait_event(tuple);
    if (ec) {
        co_return ec.message();
    }
    std::string out = e.path == root ? "." : e.path.substr(root.size() + 1);
    out += std::string(" ") + to_string(e.type);
    if (e.node) {
        out += " " + e.node->data;
    }
    co_return out;
}

/// The copy as "path=data", paths relative to `root`.
std::vector<std::string> held_nodes(const tree_cache& cache, const std::string& root) {
    std::vector<std::string> out;
    if (auto now = cache.current()) {
        for (const auto& [p, n] : *now) {
            out.push_back((p == root ? "." : p.substr(root.size() + 1)) + "=" + n.data);
        }
    }
    return out;
}

TEST(TreeCache, FollowsWritesAtSeveralDepthsAndARecreatedSubtreeWithinItsDepth) {
    const auto top = fresh_root();
    const auto root = top + "/tree";
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), top, "");
    create_node(shared_hosts(), root, "r");
    create_node(shared_hosts(), root + "/a", "a1");
    create_node(shared_hosts(), root + "/a/x", "x1");
    with_sessions<2>([&](session& s, session& writer) -> asio::awaitable<void> {
        const std::string a = root + "/a", x = root + "/a/x", deep = root + "/a/x/deep";
        const std::string b1 = "b1", x2 = "x2", d1 = "d1", a2 = "a2", x3 = "x3";
        {
            tree_cache cache(s, root, {.max_depth = 2});
            CO_REQUIRE(!std::get<0>(co_await cache.async_start(tuple)));
            EXPECT_EQ(held_nodes(cache, root), (std::vector<std::string>{".=r", "a=a1", "a/x=x1"}));
            EXPECT_EQ(co_await next_event(cache, root), ". added r");
            EXPECT_EQ(co_await next_event(cache, root), "a added a1");
            EXPECT_EQ(co_await next_event(cache, root), "a/x added x1");
            EXPECT_EQ(co_await next_event(cache, root), ". initialized");

            CO_REQUIRE(!std::get<0>(
                co_await writer.async_create(root + "/b", b1, create_mode::persistent, tuple)));
            EXPECT_EQ(co_await next_event(cache, root), "b added b1");
            CO_REQUIRE(!std::get<0>(co_await writer.async_set_data(x, x2, -1, tuple)));
            EXPECT_EQ(co_await next_event(cache, root), "a/x updated x2");

            // Below the maximum depth: neither cached nor watched.
            CO_REQUIRE(!std::get<0>(
                co_await writer.async_create(deep, d1, create_mode::persistent, tuple)));
            CO_REQUIRE(!std::get<0>(co_await writer.async_sync(root, tuple)));
            EXPECT_FALSE(server_watches_path(shared_hosts(), deep));

            // The subtree a deleted and created again: the old nodes removed, then the new
            // ones added (the node below the depth unseen).
            CO_REQUIRE(!std::get<0>(co_await writer.async_remove(deep, -1, tuple)));
            CO_REQUIRE(!std::get<0>(co_await writer.async_remove(x, -1, tuple)));
            CO_REQUIRE(!std::get<0>(co_await writer.async_remove(a, -1, tuple)));
            CO_REQUIRE(
                !std::get<0>(co_await writer.async_create(a, a2, create_mode::persistent, tuple)));
            CO_REQUIRE(
                !std::get<0>(co_await writer.async_create(x, x3, create_mode::persistent, tuple)));
            EXPECT_EQ(co_await next_event(cache, root), "a/x removed x2");
            EXPECT_EQ(co_await next_event(cache, root), "a removed a1");
            EXPECT_EQ(co_await next_event(cache, root), "a added a2");
            EXPECT_EQ(co_await next_event(cache, root), "a/x added x3");
            EXPECT_EQ(held_nodes(cache, root),
                      (std::vector<std::string>{".=r", "a=a2", "a/x=x3", "b=b1"}));
            auto [gec, now] = co_await writer.async_get_data(x, tuple);
            CO_REQUIRE(!gec);
            EXPECT_EQ(cache.current()->at(x).stat.czxid, now.stat.czxid);
        }
        // Destroyed: no watch is left.
        EXPECT_TRUE(co_await settled(s));
        EXPECT_FALSE(server_watches_path(shared_hosts(), root));
        EXPECT_FALSE(server_watches_path(shared_hosts(), root + "/a/x"));
        co_await writer.async_close(asio::use_awaitable);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(TreeCache, ResyncsAfterARenewedSession) {
    const auto top = fresh_root();
    const auto root = top + "/tree";
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), top, "");
    create_node(shared_hosts(), root, "r");
    create_node(shared_hosts(), root + "/a", "a1");
    create_node(shared_hosts(), root + "/a/x", "x1");
    create_node(shared_hosts(), root + "/b", "b1");
    auto renewing = config_for(shared_hosts());
    renewing.renew_after_expiry = true;
    const session_config configs[] = {renewing, config_for(shared_hosts())};
    with_sessions(configs, [&](session& s, session& writer) -> asio::awaitable<void> {
        {
            tree_cache cache(s, root);
            CO_REQUIRE(!std::get<0>(co_await cache.async_start(tuple)));
            for (int i = 0; i < 5; ++i) {
                static_cast<void>(co_await next_event(cache, root));  // 4 added, initialized
            }
            // Expired while cut off; meanwhile the subtree a is deleted, b re-created and c
            // created: only the reload in the new session finds that out.
            const auto generation = s.generation();
            expire_session(s, shared_hosts());
            delete_node(shared_hosts(), root + "/a/x");
            delete_node(shared_hosts(), root + "/a");
            delete_node(shared_hosts(), root + "/b");
            create_node(shared_hosts(), root + "/b", "b2");
            create_node(shared_hosts(), root + "/c", "c1");
            std::vector<std::string> seen;
            for (int i = 0; i < 6; ++i) {
                seen.push_back(co_await next_event(cache, root));
            }
            EXPECT_EQ(seen,
                      (std::vector<std::string>{"a/x removed x1", "a removed a1", "b removed b1",
                                                "b added b2", "c added c1", ". resynced"}));
            EXPECT_EQ(s.generation(), generation + 1);
            EXPECT_EQ(held_nodes(cache, root), (std::vector<std::string>{".=r", "b=b2", "c=c1"}));
            auto [gec, now] = co_await writer.async_get_data(root + "/b", tuple);
            CO_REQUIRE(!gec);
            EXPECT_EQ(cache.current()->at(root + "/b").stat.czxid, now.stat.czxid);
        }
        // Destroyed: no watch of the renewed session is left.
        EXPECT_TRUE(co_await settled(s));
        co_await writer.async_close(asio::use_awaitable);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(TreeCache, TooLargeForTheSessionsWatchesIsRefusedNamingTheLimit) {
    const auto top = fresh_root();
    const auto root = top + "/tree";
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), top, "");
    create_node(shared_hosts(), root, "");
    for (int i = 0; i < 20; ++i) {
        create_node(shared_hosts(), root + "/child-with-a-rather-long-name-" + std::to_string(i),
                    "");
    }
    // Room for a few watches only (the session keeps 1024 bytes for the packet's own fields).
    auto small = config_for(shared_hosts());
    small.max_packet_bytes = 1024 + 600;
    const session_config configs[] = {small};
    with_sessions(configs, [&](session& s) -> asio::awaitable<void> {
        {
            tree_cache cache(s, root);
            auto [ec] = co_await cache.async_start(tuple);
            EXPECT_EQ(ec, errc::too_many_watches) << ec.message();
            EXPECT_NE(ec.message().find("packet limit"), std::string::npos) << ec.message();
            // The waiter gets the additions made before the refusal, never `initialized`,
            // then the refusal.
            error_code wec;
            for (int i = 0; i < 50 && !wec; ++i) {
                auto [next, e] = co_await cache.async_wait_event(tuple);
                wec = next;
                EXPECT_TRUE(next || e.type == cache_event_type::added);
            }
            EXPECT_EQ(wec, errc::too_many_watches) << wec.message();
            // The smaller tree of the root alone fits.
            tree_cache root_only(s, root, {.max_depth = 0});
            EXPECT_FALSE(std::get<0>(co_await root_only.async_start(tuple)));
        }
        // Destroyed: the refused cache left no watch.
        EXPECT_TRUE(co_await settled(s));
        co_await s.async_close(asio::use_awaitable);
    });
}

/// `root` and everything below it as the server has it now, read through `s` (nothing may
/// write meanwhile).
asio::awaitable<tree_cache::snapshot> server_tree(session& s, const std::string& root) {
    tree_cache::snapshot tree;
    std::vector<std::string> pending{root};
    while (!pending.empty()) {
        const auto path = pending.back();
        pending.pop_back();
        auto [dec, node] = co_await s.async_get_data(path, tuple);
        auto [cec, kids] = co_await s.async_get_children(path, tuple);
        EXPECT_FALSE(dec || cec) << path << ": " << (dec ? dec : cec).message();
        tree[path] = node;
        for (const auto& name : kids.names) {
            pending.push_back(path + "/" + name);
        }
    }
    co_return tree;
}

/// A copy of the tree as the kazoo driver prints it: "tree REL:CZXID:MZXID:DATA,..." sorted, REL
/// relative to `root` ("." for the root).
std::string tree_line(const tree_cache::snapshot& tree, const std::string& root) {
    std::vector<std::string> nodes;
    for (const auto& [p, n] : tree) {
        nodes.push_back((p == root ? "." : p.substr(root.size() + 1)) + ":" +
                        std::to_string(n.stat.czxid) + ":" + std::to_string(n.stat.mzxid) + ":" +
                        n.data);
    }
    std::sort(nodes.begin(), nodes.end());
    std::string line = "tree ";
    for (const auto& n : nodes) {
        line += (&n == &nodes.front() ? "" : ",") + n;
    }
    return line;
}

TEST(Interop, ZkrTreeCacheAndKazooTreeCacheReachTheSameState) {
    const auto top = fresh_root();
    const auto root = top + "/tree";
    create_node(shared_hosts(), "/t", "");  // may exist already
    create_node(shared_hosts(), top, "");
    create_node(shared_hosts(), root, "r");
    create_node(shared_hosts(), root + "/a", "a1");
    create_node(shared_hosts(), root + "/a/x", "x1");
    auto python = peer("kazoo_coordination.py", {"tree-cache", root});
    expect_ready(python, "kazoo TreeCache driver");
    // The sessions ping from their own thread: the test's thread blocks while it reads the driver.
    with_sessions_like<2>(
        config_for_peer_tests(shared_hosts()),
        [&](session& s, session& writer) -> asio::awaitable<void> {
            tree_cache cache(s, root);
            CO_REQUIRE(!std::get<0>(co_await cache.async_start(tuple)));
            // The writer is a third client: creations at two depths, updates, deletions, and b
            // deleted (with its child) and created again.
            const std::string a = root + "/a", b = root + "/b", x = a + "/x", y = a + "/y",
                              z = b + "/z";
            using write = std::pair<std::string, std::string>;  // path, data
            for (const auto& [path, data] : {write{b, "b1"}, write{y, "y1"}, write{z, "z1"}}) {
                CO_REQUIRE(!std::get<0>(
                    co_await writer.async_create(path, data, create_mode::persistent, tuple)));
            }
            for (const auto& [path, data] : {write{root, "r2"}, write{a, "a2"}, write{x, "x2"}}) {
                CO_REQUIRE(!std::get<0>(co_await writer.async_set_data(path, data, -1, tuple)));
            }
            for (const auto& path : {y, z, b}) {
                CO_REQUIRE(!std::get<0>(co_await writer.async_remove(path, -1, tuple)));
            }
            CO_REQUIRE(!std::get<0>(
                co_await writer.async_create(b, "b2", create_mode::persistent, tuple)));

            const auto expected = tree_line(co_await server_tree(writer, root), root);
            EXPECT_TRUE(co_await eventually([&] {
                return cache.current() && tree_line(*cache.current(), root) == expected;
            })) << "zkr: "
                << (cache.current() ? tree_line(*cache.current(), root) : "<none>")
                << "\nexpected: " << expected;
            // kazoo's cache prints its copy after every event: it must reach the same one.
            EXPECT_TRUE(python.expect_line_eventually(expected));
            co_await writer.async_close(asio::use_awaitable);
            co_await s.async_close(asio::use_awaitable);
        },
        120s);
    python.kill(SIGTERM);
}

}  // namespace
}  // namespace zkr::test
