// TTL nodes: created where the server allows them, a clear error where it does not.
#include "test_support.hpp"

#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(Ttl, ANodeWithATtlIsRemovedByAServerThatAllowsThem) {
    // The server's TTL and container sweep runs every 100 ms here (one minute by default).
    zk_server server(1,
                     "-Dzookeeper.extendedTypesEnabled=true -Dznode.container.checkIntervalMs=100");
    with_sessions(
        {config_for(server.hosts())},
        [&](session& s) -> asio::awaitable<void> {
            auto [ec, node] =
                co_await s.async_create_ttl(std::string("/short-lived"), std::string("x"),
                                            create_mode::persistent_with_ttl, 300ms, tuple);
            CO_REQUIRE(!ec);
            EXPECT_EQ(node.path, "/short-lived");
            auto [sec, seq] =
                co_await s.async_create_ttl(std::string("/numbered-"), std::string(),
                                            create_mode::persistent_sequential_with_ttl, 1h, tuple);
            CO_REQUIRE(!sec);
            EXPECT_EQ(seq.path.rfind("/numbered-", 0), 0u) << seq.path;
            EXPECT_EQ(seq.path.size(), std::string("/numbered-").size() + 10) << seq.path;
            // Unchanged and childless for its TTL: the server deletes it (not before).
            CO_REQUIRE(
                co_await eventually([&] { return !node_exists(server.hosts(), node.path); }, 20s));
            EXPECT_TRUE(node_exists(server.hosts(), seq.path)) << "its TTL is an hour";
            co_await s.async_close(asio::use_awaitable);
        },
        60s);
}

TEST(Ttl, AServerWithoutThemAndBadArgumentsGetClearErrors) {
    const auto path = fresh_root() + "-ttl";
    create_node(shared_hosts(), "/t", "");
    with_sessions([&](session& s) -> asio::awaitable<void> {
        auto [ec, node] = co_await s.async_create_ttl(path, std::string(),
                                                      create_mode::persistent_with_ttl, 1s, tuple);
        EXPECT_EQ(ec, errc::ttl_disabled) << ec.message();
        auto [zero, n1] = co_await s.async_create_ttl(path, std::string(),
                                                      create_mode::persistent_with_ttl, 0ms, tuple);
        EXPECT_EQ(zero, errc::invalid_argument);
        auto [plain, n2] =
            co_await s.async_create_ttl(path, std::string(), create_mode::persistent, 1s, tuple);
        EXPECT_EQ(plain, errc::invalid_argument);
        auto [no_ttl, n3] =
            co_await s.async_create(path, std::string(), create_mode::persistent_with_ttl, tuple);
        EXPECT_EQ(no_ttl, errc::invalid_argument);
        EXPECT_FALSE(node_exists(shared_hosts(), path));
        co_await s.async_close(asio::use_awaitable);
    });
}

}  // namespace
}  // namespace zkr::test
