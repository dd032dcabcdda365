// zkr::queue and Apache Curator's SimpleDistributedQueue on one queue: Curator puts and zkr takes,
// in order; zkr puts and Curator takes, in order, past zkr's own directories in the queue's path
// (which Curator skips as foreign nodes).
#include "test_support.hpp"

#include <zkr/queue.hpp>
#include <zkr/session.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <string>
#include <vector>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

constexpr int items = 10;

/// Runs the Curator driver in `mode` on `path` and returns the lines it printed between "ready"
/// and "done".
std::vector<std::string> curator_queue(const std::string& mode, const std::string& path) {
    auto driver = peer("curator-queue", {mode, path, std::to_string(items)});
    expect_ready(driver, driver.report());
    std::vector<std::string> lines;
    std::string line;
    while (driver.read_line(line, peer_start_limit) && line != "done") {
        lines.push_back(line);
    }
    EXPECT_EQ(line, "done") << driver.report();
    EXPECT_TRUE(driver.exits_cleanly()) << driver.report();
    return lines;
}

TEST(Interop, CuratorSimpleDistributedQueueAndZkrShareAQueue) {
    const auto path = fresh_root() + "/q";
    const auto config = config_for_peer_tests(shared_hosts());
    // zkr's directories first: a consumer that waited (and timed out), one that took an item.
    with_sessions_like<1>(config, [&](session& s) -> asio::awaitable<void> {
        queue q(s, path);
        asio::steady_timer deadline(co_await asio::this_coro::executor, 200ms);
        co_await (q.async_take(tuple) || deadline.async_wait(tuple));
        auto [pec, node] = co_await q.async_put("zkr-first", tuple);
        auto [tec, item] = co_await q.async_take(tuple);
        EXPECT_FALSE(pec || tec);
    });

    EXPECT_TRUE(curator_queue("put", path).empty());
    with_sessions_like<1>(config, [&](session& s) -> asio::awaitable<void> {
        queue q(s, path);
        for (int i = 0; i < items; ++i) {
            auto [ec, item] = co_await q.async_take(tuple);
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_EQ(item.data, "curator-" + std::to_string(i)) << "Curator's order";
        }
        std::vector<std::string> ours;
        for (int i = 0; i < items; ++i) {
            ours.push_back("zkr-" + std::to_string(i));
        }
        auto [pec, nodes] = co_await q.async_put_many(std::move(ours), tuple);
        EXPECT_FALSE(pec) << pec.message();
    });

    std::vector<std::string> expected;
    for (int i = 0; i < items; ++i) {
        expected.push_back("took zkr-" + std::to_string(i));
    }
    EXPECT_EQ(curator_queue("take", path), expected);
    const auto left = list_children(shared_hosts(), path);
    for (const auto& child : left) {
        EXPECT_FALSE(child.starts_with("qn-")) << child << " left";
    }
}

}  // namespace
}  // namespace zkr::test
