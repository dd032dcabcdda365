// zkr::persistent_node against a real server: kept through another client's deletion and
// through a renewed session, deleted on close (ours only), waiting out another session's node,
// and the TTL mode.
#include "tcp_proxy.hpp"
#include "test_support.hpp"

#include <zkr/persistent_node.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <signal.h>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// The data and owner of `path` as another session reads them.
TEST(PersistentNode, DeletedByAnotherClientItComesBackWithTheLatestData) {
    const auto path = fresh_root() + "/dir/node";
    with_sessions<2>([&](session& s, session& other) -> asio::awaitable<void> {
        persistent_node n(s, path, "one");
        auto [ec] = co_await n.async_start(tuple);
        CO_REQUIRE(!ec);
        EXPECT_EQ(n.node_path(), path);
        auto got = co_await get_node(other, path);
        CO_REQUIRE(got.has_value());
        EXPECT_EQ(got->data, "one");
        EXPECT_EQ(got->stat.ephemeral_owner, s.session_id());

        const std::string two = "two";
        auto [sec] = co_await n.async_set_data(two, tuple);
        CO_REQUIRE(!sec);
        got = co_await get_node(other, path);
        CO_REQUIRE(got.has_value());
        EXPECT_EQ(got->data, "two");

        delete_node(shared_hosts(), path);
        CO_REQUIRE(co_await eventually([&] { return node_exists(shared_hosts(), path); }));
        got = co_await get_node(other, path);
        CO_REQUIRE(got.has_value());
        EXPECT_EQ(got->data, "two") << "re-created with the latest data";
        EXPECT_EQ(got->stat.ephemeral_owner, s.session_id());

        auto [cec] = co_await n.async_close(tuple);
        EXPECT_FALSE(cec) << cec.message();
        EXPECT_FALSE(node_exists(shared_hosts(), path));
        EXPECT_TRUE(n.node_path().empty());
        EXPECT_TRUE(co_await settled(s)) << "its watch went with it";
    });
}

TEST(PersistentNode, AfterAForcedExpiryItIsCreatedAgainInTheRenewedSession) {
    const auto path = fresh_root() + "/node";
    auto renewing = config_for(shared_hosts());
    renewing.renew_after_expiry = true;
    with_sessions({renewing, config_for(shared_hosts())},
                  [&](session& s, session& other) -> asio::awaitable<void> {
                      persistent_node n(s, path, "one");
                      auto [ec] = co_await n.async_start(tuple);
                      CO_REQUIRE(!ec);
                      const auto first_id = s.session_id();
                      const std::string two = "two";
                      auto [sec] = co_await n.async_set_data(two, tuple);
                      CO_REQUIRE(!sec);

                      expire_session(s, shared_hosts());
                      CO_REQUIRE(co_await eventually([&] { return s.generation() == 2; }));
                      auto [wec] = co_await n.async_wait_created(tuple);
                      CO_REQUIRE(!wec);
                      EXPECT_NE(s.session_id(), first_id);
                      auto got = co_await get_node(other, path);
                      CO_REQUIRE(got.has_value());
                      EXPECT_EQ(got->stat.ephemeral_owner, s.session_id())
                          << "owned by the new session";
                      EXPECT_EQ(got->data, "two");

                      auto [cec] = co_await n.async_close(tuple);
                      EXPECT_FALSE(cec) << cec.message();
                      EXPECT_FALSE(node_exists(shared_hosts(), path));
                  });
}

TEST(PersistentNode, ProtectedNodesTakeANewNameAtEachCreation) {
    const auto dir = fresh_root();
    const auto path = dir + "/member";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        persistent_node n(s, path, "x", {persistent_node_mode::protected_ephemeral, {}});
        auto [ec] = co_await n.async_start(tuple);
        CO_REQUIRE(!ec);
        const auto first = n.node_path();
        EXPECT_EQ(first.rfind(dir + "/_c_", 0), 0u) << first;
        EXPECT_NE(first.find("-member00000"), std::string::npos) << first;
        delete_node(shared_hosts(), first);
        CO_REQUIRE(co_await eventually([&] {
            const auto now = n.node_path();
            return !now.empty() && now != first && node_exists(shared_hosts(), now);
        }));
        // The same uuid: a create whose answer is lost is found again by it.
        const auto second = n.node_path();
        EXPECT_EQ(second.substr(0, first.size() - 10), first.substr(0, first.size() - 10));
        EXPECT_EQ(list_children(shared_hosts(), dir).size(), 1u);
        auto [cec] = co_await n.async_close(tuple);
        EXPECT_FALSE(cec);
        EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
    });
}

TEST(PersistentNode, AProtectedCreateDoneButUnansweredIsFoundByItsUuidNotDuplicated) {
    const auto dir = fresh_root();
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), dir, "");
    tcp_proxy proxy(shared_hosts());
    with_sessions({config_for(proxy.address(), 8000ms)}, [&](session& s) -> asio::awaitable<void> {
        persistent_node n(s, dir + "/member", "x", {persistent_node_mode::protected_ephemeral, {}});
        proxy.drop_replies();
        bool started = false;
        error_code result = make_error_code(errc::invalid_argument);
        n.async_start([&](error_code ec) {
            result = ec;
            started = true;
        });
        // The server has created our node; we never heard back.
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 1; }));
        const auto created = list_children(shared_hosts(), dir).front();
        proxy.cut();
        proxy.restore();
        CO_REQUIRE(co_await eventually([&] { return started; }));
        EXPECT_FALSE(result) << result.message();
        EXPECT_EQ(n.node_path(), dir + "/" + created) << "found, not created again";
        EXPECT_EQ(children_count(dir), 1u);
        auto [cec] = co_await n.async_close(tuple);
        EXPECT_FALSE(cec);
        EXPECT_EQ(children_count(dir), 0u);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(PersistentNode, APersistentCreateDoneButUnansweredIsTakenAsOurs) {
    const auto path = fresh_root() + "/node";
    tcp_proxy proxy(shared_hosts());
    with_sessions({config_for(proxy.address(), 8000ms)}, [&](session& s) -> asio::awaitable<void> {
        {
            // Its parents first, answered.
            persistent_node warm(s, path, "", {persistent_node_mode::persistent, {}});
            auto [wec] = co_await warm.async_start(tuple);
            CO_REQUIRE(!wec);
            auto [cec] = co_await warm.async_close(tuple);
            CO_REQUIRE(!cec);
        }
        persistent_node n(s, path, "mine", {persistent_node_mode::persistent, {}});
        proxy.drop_replies();
        bool started = false;
        error_code result = make_error_code(errc::invalid_argument);
        n.async_start([&](error_code ec) {
            result = ec;
            started = true;
        });
        CO_REQUIRE(co_await eventually([&] { return node_exists(shared_hosts(), path); }));
        proxy.cut();
        proxy.restore();
        CO_REQUIRE(co_await eventually([&] { return started; }));
        EXPECT_FALSE(result) << result.message() << ": not node_taken";
        EXPECT_EQ(n.node_path(), path);
        auto [cec] = co_await n.async_close(tuple);
        EXPECT_FALSE(cec);
        EXPECT_FALSE(node_exists(shared_hosts(), path));
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(PersistentNode, AnotherSessionsNodeIsLeftAloneUntilItGoes) {
    const auto root = fresh_root();
    const auto path = root + "/node";
    with_sessions<2>([&](session& s, session& other) -> asio::awaitable<void> {
        create_node(shared_hosts(), "/t", "");
        create_node(shared_hosts(), root, "");
        const std::string theirs = "theirs";
        auto [oec, made] = co_await other.async_create(path, theirs, create_mode::ephemeral, tuple);
        CO_REQUIRE(!oec);
        persistent_node n(s, path, "mine");
        auto [ec] = co_await n.async_start(tuple);
        EXPECT_EQ(ec, errc::node_taken) << ec.message();
        auto got = co_await get_node(s, path);
        CO_REQUIRE(got.has_value());
        EXPECT_EQ(got->data, "theirs") << "left alone";

        co_await other.async_close(asio::use_awaitable);  // its node goes with its session
        auto [wec] = co_await n.async_wait_created(tuple);
        CO_REQUIRE(!wec);
        got = co_await get_node(s, path);
        CO_REQUIRE(got.has_value());
        EXPECT_EQ(got->data, "mine");
        EXPECT_EQ(got->stat.ephemeral_owner, s.session_id());
    });
}

TEST(PersistentNode, APersistentNodeIsDeletedWhenItsObjectIsDestroyed) {
    const auto path = fresh_root() + "/node";
    with_sessions<2>([&](session& s, session& other) -> asio::awaitable<void> {
        {
            persistent_node n(s, path, "p", {persistent_node_mode::persistent, {}});
            auto [ec] = co_await n.async_start(tuple);
            CO_REQUIRE(!ec);
            auto got = co_await get_node(other, path);
            CO_REQUIRE(got.has_value());
            EXPECT_EQ(got->stat.ephemeral_owner, 0);
        }
        // Destroyed: deleted in the background.
        CO_REQUIRE(co_await eventually([&] { return !node_exists(shared_hosts(), path); }));
    });
}

TEST(PersistentNode, BadInputGetsNamedErrorsAndLeavesNothing) {
    const auto path = fresh_root() + "/node";
    create_node(shared_hosts(), "/t", "");
    with_sessions([&](session& s) -> asio::awaitable<void> {
        persistent_node big(s, path, std::string(2 << 20, 'x'));
        auto [bec] = co_await big.async_start(tuple);
        EXPECT_EQ(bec, errc::request_too_large) << bec.message();
        persistent_node bad(s, "relative/node", "");
        auto [pec] = co_await bad.async_start(tuple);
        EXPECT_EQ(pec, errc::invalid_path) << pec.message();
        // The shared server does not allow TTL nodes.
        persistent_node ttl(s, path, "", {persistent_node_mode::persistent_with_ttl, 1s});
        auto [tec] = co_await ttl.async_start(tuple);
        EXPECT_EQ(tec, errc::ttl_disabled) << tec.message();
        auto [wec] = co_await ttl.async_wait_created(tuple);
        EXPECT_EQ(wec, errc::ttl_disabled);
        EXPECT_FALSE(node_exists(shared_hosts(), path));
        persistent_node twice(s, path, "");
        auto [t1] = co_await twice.async_start(tuple);
        CO_REQUIRE(!t1);
        auto [t2] = co_await twice.async_start(tuple);
        EXPECT_EQ(t2, errc::already_started);
        auto [cec] = co_await twice.async_close(tuple);
        EXPECT_FALSE(cec);
        EXPECT_FALSE(node_exists(shared_hosts(), path));
    });
}

TEST(PersistentNode, ATtlNodeIsTouchedWhileItsObjectLives) {
    // The server's TTL sweep runs every 100 ms here (one minute by default).
    zk_server server(1,
                     "-Dzookeeper.extendedTypesEnabled=true -Dznode.container.checkIntervalMs=100");
    with_sessions(
        {config_for(server.hosts())},
        [&](session& s) -> asio::awaitable<void> {
            persistent_node n(s, "/kept", "x", {persistent_node_mode::persistent_with_ttl, 400ms});
            auto [ec] = co_await n.async_start(tuple);
            CO_REQUIRE(!ec);
            const std::string kept = "/kept";
            auto [e1, before] = co_await s.async_exists(kept, tuple);
            CO_REQUIRE(!e1 && before.has_value());
            // Four TTLs: untouched, the server would have deleted it (Ttl.ANodeWithATtl...).
            co_await pause_for(1600ms);
            auto [e2, after] = co_await s.async_exists(kept, tuple);
            CO_REQUIRE(!e2 && after.has_value());
            EXPECT_EQ(after->czxid, before->czxid) << "the same node: never deleted";
            EXPECT_GT(after->version, before->version) << "touched";
            auto [cec] = co_await n.async_close(tuple);
            EXPECT_FALSE(cec);
            EXPECT_FALSE(node_exists(server.hosts(), "/kept"));
            co_await s.async_close(asio::use_awaitable);
        },
        60s);
}

/// Curator's PersistentNode and zkr's side by side: another client deletes both, both come back
/// with their data.
TEST(Interop, ZkrAndCuratorPersistentNodesBothComeBackAfterADeletion) {
    const auto root = fresh_root();
    create_node(shared_hosts(), "/t", "");  // may exist already
    create_node(shared_hosts(), root, "");
    const auto theirs = root + "/curator", ours = root + "/zkr";
    auto java = peer("curator-coordination", {"persistent-node", theirs, "java"});
    expect_ready(java, "Curator PersistentNode driver");
    with_sessions(
        {config_for_peer_tests(shared_hosts())}, [&](session& s) -> asio::awaitable<void> {
            persistent_node node(s, ours, "zkr");
            auto [sec] = co_await node.async_start(tuple);
            CO_REQUIRE(!sec);
            // Named strings: no temporary in a co_await expression (g++ 12).
            const std::string java_data = "java", zkr_data = "zkr";
            auto holds = [&](const std::string& path,
                             const std::string& data) -> asio::awaitable<bool> {
                auto [ec, got] = co_await s.async_get_data(path, tuple);
                co_return !ec && got.data == data;
            };
            const bool curator_first = co_await holds(theirs, java_data);
            const bool zkr_first = co_await holds(ours, zkr_data);
            EXPECT_TRUE(curator_first);
            EXPECT_TRUE(zkr_first);
            for (int round = 0; round < 3; ++round) {
                delete_node(shared_hosts(), theirs);
                delete_node(shared_hosts(), ours);
                bool both = false;
                const auto deadline = std::chrono::steady_clock::now() + 20s;
                while (!both && std::chrono::steady_clock::now() < deadline) {
                    const bool curator_now = co_await holds(theirs, java_data);
                    const bool zkr_now = co_await holds(ours, zkr_data);
                    both = curator_now && zkr_now;
                    if (!both) {
                        co_await pause_for(20ms);  // polling the server, not synchronising
                    }
                }
                const bool curator_back = co_await holds(theirs, java_data);
                const bool zkr_back = co_await holds(ours, zkr_data);
                EXPECT_TRUE(both) << "round " << round << ": Curator's node back: " << curator_back
                                  << ", zkr's: " << zkr_back;
            }
            co_await node.async_close(tuple);
            const bool zkr_after_close = co_await holds(ours, zkr_data);
            EXPECT_FALSE(zkr_after_close);
        });
    java.kill(SIGTERM);
}

}  // namespace
}  // namespace zkr::test
