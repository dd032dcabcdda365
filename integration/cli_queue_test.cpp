// zkr queue (put, take, take --claim, peek, size), driven from a shell: items in Curator's
// SimpleDistributedQueue layout, FIFO, bytes kept as they are; a claimed item completed when the
// command's tree exits 0 and given back otherwise, or when zkr dies; many shell consumers
// completing each item once; bad input refused before anything is written.
#include "test_support.hpp"

#include <zkr/names.hpp>

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace zkr::test {
namespace {

/// `zkr queue ARGS` on the shared server: its status and its output (stdout and stderr).
std::pair<int, std::string> queue_cli(const std::string& args) {
    return zkr_shell("$ZKR queue " + args);
}

/// The queue's items (the `qn-` children of `path`), in order.
std::vector<std::string> items_of(const std::string& path) {
    std::vector<std::string> items;
    for (auto& child : list_children(shared_hosts(), path)) {
        if (child.starts_with(names::queue_item_prefix)) {
            items.push_back(std::move(child));
        }
    }
    std::sort(items.begin(), items.end());
    return items;
}

/// The children of `path` (none when it does not exist).
std::size_t count_under(const std::string& path) {
    return node_exists(shared_hosts(), path) ? list_children(shared_hosts(), path).size() : 0;
}

std::string claims_of(const std::string& path) {
    return path + "/" + std::string(names::queue_claims);
}

std::string waiters_of(const std::string& path) {
    return path + "/" + std::string(names::queue_waiters);
}

std::string file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

TEST(CliQueue, PutTakePeekAndSizeKeepOrderInCuratorsLayout) {
    const auto path = fresh_root() + "/jobs";
    auto [status, out] = queue_cli("put " + path + " first second third");
    ASSERT_EQ(status, 0) << out;
    const auto items = items_of(path);
    ASSERT_EQ(items.size(), 3u);
    // The node names printed, in order, one a line: Curator's qn-<sequence>.
    EXPECT_EQ(out, items[0] + "\n" + items[1] + "\n" + items[2] + "\n");
    EXPECT_EQ(read_node(path + "/" + items[0])->data, "first");
    EXPECT_EQ(queue_cli("size " + path), std::make_pair(0, std::string("3\n")));
    EXPECT_EQ(queue_cli("peek " + path), std::make_pair(0, std::string("first")));
    EXPECT_EQ(queue_cli("take " + path), std::make_pair(0, std::string("first")));
    EXPECT_EQ(queue_cli("take " + path), std::make_pair(0, std::string("second")));
    EXPECT_EQ(queue_cli("size " + path), std::make_pair(0, std::string("1\n")));
    EXPECT_EQ(items_of(path), std::vector<std::string>{items[2]});
}

TEST(CliQueue, AnItemFromStdinKeepsItsBytes) {
    const auto path = fresh_root() + "/blobs";
    const auto dir = fresh_temp_dir();
    // NUL bytes, newlines, no newline at the end: the item is stdin's bytes as they are.
    auto [status, out] = zkr_shell("printf 'a\\000b\\nc' | $ZKR queue put " + path +
                                   " && $ZKR queue take " + path + " > " + dir + "/taken");
    ASSERT_EQ(status, 0) << out;
    EXPECT_EQ(file_text(dir + "/taken"), std::string("a\0b\nc", 5));
    EXPECT_TRUE(items_of(path).empty());
}

TEST(CliQueue, TakeWaitsForAnItemOrItsTimeoutAndLeavesNoWaiter) {
    const auto path = fresh_root() + "/jobs";
    auto [status, out] = queue_cli("take --timeout 1 " + path);
    EXPECT_EQ(status, 75) << out;
    EXPECT_TRUE(contains(out, "within 1s")) << out;
    EXPECT_EQ(count_under(waiters_of(path)), 0u);

    auto taker = zkr_in_background({"queue", "take", path});
    ASSERT_TRUE(wait_until([&] { return count_under(waiters_of(path)) == 1; })) << taker.report();
    ASSERT_EQ(queue_cli("put " + path + " late").first, 0);
    EXPECT_TRUE(taker.exits_cleanly()) << taker.report();
    EXPECT_EQ(count_under(waiters_of(path)), 0u);
    EXPECT_TRUE(items_of(path).empty());
}

TEST(CliQueue, AClaimedItemIsCompletedWhenTheCommandExitsZero) {
    const auto path = fresh_root() + "/jobs";
    const auto dir = fresh_temp_dir();
    ASSERT_EQ(queue_cli("put " + path + " job-1").first, 0);
    const auto item = items_of(path).at(0);
    auto [status, out] = queue_cli(
        "take --claim " + path + " -- sh -c 'test \"$ZKR_ITEM\" = job-1 && cat > " + dir +
        "/stdin && echo \"$ZKR_ITEM_NODE $ZKR_CLAIM_PATH $ZKR_FENCING_TOKEN\" > " + dir + "/env'");
    ASSERT_EQ(status, 0) << out;
    EXPECT_EQ(file_text(dir + "/stdin"), "job-1");
    const auto env = file_text(dir + "/env");
    EXPECT_TRUE(env.starts_with(item + " " + claims_of(path) + "/" + item + " ")) << env;
    // Completed: the item and its claim are gone.
    EXPECT_TRUE(items_of(path).empty());
    EXPECT_EQ(count_under(claims_of(path)), 0u);
}

TEST(CliQueue, AClaimedItemGoesBackWhenTheCommandFails) {
    const auto path = fresh_root() + "/jobs";
    ASSERT_EQ(queue_cli("put " + path + " job-1 job-2").first, 0);
    auto [status, out] = queue_cli("take --claim " + path + " -- sh -c 'exit 3'");
    EXPECT_EQ(status, 3) << out;  // the command's own status
    EXPECT_TRUE(contains(out, "went back")) << out;
    EXPECT_EQ(items_of(path).size(), 2u);
    EXPECT_EQ(count_under(claims_of(path)), 0u);
    // Back at the head, in its place.
    EXPECT_EQ(queue_cli("peek " + path), std::make_pair(0, std::string("job-1")));
}

TEST(CliQueue, AKilledConsumersItemGoesBackWithItsSession) {
    const auto path = fresh_root() + "/jobs";
    ASSERT_EQ(queue_cli("put " + path + " job-1").first, 0);
    // A short session: once zkr is killed, its claim goes with the session, and another
    // consumer gets the item.
    auto consumer = zkr_in_background(
        {"--session-timeout", "2000", "queue", "take", "--claim", path, "--", "sleep", "600"});
    ASSERT_TRUE(wait_until([&] { return count_under(claims_of(path)) == 1; })) << consumer.report();
    // While claimed, nobody else gets it.
    EXPECT_EQ(queue_cli("peek " + path).first, 75);
    EXPECT_EQ(queue_cli("take --timeout 1 " + path).first, 75);
    consumer.kill(SIGKILL);
    EXPECT_EQ(consumer.wait(), 128 + SIGKILL);
    auto [status, out] =
        queue_cli("take --timeout 20 --claim " + path + " -- sh -c 'echo $ZKR_ITEM'");
    EXPECT_EQ(status, 0) << out;
    EXPECT_TRUE(contains(out, "job-1")) << out;
    EXPECT_TRUE(items_of(path).empty());
}

TEST(CliQueue, ShellConsumersCompleteEachItemOnce) {
    const auto path = fresh_root() + "/jobs";
    const auto dir = fresh_temp_dir();
    std::string put = "put " + path;
    for (int i = 1; i <= 24; ++i) {
        put += " item-" + std::to_string(i);
    }
    ASSERT_EQ(queue_cli(put).first, 0);
    // Four consumers, each claiming until the queue stays empty for a second (exit 75); every
    // third item fails once (exit 1: it goes back and is claimed again).
    auto [status, out] =
        zkr_shell("consume() { while :; do $ZKR queue take --quiet --timeout 1 --claim " + path +
                  " -- sh -c 'if [ ! -e " + dir +
                  "/failed-$ZKR_ITEM ] && [ $(( ${ZKR_ITEM#item-} % 3 )) "
                  "-eq 0 ]; then touch " +
                  dir + "/failed-$ZKR_ITEM; exit 1; fi; echo $ZKR_ITEM >> " + dir +
                  "/done'; s=$?; [ $s -eq 75 ] && return 0; [ $s -gt 1 ] && return $s; done; }; "
                  "consume & a=$!; consume & b=$!; consume & c=$!; consume & d=$!; "
                  "wait $a && wait $b && wait $c && wait $d");
    ASSERT_EQ(status, 0) << out;
    std::istringstream done(file_text(dir + "/done"));
    std::multiset<std::string> completed;
    for (std::string line; std::getline(done, line);) {
        completed.insert(line);
    }
    EXPECT_EQ(completed.size(), 24u);
    for (int i = 1; i <= 24; ++i) {
        EXPECT_EQ(completed.count("item-" + std::to_string(i)), 1u) << i;
    }
    EXPECT_TRUE(items_of(path).empty());
    EXPECT_EQ(count_under(claims_of(path)), 0u);
}

TEST(CliQueue, BadInputIsRefusedAndWritesNothing) {
    const auto path = fresh_root() + "/jobs";
    // An item over the packet limit: nothing written.
    auto [status, out] = zkr_shell("head -c 2000000 /dev/zero | $ZKR queue put " + path);
    EXPECT_EQ(status, 64) << out;
    EXPECT_TRUE(items_of(path).empty());
    // Over the limit together, in one transaction (each item alone is not): none written.
    std::tie(status, out) =
        zkr_shell("x=$(head -c 120000 /dev/zero | tr '\\0' x); $ZKR queue put " + path +
                  " $x $x $x $x $x $x $x $x $x");
    EXPECT_EQ(status, 64) << out;
    EXPECT_TRUE(items_of(path).empty());
    EXPECT_EQ(queue_cli("put not-a-path x").first, 64);
    std::tie(status, out) = queue_cli("take " + path + " -- true");
    EXPECT_EQ(status, 64);
    EXPECT_TRUE(contains(out, "only with --claim")) << out;
    std::tie(status, out) = queue_cli("take --claim " + path);
    EXPECT_EQ(status, 64);
    EXPECT_TRUE(contains(out, "needs a command after --")) << out;
    EXPECT_EQ(queue_cli("size --claims bad " + path).first, 64);
    EXPECT_FALSE(node_exists(shared_hosts(), path));
}

}  // namespace
}  // namespace zkr::test
