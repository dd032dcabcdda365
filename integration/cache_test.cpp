// zkr::node_cache against a real server: another client's writes, a node deleted and created
// again, a forced expiry with renewal, and no watch left behind.
#include "test_support.hpp"

#include <zkr/children_cache.hpp>
#include <zkr/node_cache.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <map>

#include <signal.h>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

/// The next event as "type data" ("type" without a node), or the error's message.
template <class Cache>
asio::awaitable<std::string> next_event(Cache& cache) {
    auto [ec, e] = co_await cache.async_wait_event(tuple);
    if (ec) {
        co_return ec.message();
    }
    std::string out = to_string(e.type);
    if (e.node) {
        out += " " + e.node->data;
    }
    co_return out;
}

TEST(Cache, NodeCacheSeesAnotherClientsWritesAndARecreationAsRemovedThenAdded) {
    const auto root = fresh_root();
    const auto path = root + "/n";
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), root, "");
    with_sessions<2>([&](session& s, session& writer) -> asio::awaitable<void> {
        const std::string v1 = "v1", v2 = "v2", v3 = "v3";
        {
            node_cache cache(s, path);
            EXPECT_FALSE(cache.current());
            auto [sec] = co_await cache.async_start(tuple);
            CO_REQUIRE(!sec);
            EXPECT_FALSE(cache.current()) << "the node does not exist yet";
            EXPECT_EQ(co_await next_event(cache), "initialized");

            auto [cec, created] =
                co_await writer.async_create(path, v1, create_mode::persistent, tuple);
            CO_REQUIRE(!cec);
            EXPECT_EQ(co_await next_event(cache), "added v1");
            CO_REQUIRE(cache.current() != nullptr);
            EXPECT_EQ(cache.current()->stat.czxid, created.stat.czxid);

            auto [wec, written] = co_await writer.async_set_data(path, v2, -1, tuple);
            CO_REQUIRE(!wec);
            EXPECT_EQ(co_await next_event(cache), "updated v2");
            EXPECT_EQ(cache.current()->stat.mzxid, written.mzxid);

            // Deleted and created again with the same version (0): removed, then added.
            auto [rec] = co_await writer.async_remove(path, -1, tuple);
            CO_REQUIRE(!rec);
            EXPECT_EQ(co_await next_event(cache), "removed v2");
            auto [c2ec, again] =
                co_await writer.async_create(path, v3, create_mode::persistent, tuple);
            CO_REQUIRE(!c2ec);
            EXPECT_EQ(co_await next_event(cache), "added v3");
            CO_REQUIRE(cache.current() != nullptr);
            EXPECT_EQ(cache.current()->data, "v3");
            EXPECT_EQ(cache.current()->stat.czxid, again.stat.czxid);

            auto [twice] = co_await cache.async_start(tuple);
            EXPECT_EQ(twice, errc::already_started);
        }
        // Destroyed: its watch is gone from the server.
        EXPECT_TRUE(co_await settled(s));
        EXPECT_FALSE(server_watches_path(shared_hosts(), path));
        co_await writer.async_close(asio::use_awaitable);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Cache, NodeCacheResyncsAfterARenewedSessionAndEndsWithoutRenewal) {
    const auto root = fresh_root();
    const auto path = root + "/n";
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), root, "");
    create_node(shared_hosts(), path, "v1");
    auto renewing = config_for(shared_hosts());
    renewing.renew_after_expiry = true;
    const session_config configs[] = {renewing, config_for(shared_hosts()),
                                      config_for(shared_hosts())};
    with_sessions(configs,
                  [&](session& s, session& final_one, session& writer) -> asio::awaitable<void> {
                      node_cache cache(s, path);
                      node_cache ending(final_one, path);
                      CO_REQUIRE(!std::get<0>(co_await cache.async_start(tuple)));
                      CO_REQUIRE(!std::get<0>(co_await ending.async_start(tuple)));
                      EXPECT_EQ(co_await next_event(cache), "initialized v1");
                      EXPECT_EQ(co_await next_event(ending), "initialized v1");

                      // Expired while cut off; before the session can hear of it (nothing runs on
                      // this thread until the next co_await), the node is deleted and created
                      // again: only the reload in the new session can find that out.
                      const auto generation = s.generation();
                      expire_session(s, shared_hosts());
                      delete_node(shared_hosts(), path);
                      create_node(shared_hosts(), path, "v2");
                      EXPECT_EQ(co_await next_event(cache), "removed v1");
                      EXPECT_EQ(co_await next_event(cache), "added v2");
                      EXPECT_EQ(co_await next_event(cache), "resynced v2");
                      EXPECT_EQ(s.generation(), generation + 1);
                      auto [gec, now] = co_await writer.async_get_data(path, tuple);
                      CO_REQUIRE(!gec);
                      CO_REQUIRE(cache.current() != nullptr);
                      EXPECT_EQ(cache.current()->stat.czxid, now.stat.czxid);
                      EXPECT_EQ(cache.current()->stat.mzxid, now.stat.mzxid);

                      // Without renewal the expiry ends the cache, once its events are taken.
                      EXPECT_EQ(co_await next_event(ending), "removed v1");
                      EXPECT_EQ(co_await next_event(ending), "added v2");
                      expire_session(final_one, shared_hosts());
                      auto [eec, e] = co_await ending.async_wait_event(tuple);
                      EXPECT_EQ(eec, zk_errc::session_expired) << eec.message();

                      // Closed: no watch of the renewed session is left.
                      cache.close();
                      EXPECT_TRUE(co_await settled(s));
                      co_await writer.async_close(asio::use_awaitable);
                      co_await s.async_close(asio::use_awaitable);
                  });
}

/// The children as "name=data" (empty without a snapshot).
std::vector<std::string> listed(const children_cache& cache) {
    std::vector<std::string> out;
    if (auto now = cache.current()) {
        for (const auto& [name, n] : *now) {
            out.push_back(name + "=" + n.data);
        }
    }
    return out;
}

TEST(Cache, ChildrenCacheFollowsAnotherClientsChildrenAndResyncsAfterRenewal) {
    const auto root = fresh_root();
    const auto dir = root + "/d";
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), root, "");
    create_node(shared_hosts(), dir, "");
    create_node(shared_hosts(), dir + "/a", "v1");
    auto renewing = config_for(shared_hosts());
    renewing.renew_after_expiry = true;
    const session_config configs[] = {renewing, config_for(shared_hosts())};
    with_sessions(configs, [&](session& s, session& writer) -> asio::awaitable<void> {
        const std::string b = dir + "/b", a = dir + "/a", x1 = "x1", v2 = "v2";
        {
            children_cache cache(s, dir);
            CO_REQUIRE(!std::get<0>(co_await cache.async_start(tuple)));
            EXPECT_EQ(listed(cache), (std::vector<std::string>{"a=v1"}));
            EXPECT_EQ(co_await next_event(cache), "added v1");
            EXPECT_EQ(co_await next_event(cache), "initialized");

            CO_REQUIRE(
                !std::get<0>(co_await writer.async_create(b, x1, create_mode::persistent, tuple)));
            EXPECT_EQ(co_await next_event(cache), "added x1");
            CO_REQUIRE(!std::get<0>(co_await writer.async_set_data(a, v2, -1, tuple)));
            EXPECT_EQ(co_await next_event(cache), "updated v2");

            // Expired while cut off; meanwhile b is deleted and a re-created: the reload in
            // the new session finds both.
            expire_session(s, shared_hosts());
            delete_node(shared_hosts(), b);
            delete_node(shared_hosts(), a);
            create_node(shared_hosts(), a, "v3");
            std::vector<std::string> seen;
            for (int i = 0; i < 4; ++i) {
                seen.push_back(co_await next_event(cache));
            }
            std::sort(seen.begin(), seen.end() - 1);  // the children in any order, then resynced
            EXPECT_EQ(seen, (std::vector<std::string>{"added v3", "removed v2", "removed x1",
                                                      "resynced"}));
            EXPECT_EQ(listed(cache), (std::vector<std::string>{"a=v3"}));
        }
        // Destroyed: no watch of the renewed session is left.
        EXPECT_TRUE(co_await settled(s));
        co_await writer.async_close(asio::use_awaitable);
        co_await s.async_close(asio::use_awaitable);
    });
}

/// The children of `dir` as the Curator driver prints a snapshot: "children n:czxid:mzxid,...".
std::string snapshot_line(const children_cache::snapshot& kids) {
    std::string line = "children ";
    for (const auto& [name, node] : kids) {
        line += (line.size() > 9 ? "," : "") + name + ":" + std::to_string(node.stat.czxid) + ":" +
                std::to_string(node.stat.mzxid);
    }
    return line;
}

TEST(Interop, ZkrChildrenCacheAndCuratorTreeCacheReachTheSameState) {
    const auto root = fresh_root();
    const auto dir = root + "/tree";
    create_node(shared_hosts(), "/t", "");  // may exist already
    create_node(shared_hosts(), root, "");
    create_node(shared_hosts(), dir, "");
    auto java = peer("curator-coordination", {"tree-cache", dir});
    expect_ready(java, "Curator TreeCache driver");
    std::string expected;
    with_sessions([&](session& s) -> asio::awaitable<void> {
        children_cache cache(s, dir);
        auto [sec] = co_await cache.async_start(tuple);
        CO_REQUIRE(!sec);
        // Creates, updates, deletions and re-creations, as fast as round trips allow.
        std::map<std::string, bool> exists;
        for (int i = 0; i < 60; ++i) {
            const auto name = "n" + std::to_string(i % 5);
            const auto path = dir + "/" + name;
            if (!exists[name]) {
                auto [ec, made] = co_await s.async_create(path, std::to_string(i),
                                                          create_mode::persistent, tuple);
                EXPECT_FALSE(ec) << ec.message();
                exists[name] = true;
            } else if (i % 3 == 0) {
                auto [ec] = co_await s.async_remove(path, -1, tuple);
                EXPECT_FALSE(ec) << ec.message();
                exists[name] = false;
            } else {
                auto [ec, st] = co_await s.async_set_data(path, std::to_string(i), -1, tuple);
                EXPECT_FALSE(ec) << ec.message();
            }
        }
        // The server's state, read directly.
        auto [lec, kids] = co_await s.async_get_children(dir, tuple);
        CO_REQUIRE(!lec);
        children_cache::snapshot server;
        for (const auto& name : kids.names) {
            auto [gec, node] = co_await s.async_get_data(dir + "/" + name, tuple);
            CO_REQUIRE(!gec);
            server[name] = node;
        }
        expected = snapshot_line(server);
        CO_REQUIRE(co_await eventually(
            [&] { return cache.current() && snapshot_line(*cache.current()) == expected; }));
    });
    // Curator's cache prints its snapshot after every event: it must reach the same one.
    EXPECT_TRUE(java.expect_line_eventually(expected));
    java.kill(SIGTERM);
}

/// The node as the Curator driver prints it: "node CZXID:MZXID:DATA", or "node -".
std::string node_line(const node_data* node) {
    if (!node) {
        return "node -";
    }
    return "node " + std::to_string(node->stat.czxid) + ":" + std::to_string(node->stat.mzxid) +
           ":" + node->data;
}

TEST(Interop, ZkrNodeCacheAndCuratorNodeCacheReachTheSameState) {
    const auto root = fresh_root();
    const auto path = root + "/n";
    create_node(shared_hosts(), "/t", "");  // may exist already
    create_node(shared_hosts(), root, "");
    auto java = peer("curator-coordination", {"node-cache", path});
    expect_ready(java, "Curator NodeCache driver");
    // The sessions ping from their own thread: the test's thread blocks while it reads the driver.
    with_sessions_like<2>(
        config_for_peer_tests(shared_hosts()),
        [&](session& s, session& writer) -> asio::awaitable<void> {
            node_cache cache(s, path);
            CO_REQUIRE(!std::get<0>(co_await cache.async_start(tuple)));
            // Both caches must come to the node as the server has it now (its czxid tells a node
            // created again from the one deleted; its mzxid, the last write).
            auto both_reach_the_servers_node = [&](const char* after) -> asio::awaitable<void> {
                auto [ec, now] = co_await writer.async_get_data(path, tuple);
                const auto expected = node_line(ec ? nullptr : &now);
                EXPECT_TRUE(!ec || ec == zk_errc::no_node) << ec.message();
                EXPECT_TRUE(co_await eventually([&] {
                    return node_line(cache.current().get()) == expected;
                })) << "zkr after "
                    << after << ": " << node_line(cache.current().get()) << ", expected "
                    << expected;
                EXPECT_TRUE(java.expect_line_eventually(expected)) << "Curator after " << after;
            };
            const std::string v[] = {"v1", "v2", "v3", "v4"}, other = "other", again = "again";
            CO_REQUIRE(!std::get<0>(
                co_await writer.async_create(path, v[0], create_mode::persistent, tuple)));
            for (int i = 1; i < 4; ++i) {
                CO_REQUIRE(!std::get<0>(co_await writer.async_set_data(path, v[i], -1, tuple)));
            }
            co_await both_reach_the_servers_node("a creation and updates");
            CO_REQUIRE(!std::get<0>(co_await writer.async_remove(path, -1, tuple)));
            co_await both_reach_the_servers_node("a deletion");
            CO_REQUIRE(!std::get<0>(
                co_await writer.async_create(path, other, create_mode::persistent, tuple)));
            co_await both_reach_the_servers_node("a creation with other data");
            // Deleted and created again back to back: a cache may see only the new node, and
            // must then tell it from the old one by its czxid.
            CO_REQUIRE(!std::get<0>(co_await writer.async_remove(path, -1, tuple)));
            CO_REQUIRE(!std::get<0>(
                co_await writer.async_create(path, again, create_mode::persistent, tuple)));
            co_await both_reach_the_servers_node("a deletion and a creation back to back");
            co_await writer.async_close(asio::use_awaitable);
            co_await s.async_close(asio::use_awaitable);
        },
        120s);
    java.kill(SIGTERM);
}

}  // namespace
}  // namespace zkr::test
