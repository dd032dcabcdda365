// The curator_distributed layout's pure parts: Curator's ItemSerializer framing (encoded,
// decoded, and refused when broken, whatever the bytes) and the item names of Curator's
// DistributedQueue, DistributedPriorityQueue and DistributedDelayQueue.
#include "queue_framing.hpp"
#include "queue_item_names.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>

namespace zkr::test {
namespace {

using detail::frame_items;
using detail::unframe_items;

/// The bytes Curator's ItemSerializer writes for the item "ab": version 0x00010001, ITEM, length
/// 2, the bytes, EOF.
const std::string framed_ab(
    "\x00\x01\x00\x01\x01\x00\x00\x00\x02"
    "ab\x02",
    12);

TEST(QueueFraming, OneItemIsFramedAsCuratorFramesIt) {
    EXPECT_EQ(frame_items({"ab"}), framed_ab);
    EXPECT_EQ(unframe_items(framed_ab), std::vector<std::string>{"ab"});
}

TEST(QueueFraming, EmptyItemsBinaryItemsAndBatchesComeBackAsPut) {
    const std::vector<std::vector<std::string>> cases = {
        {},
        {""},
        {std::string("\0\x01\x02\xff", 4)},
        {"first", "", "third"},
        {std::string(100000, 'x')},
    };
    for (const auto& items : cases) {
        EXPECT_EQ(unframe_items(frame_items(items)), items) << items.size();
    }
}

TEST(QueueFraming, EveryTruncationIsRefused) {
    const auto bytes = frame_items({"first", "second"});
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        EXPECT_EQ(unframe_items(std::string_view(bytes).substr(0, n)), std::nullopt) << n;
    }
    EXPECT_TRUE(unframe_items(bytes));
}

TEST(QueueFraming, AnotherVersionAnUnknownOpcodeOrANegativeLengthIsRefused) {
    auto version = framed_ab;
    version[3] = 0x02;
    EXPECT_EQ(unframe_items(version), std::nullopt);
    auto opcode = framed_ab;
    opcode[4] = 0x03;
    EXPECT_EQ(unframe_items(opcode), std::nullopt);
    auto negative = framed_ab;
    negative[5] = '\x80';
    EXPECT_EQ(unframe_items(negative), std::nullopt);
    auto too_long = framed_ab;
    too_long[8] = 0x7f;  // 127 bytes announced, 2 there
    EXPECT_EQ(unframe_items(too_long), std::nullopt);
    EXPECT_EQ(unframe_items("plain bytes, as a SimpleDistributedQueue holds them"), std::nullopt);
    EXPECT_EQ(unframe_items(framed_ab + "trailing"), std::vector<std::string>{"ab"})
        << "what follows EOF is ignored, as Curator ignores it";
}

TEST(QueueFraming, RandomBytesAndFlippedBytesNeverCrashTheDecoder) {
    std::mt19937 random(42);
    std::uniform_int_distribution<int> byte(0, 255);
    const auto valid = frame_items({"alpha", "beta", ""});
    int refused = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string bytes;
        if (round % 2 == 0) {
            bytes.resize(static_cast<std::size_t>(byte(random) % 40));
            for (auto& c : bytes) {
                c = static_cast<char>(byte(random));
            }
        } else {
            bytes = valid;
            bytes[static_cast<std::size_t>(byte(random)) % bytes.size()] =
                static_cast<char>(byte(random));
        }
        const auto items = unframe_items(bytes);
        if (!items) {
            ++refused;
            continue;
        }
        // What decodes frames again into a prefix of the bytes (the rest followed EOF).
        const auto again = frame_items(*items);
        EXPECT_EQ(bytes.substr(0, again.size()), again);
    }
    EXPECT_GT(refused, 10000);
}

TEST(QueueItemNames, PrioritiesAreNamedAsCuratorNamesThem) {
    using detail::distributed_item_prefix;
    EXPECT_EQ(distributed_item_prefix(std::nullopt, std::nullopt), "queue-");
    EXPECT_EQ(distributed_item_prefix(0, std::nullopt), "queue-100000000");
    EXPECT_EQ(distributed_item_prefix(10, std::nullopt), "queue-10000000A");
    EXPECT_EQ(distributed_item_prefix(-1, std::nullopt), "queue-0FFFFFFFF");
    EXPECT_EQ(distributed_item_prefix(std::numeric_limits<std::int32_t>::min(), std::nullopt),
              "queue-080000000");
    EXPECT_EQ(distributed_item_prefix(std::numeric_limits<std::int32_t>::max(), std::nullopt),
              "queue-17FFFFFFF");
}

TEST(QueueItemNames, NameOrderIsPriorityOrderAndParsingGivesThePriorityBack) {
    const std::int64_t priorities[] = {
        std::numeric_limits<std::int32_t>::min(), -100, -2, -1, 0, 1, 2, 255,
        std::numeric_limits<std::int32_t>::max()};
    std::vector<std::string> names;
    for (const auto p : priorities) {
        names.push_back(detail::distributed_item_prefix(p, std::nullopt) + "0000000007");
        const auto order = detail::parse_distributed_item(names.back());
        ASSERT_TRUE(order) << names.back();
        EXPECT_EQ(order->priority, p);
        EXPECT_EQ(order->sequence, 7);
        EXPECT_EQ(order->due_ms, 0);
    }
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(QueueItemNames, DelaysAreNamedAsCuratorNamesThem) {
    using detail::distributed_item_prefix;
    EXPECT_EQ(distributed_item_prefix(std::nullopt, 1), "queue-|00000001|");
    EXPECT_EQ(distributed_item_prefix(std::nullopt, 1765000000000), "queue-|19AF232B200|");
    const auto order = detail::parse_distributed_item("queue-|19AF232B200|0000000012");
    ASSERT_TRUE(order);
    EXPECT_EQ(order->due_ms, 1765000000000);
    EXPECT_EQ(order->sequence, 12);
    // Due time first, then priority, then sequence.
    EXPECT_LT(*detail::parse_distributed_item("queue-|00000001|0000000009"),
              *detail::parse_distributed_item("queue-|00000002|0000000001"));
    EXPECT_LT(*detail::parse_distributed_item("queue-0000000003"),
              *detail::parse_distributed_item("queue-0000000004"));
}

TEST(QueueItemNames, NamesOfNoKnownFormAreNoItems) {
    for (const char* name : {"queue-", "queue-12", "qn-0000000001", "queue-x0000000001",
                             "queue-200000000"
                             "0000000001",
                             "queue-1FFFFFFFF0000000001",
                             "queue-000000001"
                             "0000000001",
                             "queue-||0000000001", "queue-|-1|0000000001", "queue-|zz|0000000001",
                             "queue-00000000a1", "zkr-claims", "queue-|1|"}) {
        EXPECT_EQ(detail::parse_distributed_item(name), std::nullopt) << name;
    }
}

/// A priority and a delay on one item: refused.
put_options priority_and_delay() {
    auto o = put_options::with_priority(1);
    o.delay = std::chrono::milliseconds(5);
    return o;
}

TEST(QueueItemNames, BadPutOptionsAreNamedErrors) {
    using detail::check_put_options;
    constexpr auto distributed = queue_layout::curator_distributed;
    EXPECT_FALSE(check_put_options(queue_layout::curator_simple, {}));
    EXPECT_FALSE(check_put_options(distributed, put_options::with_priority(-5)));
    EXPECT_FALSE(
        check_put_options(distributed, put_options::with_delay(std::chrono::milliseconds(0))));
    EXPECT_FALSE(check_put_options(distributed, put_options::with_delay(put_options::max_delay)));
    EXPECT_EQ(check_put_options(distributed, put_options::with_priority(std::int64_t{1} << 31)),
              errc::priority_out_of_range);
    EXPECT_EQ(
        check_put_options(distributed, put_options::with_priority(-(std::int64_t{1} << 31) - 1)),
        errc::priority_out_of_range);
    EXPECT_EQ(
        check_put_options(distributed, put_options::with_delay(std::chrono::milliseconds(-1))),
        errc::delay_out_of_range);
    EXPECT_EQ(check_put_options(distributed, put_options::with_delay(put_options::max_delay +
                                                                     std::chrono::milliseconds(1))),
              errc::delay_out_of_range);
    EXPECT_EQ(check_put_options(queue_layout::curator_simple, put_options::with_priority(1)),
              errc::unsupported_put_option);
    EXPECT_EQ(check_put_options(distributed, priority_and_delay()), errc::unsupported_put_option);
}

}  // namespace
}  // namespace zkr::test
