// zkr's counters and the Curator and kazoo counters that share their layouts, adding to one
// counter at once: Curator's SharedCount, kazoo's Counter(support_curator=True), `zkr counter add`
// processes and zkr::shared_count in this process on one 32-bit counter; Curator's
// DistributedAtomicLong, `zkr counter add --long` and zkr::atomic_long on one 64-bit counter. Every
// adder adds 1 a known number of times, all starting together (each waits for the end of its
// stdin), so their compare-and-sets contend; the counter ends at the exact sum, and the last
// addition of all is the one that left it there.
#include "test_support.hpp"

#include <zkr/atomic_long.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_count.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

/// How many times each adder adds 1.
constexpr int peer_adds = 150;
constexpr int cli_adds = 25;   // one `zkr` process each
constexpr int zkr_adds = 100;  // each of the two sessions in this process

/// How long the adders in other processes may take after this process's adders are done. The
/// CLI adder starts a process and a session per addition, one after the other: under the
/// sanitizers on a busy machine that is seconds apiece, and it is often last by a long way.
constexpr auto adders_finish_limit = 240s;

/// A shell that says "ready", waits for the end of its stdin, runs `zkr counter add [--long]
/// PATH 1` `times` times and prints "done LAST" (the value the last one printed), as the peer
/// drivers do; exit 1 at the first failure.
child_process cli_adder(const std::string& path, int times, bool wide) {
    const std::string add = std::string("\"$ZKR\" counter add ") + (wide ? "--long " : "");
    return child_process(
        {"env", "ZKR_HOSTS=" + shared_hosts(), "ZKR=" + std::string(ZKR_CLI), "sh", "-c",
         "echo ready; cat >/dev/null; for i in $(seq " + std::to_string(times) + "); do last=$(" +
             add + "\"$0\" 1) || exit 1; done; echo done $last",
         path},
        true, true);
}

std::int64_t value_after(const versioned_count& v) {
    return v.value;
}
std::int64_t value_after(const atomic_change& c) {
    return c.after;
}

/// Adds 1 `times` times through `counter`; the value the last addition left. Every value seen is
/// above the one before: other adders only add.
template <class Counter>
asio::awaitable<std::int64_t> add_ones(Counter counter, int times) {
    std::int64_t last = 0;
    for (int i = 0; i < times; ++i) {
        auto [ec, after] = co_await counter.async_add(1, tuple);
        if (ec) {
            ADD_FAILURE() << "addition " << i << " to " << counter.path() << ": " << ec.message();
            co_return last;
        }
        EXPECT_GT(value_after(after), last) << "addition " << i;
        last = value_after(after);
    }
    co_return last;
}

/// Starts `adders` together with two zkr counters (of type Counter, at `path`) in this process,
/// and waits for them all; the largest value any adder's last addition left.
template <class Counter>
std::int64_t add_together(std::vector<child_process>& adders, const std::string& path) {
    for (auto& adder : adders) {
        expect_ready(adder, adder.report());
    }
    for (auto& adder : adders) {
        adder.close_stdin();  // the start
    }
    std::int64_t last = 0;
    // The sessions ping from their own thread: the test's thread blocks reading drivers after.
    with_sessions_like<2>(
        config_for_peer_tests(shared_hosts()),
        [&](session& a, session& b) -> asio::awaitable<void> {
            auto [x, y] = co_await (add_ones(Counter(a, path), zkr_adds) &&
                                    add_ones(Counter(b, path), zkr_adds));
            last = std::max(x, y);
        },
        120s);
    for (auto& adder : adders) {
        std::string line;
        EXPECT_TRUE(adder.read_line(line, adders_finish_limit)) << adder.report();
        EXPECT_EQ(line.rfind("done ", 0), 0U) << line << "\n" << adder.report();
        if (line.rfind("done ", 0) == 0) {
            last = std::max<std::int64_t>(last, std::stoll(line.substr(5)));
        }
        EXPECT_TRUE(adder.exits_cleanly()) << adder.report();
    }
    return last;
}

/// `bytes` (big-endian) as a number.
std::int64_t big_endian(const std::string& bytes) {
    std::uint64_t v = 0;
    for (const char c : bytes) {
        v = (v << 8) | static_cast<unsigned char>(c);
    }
    return bytes.size() == 4 ? static_cast<std::int32_t>(v) : static_cast<std::int64_t>(v);
}

/// The data version of the node at `path` (-1 when there is none).
std::int64_t version_of(const std::string& path) {
    const auto node = read_node(path);
    return node ? node->stat.version : -1;
}

TEST(Interop, SharedCountKazooCounterAndZkrAddUpExactly) {
    const auto path = fresh_root() + "/count";
    // zkr creates the counter: kazoo's Counter would create an empty node, which no SharedCount
    // reads (see kazoo_counter.py).
    ASSERT_EQ(zkr_shell("$ZKR counter set " + path + " 0"), std::make_pair(0, std::string("0\n")));
    const auto version_at_start = version_of(path);
    std::vector<child_process> adders;
    adders.push_back(peer("curator-counter", {"shared-count", path, std::to_string(peer_adds)}));
    adders.push_back(peer("kazoo_counter.py", {path, std::to_string(peer_adds)}));
    adders.push_back(cli_adder(path, cli_adds, false));
    const auto last = add_together<shared_count>(adders, path);

    const std::int64_t sum = 2 * peer_adds + cli_adds + 2 * zkr_adds;
    EXPECT_EQ(last, sum);
    const auto node = read_node(path);
    ASSERT_TRUE(node);
    EXPECT_EQ(node->data.size(), 4U);  // still SharedCount's layout
    EXPECT_EQ(big_endian(node->data), sum);
    // Every addition is one write: none applied twice, none lost.
    EXPECT_EQ(node->stat.version, version_at_start + sum);
}

TEST(Interop, DistributedAtomicLongAndZkrAddUpExactly) {
    const auto path = fresh_root() + "/long";
    const std::int64_t start = std::int64_t{1} << 33;  // beyond 32 bits from the start
    ASSERT_EQ(zkr_shell("$ZKR counter set --long " + path + " " + std::to_string(start)).first, 0);
    const auto version_at_start = version_of(path);
    std::vector<child_process> adders;
    adders.push_back(peer("curator-counter", {"atomic-long", path, std::to_string(peer_adds)}));
    adders.push_back(peer("curator-counter", {"atomic-long", path, std::to_string(peer_adds)}));
    adders.push_back(cli_adder(path, cli_adds, true));
    const auto last = add_together<atomic_long>(adders, path);

    const std::int64_t sum = start + 2 * peer_adds + cli_adds + 2 * zkr_adds;
    EXPECT_EQ(last, sum);
    const auto node = read_node(path);
    ASSERT_TRUE(node);
    EXPECT_EQ(node->data.size(), 8U);  // DistributedAtomicLong's layout
    EXPECT_EQ(big_endian(node->data), sum);
    EXPECT_EQ(node->stat.version, version_at_start + (sum - start));  // one write per addition
}

}  // namespace
}  // namespace zkr::test
