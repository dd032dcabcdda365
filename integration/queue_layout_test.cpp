// zkr::queue in the curator_distributed layout against a real server: Curator's framing on the
// server, priorities (lower first, FIFO within one), delays (an item is not handed over before
// it is due, and a waiting consumer wakes when it falls due), claims of such items, and the bad
// input refused with nothing written (docs/queues.md, "Priorities and delays").
#include "test_support.hpp"

#include <zkr/queue.hpp>
#include <zkr/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

queue distributed_queue(session& s, const std::string& path) {
    queue_options options;
    options.layout = queue_layout::curator_distributed;
    return queue(s, path, options);
}

TEST(Queue, PriorityItemsComeOutLowestFirstAndInOrderWithinAPriority) {
    const auto path = fresh_root() + "/q";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        auto q = distributed_queue(s, path);
        const std::pair<std::int64_t, const char*> puts[] = {
            {5, "five-a"}, {-3, "minus-three"}, {0, "zero-a"},         {5, "five-b"},
            {0, "zero-b"}, {2147483647, "max"}, {-2147483648LL, "min"}};
        for (const auto& [priority, data] : puts) {
            auto [ec, node] =
                co_await q.async_put(data, put_options::with_priority(priority), tuple);
            CO_REQUIRE(!ec);
            EXPECT_TRUE(node.starts_with("queue-")) << node;
        }
        auto [fec, plain] = co_await q.async_put("fifo", tuple);
        CO_REQUIRE(!fec);
        EXPECT_EQ(plain.size(), 16u) << plain << ": queue-<sequence>";
        const auto framed = read_node(path + "/" + plain);
        CO_REQUIRE(framed.has_value());
        EXPECT_EQ(framed->data, std::string("\x00\x01\x00\x01\x01\x00\x00\x00\x04"
                                            "fifo\x02",
                                            14))
            << "Curator's ItemSerializer framing";

        auto [kec, head] = co_await q.async_peek(tuple);
        CO_REQUIRE(!kec && head.has_value());
        EXPECT_EQ(head->data, "min");
        // A FIFO item has priority 0, after the zeros put before it.
        const std::vector<std::string> expected{"min",  "minus-three", "zero-a", "zero-b",
                                                "fifo", "five-a",      "five-b", "max"};
        for (const auto& want : expected) {
            auto [ec, item] = co_await q.async_take(tuple);
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_EQ(item.data, want);
        }
        auto [sec, size] = co_await q.async_size(tuple);
        EXPECT_EQ(size, 0u);
        EXPECT_TRUE(co_await settled(s));
    });
}

TEST(Queue, ADelayedItemIsNotTakenBeforeItsTimeAndIsTakenAfterIt) {
    const auto path = fresh_root() + "/q";
    with_sessions<2>([&](session& consumer, session& producer) -> asio::awaitable<void> {
        auto producers = distributed_queue(producer, path);
        auto consumers = distributed_queue(consumer, path);
        // A consumer waits in line on an empty queue, then an item due in 300 ms arrives: it
        // wakes on the new child, finds it not due, and waits for its timer.
        std::optional<queue_item> got;
        std::chrono::steady_clock::time_point got_at;
        asio::co_spawn(
            co_await asio::this_coro::executor,
            [&]() -> asio::awaitable<void> {
                auto [ec, item] = co_await consumers.async_take(tuple);
                EXPECT_FALSE(ec) << ec.message();
                got_at = std::chrono::steady_clock::now();
                got = item;
            },
            asio::detached);
        CO_REQUIRE(co_await eventually([&] { return children_count(path + "/zkr-waiters") == 1; }));
        const auto put_at = std::chrono::steady_clock::now();
        auto [pec, node] =
            co_await producers.async_put("later", put_options::with_delay(300ms), tuple);
        CO_REQUIRE(!pec);
        EXPECT_TRUE(node.starts_with("queue-|")) << node;
        // Not before its time: another consumer's take with a deadline before it is due ends
        // by its deadline.
        auto others = distributed_queue(producer, path);
        asio::steady_timer early(co_await asio::this_coro::executor, 150ms);
        auto first = co_await (others.async_take(tuple) || early.async_wait(tuple));
        EXPECT_EQ(first.index(), 1u) << "taken before it was due";
        EXPECT_FALSE(got.has_value()) << "taken before it was due";
        CO_REQUIRE(co_await eventually([&] { return got.has_value(); }, 5s));
        EXPECT_EQ(got->data, "later");
        EXPECT_GE(got_at - put_at, 300ms) << "handed over before it was due";
        EXPECT_LT(got_at - put_at, 3s) << "the waiter's timer did not wake it";
        CO_REQUIRE(co_await eventually([&] { return children_count(path + "/zkr-waiters") == 0; }));

        // Items come out by due time, not by put order; an item due now is due at once.
        auto [aec, a] =
            co_await producers.async_put("second", put_options::with_delay(200ms), tuple);
        auto [bec, b] = co_await producers.async_put("first", put_options::with_delay(0ms), tuple);
        CO_REQUIRE(!aec && !bec);
        auto [t1, one] = co_await consumers.async_take(tuple);
        auto [t2, two] = co_await consumers.async_take(tuple);
        EXPECT_FALSE(t1 || t2);
        EXPECT_EQ(one.data, "first");
        EXPECT_EQ(two.data, "second");
        EXPECT_TRUE(co_await settled(consumer));
    });
}

TEST(Queue, PriorityAndDelayedItemsAreClaimedAndCompleted) {
    const auto root = fresh_root();
    const auto path = root + "/q";
    create_node(shared_hosts(), root, {});
    with_sessions([&](session& s) -> asio::awaitable<void> {
        auto q = distributed_queue(s, path);
        auto [lec, low] = co_await q.async_put("low", put_options::with_priority(9), tuple);
        auto [hec, high] = co_await q.async_put("high", put_options::with_priority(1), tuple);
        CO_REQUIRE(!lec && !hec);
        auto [cec, claim] = co_await q.async_claim(tuple);
        CO_REQUIRE(!cec);
        EXPECT_EQ(claim.item().data, "high");
        EXPECT_EQ(claim.path(), path + "/zkr-claims/" + high);
        std::vector<op> result{op::create(root + "/result-" + claim.item().data, {})};
        auto [xec, results] = co_await claim.async_complete(std::move(result), tuple);
        EXPECT_FALSE(xec) << xec.message();
        EXPECT_FALSE(node_exists(shared_hosts(), path + "/" + high));
        EXPECT_TRUE(node_exists(shared_hosts(), root + "/result-high"));

        auto [dec, delayed] =
            co_await q.async_put("delayed", put_options::with_delay(200ms), tuple);
        CO_REQUIRE(!dec);
        auto [c2, next] = co_await q.async_claim(tuple);
        CO_REQUIRE(!c2);
        EXPECT_EQ(next.item().data, "low") << "the delayed item is not due yet";
        auto [r2] = co_await next.async_release(tuple);
        EXPECT_FALSE(r2);
        auto [c3, third] = co_await q.async_claim(tuple);  // "low" is back, the head again
        CO_REQUIRE(!c3);
        EXPECT_EQ(third.item().data, "low");
        auto [x3, ignored3] = co_await third.async_complete({}, tuple);
        EXPECT_FALSE(x3);
        const auto before = std::chrono::steady_clock::now();
        auto [c4, fourth] = co_await q.async_claim(tuple);  // waits for the delayed one
        CO_REQUIRE(!c4);
        EXPECT_EQ(fourth.item().data, "delayed");
        EXPECT_LT(std::chrono::steady_clock::now() - before, 3s);
        auto [x4, ignored4] = co_await fourth.async_complete({}, tuple);
        EXPECT_FALSE(x4) << x4.message();
        EXPECT_FALSE(node_exists(shared_hosts(), path + "/" + delayed));
        EXPECT_TRUE(co_await settled(s));
    });
}

/// Items at the head of a queue (priority -2^31) that zkr cannot hand over.
const std::string bad_framing = "queue-0800000000000000007";
const std::string two_items = "queue-0800000000000000008";

TEST(Queue, BadPriorityOrDelayIsRefusedAndNothingWritten) {
    const auto path = fresh_root() + "/q";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        auto q = distributed_queue(s, path);
        queue simple(s, path);
        auto [e1, n1] = co_await q.async_put("x", put_options::with_priority(1LL << 31), tuple);
        EXPECT_EQ(e1, errc::priority_out_of_range);
        auto [e2, n2] = co_await q.async_put("x", put_options::with_delay(-1ms), tuple);
        EXPECT_EQ(e2, errc::delay_out_of_range);
        auto [e3, n3] =
            co_await q.async_put("x", put_options::with_delay(put_options::max_delay + 1ms), tuple);
        EXPECT_EQ(e3, errc::delay_out_of_range);
        auto [e4, n4] = co_await simple.async_put("x", put_options::with_priority(1), tuple);
        EXPECT_EQ(e4, errc::unsupported_put_option);
        std::vector<std::string> two{"a", "b"};
        auto [e5, n5] =
            co_await simple.async_put_many(std::move(two), put_options::with_delay(1ms), tuple);
        EXPECT_EQ(e5, errc::unsupported_put_option);
        EXPECT_FALSE(node_exists(shared_hosts(), path)) << "nothing written, not even the path";

        // A node of no framing, and one of two items (Curator's putMulti), both at the head (the
        // lowest priority): skipped, left alone.
        auto [gec, good] = co_await q.async_put("good", tuple);
        CO_REQUIRE(!gec);
        create_node(shared_hosts(), path + "/" + bad_framing, "garbage");
        create_node(shared_hosts(), path + "/" + two_items,
                    std::string("\x00\x01\x00\x01\x01\x00\x00\x00\x01"
                                "a\x01\x00\x00\x00\x01"
                                "b\x02",
                                17));
        auto [tec, taken] = co_await q.async_take(tuple);
        EXPECT_FALSE(tec);
        EXPECT_EQ(taken.data, "good");
        EXPECT_TRUE(node_exists(shared_hosts(), path + "/" + bad_framing));
        EXPECT_TRUE(node_exists(shared_hosts(), path + "/" + two_items));
        auto [kec, head] = co_await q.async_peek(tuple);
        EXPECT_FALSE(kec);
        EXPECT_FALSE(head.has_value());
        delete_node(shared_hosts(), path + "/" + bad_framing);
        delete_node(shared_hosts(), path + "/" + two_items);
    });
}

}  // namespace
}  // namespace zkr::test
