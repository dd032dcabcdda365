// zkr watch (a node or a directory's children, followed until interrupted) and zkr node keep (a
// node kept while a command runs), driven as a user would drive them from a shell.
#include "test_support.hpp"

#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

void set_data(const std::string& path, const std::string& data,
              const std::string& hosts = shared_hosts()) {
    with_sessions({config_for(hosts)}, [&](session& s) -> asio::awaitable<void> {
        auto [ec, st] = co_await s.async_set_data(path, data, -1, tuple);
        EXPECT_FALSE(ec) << "set " << path << ": " << ec.message();
        co_await s.async_close(asio::use_awaitable);
    });
}

/// Whether `line` starts with `prefix` and ends with `suffix`.
::testing::AssertionResult line_is(const std::string& line, const std::string& prefix,
                                   const std::string& suffix = "") {
    if (line.rfind(prefix, 0) == 0 && line.size() >= prefix.size() + suffix.size() &&
        line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "'" << line << "' is not '" << prefix << "...'" << suffix << "'";
}

/// A command for CMD that prints $ZKR_NODE_PATH, then runs until `flag` exists, then exits
/// with `status`.
std::vector<std::string> until_flag(const std::string& flag, int status) {
    return {"sh", "-c",
            "echo \"$ZKR_NODE_PATH\"; while [ ! -e '" + flag + "' ]; do sleep 0.05; done; exit " +
                std::to_string(status)};
}

struct temp_dir {
    std::string path = fresh_temp_dir();
    ~temp_dir() { std::filesystem::remove_all(path); }
};

void touch(const std::string& file) {
    std::ofstream(file) << "go\n";
}

TEST(CliWatch, WatchPrintsTheSnapshotThenALinePerChange) {
    const auto dir = fresh_root();
    const auto node = dir + "/config";
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), dir, "");
    create_node(shared_hosts(), node, "v1");
    auto watch = zkr_in_background({"watch", node});
    std::string line;
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "initialized " + node + " version=0 mzxid=0x", " data=v1"));
    set_data(node, "v2 with\ttab");
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "updated " + node + " version=1 ", " data=v2 with\\x09tab"));
    delete_node(shared_hosts(), node);
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "removed " + node + " version=1 "));  // the last state held
    create_node(shared_hosts(), node, "v3");
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "added " + node + " version=0 ", " data=v3"));
    // Interrupting is how a watch ends, as leader --watch and members --watch: status 0.
    watch.kill(SIGTERM);
    EXPECT_EQ(watch.wait(10s), 0) << watch.report();
}

TEST(CliWatch, WatchOfAMissingNodeSaysSoAndSeesItCreated) {
    const auto node = fresh_root();
    create_node(shared_hosts(), "/t", "");
    auto watch = zkr_in_background({"watch", node});
    EXPECT_TRUE(watch.expect_line("initialized " + node));
    create_node(shared_hosts(), node, "here");
    std::string line;
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "added " + node + " version=0 ", " data=here"));
    watch.kill(SIGINT);
    EXPECT_EQ(watch.wait(10s), 0) << watch.report();
}

TEST(CliWatch, JsonLinesParseAndBinaryDataStaysValidJson) {
    const auto node = fresh_root();
    create_node(shared_hosts(), "/t", "");
    const std::string text = "caf\xc3\xa9 \"quoted\" back\\slash\nnewline";
    const std::string binary("\xff\x00\xe9\x80ok\x7f", 7);
    create_node(shared_hosts(), node, text);
    auto watch = zkr_in_background({"watch", "--json", node});
    std::string lines;
    std::string line;
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    lines += line + "\n";
    set_data(node, binary);
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    lines += line + "\n";
    delete_node(shared_hosts(), node);
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    lines += line + "\n";
    watch.kill(SIGTERM);
    EXPECT_EQ(watch.wait(10s), 0) << watch.report();

    record_file file;
    std::ofstream(file.path) << lines;
    // Every line one JSON object; the data's bytes come back from its string and encoding.
    auto [status, out] = zkr_shell(
        "/usr/bin/python3 -c 'import json,sys\n"
        "for l in open(sys.argv[1], \"rb\"):\n"
        "    l.decode(\"utf-8\")\n"
        "    d = json.loads(l)\n"
        "    print(d[\"type\"], d[\"path\"] == sys.argv[2], d[\"version\"], d[\"encoding\"],\n"
        "          d[\"data\"].encode(d[\"encoding\"]).hex(), d[\"mzxid\"] >= d[\"czxid\"] > 0,\n"
        "          d[\"ephemeral_owner\"])' " +
        file.path + " " + node);
    EXPECT_EQ(status, 0) << out << lines;
    auto hex = [](const std::string& s) {
        std::string h;
        for (unsigned char c : s) {
            char buf[3];
            std::snprintf(buf, sizeof buf, "%02x", c);
            h += buf;
        }
        return h;
    };
    EXPECT_EQ(out, "initialized True 0 utf-8 " + hex(text) + " True None\n" +
                       "updated True 1 latin1 " + hex(binary) + " True None\n" +
                       "removed True 1 latin1 " + hex(binary) + " True None\n")
        << lines;
}

TEST(CliWatch, ChildrenPrintsEachChildAddedAndRemoved) {
    const auto dir = fresh_root();
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), dir, "");
    create_node(shared_hosts(), dir + "/beta", "2");
    create_node(shared_hosts(), dir + "/alpha", "1");
    auto watch = zkr_in_background({"watch", "--children", dir});
    std::string line;
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "added " + dir + "/alpha version=0 ", " data=1"));
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "added " + dir + "/beta version=0 ", " data=2"));
    EXPECT_TRUE(watch.expect_line("initialized " + dir));
    create_node(shared_hosts(), dir + "/gamma", "3");
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "added " + dir + "/gamma version=0 ", " data=3"));
    delete_node(shared_hosts(), dir + "/alpha");
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "removed " + dir + "/alpha ", " data=1"));
    set_data(dir + "/beta", "two");
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "updated " + dir + "/beta version=1 ", " data=two"));
    watch.kill(SIGINT);
    EXPECT_EQ(watch.wait(10s), 0) << watch.report();
}

TEST(CliWatch, ChildrenJsonParses) {
    const auto dir = fresh_root();
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), dir, "");
    create_node(shared_hosts(), dir + "/a", "1");
    auto watch = zkr_in_background({"watch", "--children", "--json", dir});
    std::string first;
    std::string second;
    ASSERT_TRUE(watch.read_line(first, 30s)) << watch.report();
    ASSERT_TRUE(watch.read_line(second, 30s)) << watch.report();
    watch.kill(SIGTERM);
    EXPECT_EQ(watch.wait(10s), 0) << watch.report();
    record_file file;
    std::ofstream(file.path) << first << "\n" << second << "\n";
    auto [pstatus, parsed] = zkr_shell(
        "/usr/bin/python3 -c 'import json,sys\n"
        "for l in open(sys.argv[1]):\n"
        "    d = json.loads(l); print(d[\"type\"], d[\"path\"], d.get(\"data\"))' " +
        file.path);
    EXPECT_EQ(pstatus, 0) << parsed;
    EXPECT_EQ(parsed, "added " + dir + "/a 1\ninitialized " + dir + " None\n");
}

TEST(CliWatch, TreePrintsTheSubtreeDownToItsDepth) {
    const auto root = fresh_root();
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), root, "r");
    create_node(shared_hosts(), root + "/a", "1");
    create_node(shared_hosts(), root + "/a/x", "2");
    create_node(shared_hosts(), root + "/a/x/deep", "3");  // below --depth 2: not followed
    auto watch = zkr_in_background({"watch", "--tree", "--depth", "2", root});
    std::string line;
    for (const auto& [path, data] : std::vector<std::pair<std::string, std::string>>{
             {root, "r"}, {root + "/a", "1"}, {root + "/a/x", "2"}}) {
        ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
        EXPECT_TRUE(line_is(line, "added " + path + " version=0 ", " data=" + data));
    }
    EXPECT_TRUE(watch.expect_line("initialized " + root));
    set_data(root + "/a/x/deep", "changed");  // below the depth: no line
    create_node(shared_hosts(), root + "/b", "4");
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "added " + root + "/b version=0 ", " data=4"));
    set_data(root + "/a/x", "two");
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "updated " + root + "/a/x version=1 ", " data=two"));
    watch.kill(SIGTERM);
    EXPECT_EQ(watch.wait(10s), 0) << watch.report();
}

TEST(CliWatch, UsageErrors) {
    EXPECT_EQ(zkr_shell("$ZKR watch").first, 64);               // no PATH
    EXPECT_EQ(zkr_shell("$ZKR watch relative").first, 64);      // not a path
    EXPECT_EQ(zkr_shell("$ZKR watch /trailing/").first, 64);    // not a valid path
    EXPECT_EQ(zkr_shell("$ZKR watch --depth 2 /x").first, 64);  // --depth without --tree
    EXPECT_EQ(zkr_shell("$ZKR watch --tree --depth -1 /x").first, 64);
    EXPECT_EQ(zkr_shell("$ZKR watch --tree --children /x").first, 64);
    EXPECT_EQ(zkr_shell("$ZKR watch /x -- true").first, 64);      // runs no command
    EXPECT_EQ(zkr_shell("$ZKR node").first, 64);                  // no action
    EXPECT_EQ(zkr_shell("$ZKR node frob /x -- true").first, 64);  // unknown action
    EXPECT_EQ(zkr_shell("$ZKR node keep /x").first, 64);          // no command
    EXPECT_EQ(zkr_shell("$ZKR node keep / -- true").first, 64);   // the root
    EXPECT_EQ(zkr_shell("$ZKR node keep --ttl 0 /x -- true").first, 64);
    EXPECT_EQ(zkr_shell("$ZKR node keep --ttl 5 --persistent /x -- true").first, 64);
    auto [status, out] = zkr_shell("$ZKR node keep --ephemeral --persistent /x -- true");
    EXPECT_EQ(status, 64);
    EXPECT_NE(out.find("exclude each other"), std::string::npos) << out;
    EXPECT_EQ(zkr_shell("$ZKR node keep --ephemeral --ephemeral /x -- true").first, 64);
}

TEST(CliWatch, NodeKeepKeepsTheNodeWhileTheCommandRuns) {
    const auto node = fresh_root();
    create_node(shared_hosts(), "/t", "");
    temp_dir tmp;
    const auto flag = tmp.path + "/go";
    std::vector<std::string> args{"node", "keep", "--data", "10.0.0.7:8080", node, "--"};
    for (auto& w : until_flag(flag, 7)) {
        args.push_back(w);
    }
    auto keeper = zkr_in_background(args);
    // CMD starts once the node exists, and gets its path.
    EXPECT_TRUE(keeper.expect_line(node));
    auto kept = read_node(node);
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->data, "10.0.0.7:8080");
    EXPECT_NE(kept->stat.ephemeral_owner, 0);  // ephemeral by default
    // Deleted by another client: created again while the command runs.
    delete_node(shared_hosts(), node);
    ASSERT_TRUE(wait_until(
        [&] {
            auto again = read_node(node);
            return again && again->stat.czxid != kept->stat.czxid;
        },
        10s, 50ms));
    EXPECT_EQ(read_node(node)->data, "10.0.0.7:8080");
    touch(flag);
    EXPECT_EQ(keeper.wait(30s), 7) << keeper.report();  // the command's status
    EXPECT_FALSE(node_exists(shared_hosts(), node));
}

TEST(CliWatch, NodeKeepGivesTheCommandItsNodeAndNoInheritedLock) {
    const auto root = fresh_root();
    create_node(shared_hosts(), "/t", "");
    // Under a lock, the node's command sees the node's path, not the lock's.
    auto [status, out] = zkr_shell("$ZKR lock " + root + "-lock -- $ZKR node keep " + root +
                                   " -- sh -c 'echo \"[$ZKR_LOCK_PATH][$ZKR_FENCING_TOKEN]" +
                                   "[$ZKR_NODE_PATH]\"; exit 3'");
    EXPECT_EQ(status, 3) << out;
    EXPECT_EQ(out, "[][][" + root + "]\n");
}

TEST(CliWatch, NodeKeepPersistentIsAPersistentNodeDeletedAfterTheCommand) {
    const auto node = fresh_root();
    create_node(shared_hosts(), "/t", "");
    temp_dir tmp;
    const auto flag = tmp.path + "/go";
    std::vector<std::string> args{"node", "keep", "--persistent", node, "--"};
    for (auto& w : until_flag(flag, 0)) {
        args.push_back(w);
    }
    auto keeper = zkr_in_background(args);
    EXPECT_TRUE(keeper.expect_line(node));
    auto kept = read_node(node);
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->data, "");
    EXPECT_EQ(kept->stat.ephemeral_owner, 0);
    touch(flag);
    EXPECT_EQ(keeper.wait(30s), 0) << keeper.report();
    EXPECT_FALSE(node_exists(shared_hosts(), node));
    // Interrupted, the command's status (it dies of the TERM zkr forwards); the node goes too.
    auto interrupted = zkr_in_background(
        {"node", "keep", "--persistent", node, "--", "sh", "-c", "echo ready; exec sleep 30"});
    EXPECT_TRUE(interrupted.expect_line("ready"));
    EXPECT_TRUE(node_exists(shared_hosts(), node));
    interrupted.kill(SIGTERM);
    EXPECT_EQ(interrupted.wait(10s), 128 + SIGTERM) << interrupted.report();
    EXPECT_FALSE(node_exists(shared_hosts(), node));
}

TEST(CliWatch, NodeKeepWithATtlOnAServerWithoutTtlsExits69) {
    const auto node = fresh_root();
    create_node(shared_hosts(), "/t", "");
    auto [status, out] = zkr_shell("$ZKR node keep --ttl 60 " + node + " -- echo ran");
    EXPECT_EQ(status, 69) << out;
    EXPECT_EQ(out.find("ran"), std::string::npos) << out;  // the command never started
    EXPECT_NE(out.find("TTL"), std::string::npos) << out;
    EXPECT_FALSE(node_exists(shared_hosts(), node));
}

TEST(CliWatch, NodeKeepWithATtlOnAServerThatAllowsThem) {
    zk_server server(1, "-Dzookeeper.extendedTypesEnabled=true");
    auto [status, out] = zkr_shell(
        "$ZKR node keep --ttl 60 --data x /svc -- sh -c 'echo \"$ZKR_NODE_PATH\"'", server.hosts());
    EXPECT_EQ(status, 0) << out;
    EXPECT_EQ(out, "/svc\n");
    EXPECT_FALSE(node_exists(server.hosts(), "/svc"));  // deleted once the command ended
}

TEST(CliWatch, NodeKeepWaitsForAPathHeldByAnotherSession) {
    const auto node = fresh_root();
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), node, "theirs");
    // --timeout 0: one look; --timeout S: 75 once S passed. Their node is left alone.
    auto [try_status, try_out] = zkr_shell("$ZKR node keep --timeout 0 " + node + " -- echo ran");
    EXPECT_EQ(try_status, 75) << try_out;
    EXPECT_EQ(try_out.find("ran"), std::string::npos) << try_out;
    EXPECT_NE(try_out.find("another session's node"), std::string::npos) << try_out;
    auto [timeout_status, timeout_out] =
        zkr_shell("$ZKR node keep --timeout 1 " + node + " -- echo ran");
    EXPECT_EQ(timeout_status, 75) << timeout_out;
    EXPECT_EQ(timeout_out.find("ran"), std::string::npos) << timeout_out;
    EXPECT_EQ(read_node(node)->data, "theirs");
    // Without --timeout it waits, and runs the command once the path is free and its node made.
    auto keeper = zkr_in_background(
        {"node", "keep", "--data", "ours", node, "--", "sh", "-c", "echo ready; exec sleep 30"});
    ASSERT_TRUE(wait_until([&] {
        return keeper.stderr_text().find("waiting for it to go") != std::string::npos;
    })) << keeper.report();
    delete_node(shared_hosts(), node);
    EXPECT_TRUE(keeper.expect_line("ready"));
    EXPECT_EQ(read_node(node)->data, "ours");
    keeper.kill(SIGTERM);
    EXPECT_EQ(keeper.wait(10s), 128 + SIGTERM) << keeper.report();
    EXPECT_FALSE(node_exists(shared_hosts(), node));
    // Interrupted while waiting: 128+N, and their node is left alone.
    create_node(shared_hosts(), node, "theirs");
    auto waiter = zkr_in_background({"node", "keep", node, "--", "echo", "ran"});
    ASSERT_TRUE(wait_until([&] {
        return waiter.stderr_text().find("waiting for it to go") != std::string::npos;
    })) << waiter.report();
    waiter.kill(SIGINT);
    EXPECT_EQ(waiter.wait(10s), 128 + SIGINT) << waiter.report();
    EXPECT_EQ(read_node(node)->data, "theirs");
}

TEST(CliWatch, NodeKeepAndWatchCarryOnAcrossASessionExpiry) {
    // A server of its own, stopped for longer than the session timeout: every session on it
    // expires, the CLI's included (no other way reaches a session inside another process).
    zk_server server;
    const auto& hosts = server.hosts();
    const std::string node = "/registered";
    const std::vector<std::string> timeout{"--session-timeout", "2000"};
    temp_dir tmp;
    const auto flag = tmp.path + "/go";
    std::vector<std::string> args = timeout;
    for (const auto& a : {"node", "keep", "--data", "10.0.0.7:8080", node.c_str(), "--"}) {
        args.push_back(a);
    }
    for (auto& w : until_flag(flag, 0)) {
        args.push_back(w);
    }
    auto keeper = zkr_in_background(args, hosts);
    EXPECT_TRUE(keeper.expect_line(node));
    const auto before = read_node(node, hosts);
    ASSERT_TRUE(before);
    args = timeout;
    args.insert(args.end(), {"watch", node});
    auto watch = zkr_in_background(args, hosts);
    std::string line;
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "initialized " + node, " data=10.0.0.7:8080"));

    server.pause();
    std::this_thread::sleep_for(5s);  // the fault's length, past the 2 s session timeout
    server.resume();

    // The keeper's session renews and the node is created again, by the new session; the
    // command runs on, untouched.
    const auto after = recreated_by_another_session(node, before->stat.ephemeral_owner, hosts);
    ASSERT_TRUE(after) << keeper.report();
    EXPECT_EQ(after->data, "10.0.0.7:8080");
    // The watch's session renews too: it reads the node again and says so (resynced); the
    // node it reports last is the new one, whichever came first: the resync (which may still
    // have read the old node, before the server expired its session) or the new node's events.
    std::ostringstream new_node;
    new_node << " mzxid=0x" << std::hex << after->stat.mzxid << " ";
    bool resynced = false;
    bool current = false;  // the last node reported is the one created again
    while (!(resynced && current)) {
        ASSERT_TRUE(watch.read_line(line, 30s)) << "no resync after the expiry; " << watch.report();
        if (line.rfind("removed " + node, 0) == 0) {
            current = false;
        } else if (line.rfind("added " + node, 0) == 0) {
            EXPECT_TRUE(line_is(line, "added " + node, " data=10.0.0.7:8080"));
            current = contains(line, new_node.str());
        } else if (line.rfind("resynced " + node, 0) == 0) {
            resynced = true;
            current = contains(line, new_node.str());
        }
    }
    // The renewed watch follows the next change.
    set_data(node, "10.0.0.7:9090", hosts);
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(line_is(line, "updated " + node, " data=10.0.0.7:9090"));
    watch.kill(SIGTERM);
    EXPECT_EQ(watch.wait(10s), 0) << watch.report();
    touch(flag);
    EXPECT_EQ(keeper.wait(30s), 0) << keeper.report();
    EXPECT_FALSE(node_exists(hosts, node));
}

}  // namespace
}  // namespace zkr::test
