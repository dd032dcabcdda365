// zkr::queue and Apache Curator's queues on one queue: Curator puts and zkr takes, in order; zkr
// puts and Curator takes, in order, past zkr's own directories in the queue's path (which
// Curator skips as foreign nodes). SimpleDistributedQueue in the curator_simple layout;
// DistributedQueue, DistributedPriorityQueue and DistributedDelayQueue (with zkr's claims
// directory as their lockPath) in the curator_distributed layout.
#include "test_support.hpp"

#include <zkr/queue.hpp>
#include <zkr/session.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

constexpr int items = 10;

/// Runs the Curator driver in `mode` on `path` and returns the lines it printed between "ready"
/// and "done".
std::vector<std::string> curator_queue(const std::string& mode, const std::string& path,
                                       const std::string& lock_path = {}) {
    std::vector<std::string> args{mode, path, std::to_string(items)};
    if (!lock_path.empty()) {
        args.push_back(lock_path);
    }
    auto driver = peer("curator-queue", args);
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

/// "PREFIX0" ... "PREFIX<items - 1>".
std::vector<std::string> numbered(const std::string& prefix) {
    std::vector<std::string> out;
    for (int i = 0; i < items; ++i) {
        out.push_back(prefix + std::to_string(i));
    }
    return out;
}

/// "took DATA" for each of `data`.
std::vector<std::string> took_lines(const std::vector<std::string>& data) {
    std::vector<std::string> lines;
    for (const auto& d : data) {
        lines.push_back("took " + d);
    }
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
        auto [pec, nodes] = co_await q.async_put_many(numbered("zkr-"), tuple);
        EXPECT_FALSE(pec) << pec.message();
    });

    EXPECT_EQ(curator_queue("take", path), took_lines(numbered("zkr-")));
    const auto left = list_children(shared_hosts(), path);
    for (const auto& child : left) {
        EXPECT_FALSE(child.starts_with("qn-")) << child << " left";
    }
}

queue curator_distributed(session& s, const std::string& path) {
    queue_options options;
    options.layout = queue_layout::curator_distributed;
    return queue(s, path, options);
}

std::int64_t wall_clock_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

/// No item node left in `path` (zkr's directories and Curator's lockPath may stay).
void expect_no_items_left(const std::string& path) {
    for (const auto& child : list_children(shared_hosts(), path)) {
        EXPECT_FALSE(child.starts_with("queue-")) << child << " left";
    }
}

TEST(Interop, CuratorDistributedQueueAndZkrShareAQueue) {
    const auto path = fresh_root() + "/q";
    const auto config = config_for_peer_tests(shared_hosts());
    EXPECT_TRUE(curator_queue("distributed-put", path).empty());
    with_sessions_like<1>(config, [&](session& s) -> asio::awaitable<void> {
        auto q = curator_distributed(s, path);
        // Half taken, half claimed and completed (claims in Curator's lockPath).
        for (int i = 0; i < items; ++i) {
            const auto want = "curator-" + std::to_string(i);
            if (i % 2 == 0) {
                auto [ec, item] = co_await q.async_take(tuple);
                EXPECT_FALSE(ec) << ec.message();
                EXPECT_EQ(item.data, want) << "Curator's order";
            } else {
                auto [ec, claim] = co_await q.async_claim(tuple);
                EXPECT_FALSE(ec) << ec.message();
                EXPECT_EQ(claim.item().data, want) << "Curator's order";
                EXPECT_EQ(claim.path(), path + "/zkr-claims/" + claim.item().node);
                auto [xec, results] = co_await claim.async_complete({}, tuple);
                EXPECT_FALSE(xec) << xec.message();
            }
        }
        auto [pec, nodes] = co_await q.async_put_many(numbered("zkr-"), tuple);
        EXPECT_FALSE(pec) << pec.message();
    });
    EXPECT_EQ(curator_queue("distributed-take", path), took_lines(numbered("zkr-")));
    expect_no_items_left(path);
}

TEST(Interop, CuratorDistributedPriorityQueueAndZkrShareAQueue) {
    const auto path = fresh_root() + "/q";
    const auto config = config_for_peer_tests(shared_hosts());
    // Curator puts item i with priority i % 3: zkr takes priority 0 first, FIFO within one.
    EXPECT_TRUE(curator_queue("priority-put", path).empty());
    std::vector<std::string> curators;
    for (int p = 0; p < 3; ++p) {
        for (int i = p; i < items; i += 3) {
            curators.push_back("curator-" + std::to_string(i));
        }
    }
    std::vector<std::string> ours;
    with_sessions_like<1>(config, [&](session& s) -> asio::awaitable<void> {
        auto q = curator_distributed(s, path);
        for (const auto& want : curators) {
            auto [ec, item] = co_await q.async_take(tuple);
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_EQ(item.data, want) << "Curator's priority order";
        }
        // zkr puts item i with priority -i: Curator takes the last first.
        for (int i = 0; i < items; ++i) {
            auto [pec, node] = co_await q.async_put("zkr-" + std::to_string(i),
                                                    put_options::with_priority(-i), tuple);
            EXPECT_FALSE(pec) << pec.message();
            ours.insert(ours.begin(), "zkr-" + std::to_string(i));
        }
    });
    EXPECT_EQ(curator_queue("priority-take", path), took_lines(ours));
    expect_no_items_left(path);
}

/// A delay queue shared with Curator: zkr's directories outside its path (queue_options).
queue curator_delay_queue(session& s, const std::string& root) {
    queue_options options;
    options.layout = queue_layout::curator_distributed;
    options.claims_dir = root + "/claims";
    options.waiters_dir = root + "/waiters";
    return queue(s, root + "/q", options);
}

TEST(Interop, CuratorDistributedDelayQueueAndZkrShareAQueue) {
    const auto root = fresh_root();
    const auto path = root + "/q";
    const auto config = config_for_peer_tests(shared_hosts());
    // Curator puts item i due 300 + 50 * (N - i) ms after its start: the last due first.
    std::map<std::string, std::int64_t> due;
    for (const auto& line : curator_queue("delay-put", path, root + "/claims")) {
        const auto space = line.rfind(' ');
        due[line.substr(4, space - 4)] = std::stoll(line.substr(space + 1));
    }
    EXPECT_EQ(due.size(), static_cast<std::size_t>(items));
    with_sessions_like<1>(config, [&](session& s) -> asio::awaitable<void> {
        auto q = curator_delay_queue(s, root);
        for (int i = items - 1; i >= 0; --i) {
            auto [ec, item] = co_await q.async_take(tuple);
            const auto at = wall_clock_ms();
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_EQ(item.data, "curator-" + std::to_string(i)) << "by due time";
            EXPECT_GE(at, due[item.data]) << item.data << " taken before it was due";
        }
    });
    // zkr puts item i with a delay of 500 + 200 * (N - 1 - i) ms: Curator takes the last first,
    // none before its time.
    std::map<std::string, std::int64_t> zkr_due;
    std::vector<std::string> order;
    with_sessions_like<1>(config, [&](session& s) -> asio::awaitable<void> {
        auto q = curator_delay_queue(s, root);
        for (int i = 0; i < items; ++i) {
            const auto data = "zkr-" + std::to_string(i);
            const auto delay = std::chrono::milliseconds(500 + 200 * (items - 1 - i));
            zkr_due[data] = wall_clock_ms() + delay.count();
            auto [pec, node] = co_await q.async_put(data, put_options::with_delay(delay), tuple);
            EXPECT_FALSE(pec) << pec.message();
            order.insert(order.begin(), data);
        }
    });
    EXPECT_EQ(list_children(shared_hosts(), path).size(), static_cast<std::size_t>(items))
        << "nothing but items in a delay queue's path";
    const auto lines = curator_queue("delay-take", path, root + "/claims");
    ASSERT_EQ(lines.size(), order.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        // "took DATA EPOCH_MS"
        const auto space = lines[i].rfind(' ');
        const auto data = lines[i].substr(5, space - 5);
        EXPECT_EQ(data, order[i]) << "by due time";
        EXPECT_GE(std::stoll(lines[i].substr(space + 1)), zkr_due[data])
            << data << " handed over before it was due";
    }
    expect_no_items_left(path);
}

}  // namespace
}  // namespace zkr::test
