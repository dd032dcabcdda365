// The zkr tool driven as a user would drive it from a shell: every subcommand and exit status.
#include "test_support.hpp"

#include <zkr/leader_election.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>

namespace zkr::test {
namespace {

std::string critical_section(const std::string& record, const std::string& hold = "0.2") {
    return "echo enter cli $$ $ZKR_FENCING_TOKEN >> " + record + "; sleep " + hold +
           "; echo exit cli $$ >> " + record;
}

TEST(Cli, TwoLocksOnOnePathSerialise) {
    const auto dir = fresh_root() + "/lock";
    record_file record;
    auto a = zkr_in_background({"lock", dir, "--", "sh", "-c", critical_section(record.path)});
    auto b = zkr_in_background({"lock", dir, "--", "sh", "-c", critical_section(record.path)});
    EXPECT_EQ(a.wait(30s), 0);
    EXPECT_EQ(b.wait(30s), 0);
    EXPECT_EQ(check_record(record.path), 2u);
    const auto tokens = tokens_in(record.path);
    ASSERT_EQ(tokens.size(), 2u);
    EXPECT_LT(tokens[0], tokens[1]);
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
}

TEST(Cli, TryOnAHeldLockExits75AtOnceAndTimeoutExits75) {
    const auto dir = fresh_root() + "/lock";
    auto holder = zkr_in_background({"lock", dir, "--", "sh", "-c", "echo held; sleep 30"});
    std::string line;
    ASSERT_TRUE(holder.read_line(line, 30s) && line == "held") << line;
    // The holder keeps the lock for 30 s: a --try that waited for it would not end with 75.
    auto [try_status, try_output] = zkr_shell("$ZKR lock --try " + dir + " -- true");
    EXPECT_EQ(try_status, 75) << try_output;
    auto [timeout_status, timeout_output] =
        zkr_shell("$ZKR lock --progress --timeout 2 " + dir + " -- true");
    EXPECT_EQ(timeout_status, 75) << timeout_output;
    EXPECT_NE(timeout_output.find("waiting for lock"), std::string::npos)
        << timeout_output;  // progress
    EXPECT_NE(timeout_output.find("not acquired within 2s"), std::string::npos) << timeout_output;
    EXPECT_EQ(list_children(shared_hosts(), dir).size(), 1u);  // only the holder's node
    holder.kill(SIGTERM);
    EXPECT_EQ(holder.wait(10s), 128 + SIGTERM);
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
}

TEST(Cli, ExitStatusesAndSignalsPassThrough) {
    const auto dir = fresh_root() + "/lock";
    EXPECT_EQ(zkr_shell("$ZKR lock " + dir + " -- sh -c 'exit 7'").first, 7);
    EXPECT_EQ(zkr_shell("$ZKR lock " + dir + " -- sh -c 'kill -9 $$'").first, 137);
    EXPECT_EQ(zkr_shell("$ZKR lock " + dir + " -- /no/such/program").first, 127);
    auto [env_status, env_output] =
        zkr_shell("$ZKR lock " + dir + " -- sh -c 'echo $ZKR_LOCK_PATH $ZKR_FENCING_TOKEN'");
    EXPECT_EQ(env_status, 0);
    EXPECT_EQ(env_output.rfind(dir + "/_c_", 0), 0u) << env_output;
    // A TERM sent to zkr reaches the command, whose own exit status zkr then returns. The child
    // says "ready" once it runs a program of its own: a forked shell catches a TERM with the
    // trap it inherited until it has set up its own, and would outlive the signal (zkr would
    // then rightly hold on for it).
    auto p = zkr_in_background({"lock", dir, "--", "sh", "-c",
                                "trap 'exit 42' TERM; sh -c 'echo ready; exec sleep 30' & wait"});
    std::string line;
    ASSERT_TRUE(p.read_line(line, 30s) && line == "ready");
    p.kill(SIGTERM);
    EXPECT_EQ(p.wait(10s), 42);
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
}

TEST(Cli, UsageAndConnectionErrors) {
    EXPECT_EQ(zkr_shell("$ZKR").first, 64);
    EXPECT_EQ(zkr_shell("$ZKR lock /x").first, 64);  // no command
    EXPECT_EQ(zkr_shell("$ZKR lock relative -- true").first, 64);
    EXPECT_EQ(zkr_shell("$ZKR semaphore /x -- true").first, 64);  // no --max
    EXPECT_EQ(zkr_shell("$ZKR --frobnicate status /x").first, 64);
    EXPECT_EQ(zkr_shell("$ZKR --help").first, 0);
    auto [status, output] = zkr_shell("$ZKR --version");
    EXPECT_EQ(status, 0);
    EXPECT_EQ(output.rfind("zkr 0.", 0), 0u) << output;
    EXPECT_EQ(zkr_shell("$ZKR lock /x -- true", "127.0.0.1:1").first, 69);
}

TEST(Cli, DeletedLockNodeKillsTheCommandAndExits76) {
    const auto dir = fresh_root() + "/lock";
    record_file record;
    auto p = zkr_in_background(
        {"lock", "--grace", "1", dir, "--", "sh", "-c",
         "trap 'echo got-term >> " + record.path + "; exit 0' TERM; echo ready; sleep 30 & wait"});
    std::string line;
    ASSERT_TRUE(p.read_line(line, 30s) && line == "ready");
    const auto nodes = list_children(shared_hosts(), dir);
    ASSERT_EQ(nodes.size(), 1u);
    delete_node(shared_hosts(), dir + "/" + nodes[0]);
    EXPECT_EQ(p.wait(10s), 76);
    // Lost, the lock may already be another's: SIGKILL at once, no SIGTERM to linger on.
    std::ifstream in(record.path);
    EXPECT_FALSE(std::getline(in, line)) << line;
}

TEST(Cli, SessionLostToAPausedServerKillsTheCommandAndExits76) {
    zk_server server;
    record_file record;
    auto p = zkr_in_background(
        {"--session-timeout", "2000", "lock", "--grace", "1", "/lock", "--", "sh", "-c",
         "trap 'echo got-term >> " + record.path + "; exit 0' TERM; echo ready; sleep 60 & wait"},
        server.hosts());
    std::string line;
    ASSERT_TRUE(p.read_line(line, 30s) && line == "ready");
    server.pause();  // longer than the session timeout: the session is gone
    const int status = p.wait(15s);
    server.resume();
    EXPECT_EQ(status, 76);
    std::ifstream in(record.path);  // SIGKILL at once: no SIGTERM to linger on
    EXPECT_FALSE(std::getline(in, line)) << line;
}

TEST(Cli, ElectWithThreeProcessesRunsOneCommandAtATime) {
    const auto dir = fresh_root() + "/election";
    record_file record;
    std::vector<child_process> ps;
    for (const char* id : {"a", "b", "c"}) {
        ps.push_back(zkr_in_background(
            {"elect", "--id", id, dir, "--", "sh", "-c", critical_section(record.path)}));
    }
    for (auto& p : ps) {
        EXPECT_EQ(p.wait(30s), 0);
    }
    EXPECT_EQ(check_record(record.path), 3u);
}

TEST(Cli, SemaphoreAdmitsAtMostMax) {
    const auto dir = fresh_root() + "/sem";
    record_file record;
    std::vector<child_process> ps;
    for (int i = 0; i < 5; ++i) {
        ps.push_back(zkr_in_background(
            {"semaphore", "--max", "2", dir, "--", "sh", "-c", critical_section(record.path)}));
    }
    for (auto& p : ps) {
        EXPECT_EQ(p.wait(30s), 0);
    }
    EXPECT_EQ(check_record(record.path, 2), 5u);
}

TEST(Cli, ElectWithRequeueRunsTheCommandAgainOnceLeadingAgain) {
    const auto dir = fresh_root() + "/election";
    auto p = zkr_in_background(
        {"elect", "--requeue", "--id", "a", dir, "--", "sh", "-c", "echo ready; sleep 30"});
    std::string line;
    ASSERT_TRUE(p.read_line(line, 30s) && line == "ready");
    const auto first = list_children(shared_hosts(), dir);
    ASSERT_EQ(first.size(), 1u);
    // An operator deletes the leader's node: the command is stopped, as without --requeue, and
    // started again once this candidate leads again, on a new node.
    delete_node(shared_hosts(), dir + "/" + first[0]);
    ASSERT_TRUE(p.read_line(line, 30s)) << "the command did not start again";
    EXPECT_EQ(line, "ready");
    const auto second = list_children(shared_hosts(), dir);
    ASSERT_EQ(second.size(), 1u);
    EXPECT_NE(second[0], first[0]);
    p.kill(SIGTERM);
    EXPECT_EQ(p.wait(10s), 128 + SIGTERM);
    EXPECT_TRUE(wait_until([&] { return list_children(shared_hosts(), dir).empty(); }));
}

TEST(Cli, StatusJsonParsesAndLeaderPrintsTheLeader) {
    const auto dir = fresh_root() + "/election";
    auto leader = zkr_in_background(
        {"elect", "--id", "first", dir, "--", "sh", "-c", "echo ready; sleep 30"});
    std::string line;
    ASSERT_TRUE(leader.read_line(line, 30s) && line == "ready");
    auto follower = zkr_in_background({"elect", "--id", "second", dir, "--", "true"});
    ASSERT_TRUE(wait_until([&] { return list_children(shared_hosts(), dir).size() == 2; }));
    auto [status, json] =
        zkr_shell("$ZKR status --json " + dir +
                  " | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); "
                  "c=d[\"contenders\"]; print(len(c), c[0][\"holds\"], c[1][\"holds\"], "
                  "c[0][\"data\"], c[0][\"kind\"])'");
    EXPECT_EQ(status, 0) << json;
    EXPECT_EQ(json, "2 True False first latch\n");
    auto [lstatus, who] = zkr_shell("$ZKR leader " + dir);
    EXPECT_EQ(lstatus, 0);
    EXPECT_EQ(who, "first\n");
    auto [hstatus, human] = zkr_shell("$ZKR status " + dir);
    EXPECT_EQ(hstatus, 0);
    EXPECT_NE(human.find("holds"), std::string::npos) << human;
    leader.kill(SIGTERM);
    EXPECT_EQ(leader.wait(10s), 128 + SIGTERM);
    EXPECT_EQ(follower.wait(30s), 0);
}

TEST(Cli, LeaderWatchPrintsEachPublishedValue) {
    const auto dir = fresh_root() + "/election";
    // read_line blocks this thread: the session pings from zkr's own.
    with_sessions(
        {config_for_peer_tests(shared_hosts())},
        [&](session& s) -> boost::asio::awaitable<void> {
            leader_election e(s, dir, "first");
            auto term = co_await e.async_campaign(boost::asio::use_awaitable);
            auto watch = zkr_in_background({"leader", "--watch", dir});
            std::string line;
            CO_REQUIRE(watch.read_line(line, 30s));
            EXPECT_EQ(line, "first");
            for (const char* value : {"10.0.0.7:8080 epoch 1", "10.0.0.7:8080 epoch 2"}) {
                co_await term.async_publish(value, boost::asio::use_awaitable);
                CO_REQUIRE(watch.read_line(line, 30s));
                EXPECT_EQ(line, value);
            }
            co_await term.async_resign(boost::asio::use_awaitable);
            CO_REQUIRE(watch.read_line(line, 30s));
            EXPECT_EQ(line, "(none)");
            watch.kill(SIGTERM);
            EXPECT_EQ(watch.wait(10s), 0);
            co_await s.async_close(boost::asio::use_awaitable);
        },
        60s);
}

/// True once `pid` has ended (gone, or a zombie nobody reaped yet).
bool process_ended(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    if (!status) {
        return true;
    }
    std::string key;
    while (status >> key) {
        if (key == "State:") {
            std::string state;
            status >> state;
            return state == "Z" || state == "X";
        }
        status.ignore(4096, '\n');
    }
    return true;
}

TEST(Cli, TheCommandDoesNotOutliveAKilledZkr) {
    // SIGKILL (or any signal zkr cannot handle) must not leave the command running without the
    // lock: once the session times out the next holder would run beside it.
    for (const int signal : {SIGKILL, SIGUSR1}) {
        const auto dir = fresh_root() + "/lock";
        auto holder = zkr_in_background({"--session-timeout", "30000", "lock", dir, "--", "sh",
                                         "-c", "echo $$; exec sleep 300"});
        std::string line;
        ASSERT_TRUE(holder.read_line(line, 30s)) << "no pid from the command";
        const int command = std::atoi(line.c_str());
        ASSERT_GT(command, 0) << line;
        EXPECT_FALSE(process_ended(command));
        holder.kill(signal);
        EXPECT_EQ(holder.wait(10s), 128 + signal);
        EXPECT_TRUE(wait_until([&] { return process_ended(command); }, 5s))
            << "the command outlived zkr killed by signal " << signal;
    }
}

TEST(Cli, AFrozenHolderThawedAfterItsSessionExpiredHearsThatCause) {
    // Frozen past its session timeout, the holder's node goes with the expired session; thawed,
    // it must say the session expired, not that someone deleted its node.
    const auto dir = fresh_root() + "/lock";
    record_file started;
    auto [status, out] = zkr_shell(
        "{ $ZKR --session-timeout 1000 lock " + dir + " -- sh -c 'echo > " + started.path +
        "; exec sleep 30' & zkr=$!; "
        "for i in $(seq 100); do [ -s " +
        started.path +
        " ] && break; sleep 0.1; done; "
        "kill -STOP $zkr; sleep 3; kill -CONT $zkr; wait $zkr; echo status=$?; }");
    EXPECT_NE(out.find("status=76"), std::string::npos) << out;
    EXPECT_NE(out.find("expired"), std::string::npos) << out;  // the session's end, however told
    EXPECT_EQ(out.find("deleted by another client"), std::string::npos) << out;
}

/// A fresh path of `bytes` bytes.
std::string long_path(std::size_t bytes) {
    auto path = fresh_root() + "/";
    return path + std::string(bytes - path.size(), 'a');
}

TEST(Cli, HelpPrintsUsageAndExits0) {
    for (const auto* asked : {"lock --help", "lock -h", "help lock", "lock --try -h"}) {
        auto [status, out] = zkr_shell(std::string("$ZKR ") + asked);
        EXPECT_EQ(status, 0) << asked << "\n" << out;
        EXPECT_NE(out.find("zkr lock [--read|--write]"), std::string::npos) << asked << "\n" << out;
        EXPECT_EQ(out.find("zkr semaphore"), std::string::npos) << asked << "\n" << out;
    }
    for (const auto* asked : {"help", "--help", "-h"}) {
        auto [status, out] = zkr_shell(std::string("$ZKR ") + asked);
        EXPECT_EQ(status, 0) << asked << "\n" << out;
        EXPECT_NE(out.find("zkr semaphore"), std::string::npos) << asked << "\n" << out;
    }
    auto [status, out] = zkr_shell("$ZKR barrier --help");
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(out.find("zkr barrier set|remove|wait"), std::string::npos) << out;
    EXPECT_NE(out.find("zkr barrier enter"), std::string::npos) << out;
}

TEST(Cli, NumbersAndPathsOutOfRangeAreUsageErrors) {
    const auto dir = fresh_root() + "/lock";
    const std::pair<std::string, std::string> cases[] = {
        {"$ZKR semaphore --max 4294967297 " + dir + " -- true", "--max takes a whole number"},
        {"$ZKR lock --timeout 99999999999 " + dir + " -- true", "--timeout takes"},
        {"$ZKR lock --grace -1 " + dir + " -- true", "--grace takes"},
        {"$ZKR --session-timeout 50 status " + dir, "--session-timeout takes"},
        {"$ZKR --session-timeout 99999999999 status " + dir, "--session-timeout takes"},
        {"$ZKR lock " + dir + "//x -- true", "empty node name"},
        {"$ZKR lock relative -- true", "does not start with '/'"},
        {"$ZKR lock --max-hold -1 " + dir + " -- true", "--max-hold takes a whole number from 1 "},
        {"$ZKR lock --metrics 224.0.0.1:9464 " + dir + " -- true", "multicast"},
        {"$ZKR lock --metrics [ff02::1]:9464 " + dir + " -- true", "multicast"},
        {"$ZKR revoke --node ../x " + dir, "--node takes the name of a node in PATH"},
        {"$ZKR revoke --node a/b " + dir, "--node takes the name of a node in PATH"},
        {"$ZKR revoke --node .. " + dir, "--node takes the name of a node in PATH"},
        // The recipes keep their nodes in PATH: the root cannot be theirs.
        {"$ZKR lock / -- true", "not the root"},
        {"$ZKR semaphore --max 2 / -- true", "not the root"},
        {"$ZKR elect --id a / -- true", "not the root"},
        {"$ZKR barrier enter --members 2 / -- true", "not the root"},
        {"$ZKR barrier set /", "not the root"},
        {"$ZKR barrier wait /", "not the root"},
        // A PATH within ZooKeeper's length that the nodes beneath it would take beyond: a lock
        // node adds "/_c_<uuid>-lock-<10 digits>" (56 bytes), a lease "/leases/_c_<uuid>-lease-
        // <10 digits>" (64), a read lock's "-__READ__" 3 more than a lock's.
        {"$ZKR lock " + long_path(4041) + " -- true", "too long for lock"},
        {"$ZKR lock --read " + long_path(4038) + " -- true", "at most 4037"},
        {"$ZKR semaphore --max 2 " + long_path(4033) + " -- true", "at most 4032"},
        {"$ZKR elect --id a " + long_path(4040) + " -- true", "at most 4039"},
        {"$ZKR barrier enter --members 2 " + long_path(4060) + " -- true", "at most 4059"},
        {"$ZKR revoke --node abc " + long_path(4093), "at most 4092"},
        {"$ZKR revoke /", "not the root"},
        {"$ZKR help nosuchcommand", "unknown command nosuchcommand"},
    };
    for (const auto& [command, message] : cases) {
        auto [status, out] = zkr_shell(command);
        EXPECT_EQ(status, 64) << command << "\n" << out;
        EXPECT_NE(out.find(message), std::string::npos) << command << "\n" << out;
    }
    EXPECT_FALSE(node_exists(shared_hosts(), dir));  // nothing was created for them
    // The longest PATH a lock takes is taken.
    const auto longest = long_path(4040);
    auto [longest_status, longest_out] = zkr_shell("$ZKR lock --try " + longest + " -- true");
    EXPECT_EQ(longest_status, 0) << longest_out;
    // --timeout 0 is one look: a free lock is taken, a held one is reported busy at once.
    auto [free_status, free_out] = zkr_shell("$ZKR lock --timeout 0 " + dir + " -- echo ran");
    EXPECT_EQ(free_status, 0) << free_out;
    EXPECT_NE(free_out.find("ran"), std::string::npos) << free_out;
    auto holder = zkr_in_background({"lock", dir, "--", "sh", "-c", "echo held; sleep 30"});
    std::string line;
    ASSERT_TRUE(holder.read_line(line, 30s) && line == "held") << line;
    auto [busy_status, busy_out] = zkr_shell("$ZKR lock --timeout 0 " + dir + " -- echo ran");
    EXPECT_EQ(busy_status, 75) << busy_out;
    holder.kill(SIGTERM);
    EXPECT_EQ(holder.wait(10s), 128 + SIGTERM);
}

TEST(Cli, BarrierHoldsWaitersUntilRemoved) {
    const auto gate = fresh_root() + "/gate";
    EXPECT_EQ(zkr_shell("$ZKR barrier set " + gate).first, 0);
    EXPECT_EQ(zkr_shell("$ZKR barrier set " + gate).first, 0) << "set twice";
    EXPECT_EQ(zkr_shell("$ZKR barrier wait --timeout 1 " + gate).first, 75) << "still set";
    auto waiter = zkr_in_background({"barrier", "wait", gate});
    // Waiting: the server holds a watch on the barrier's node.
    ASSERT_TRUE(wait_until([&] { return server_watches_path(shared_hosts(), gate); }));
    EXPECT_EQ(zkr_shell("$ZKR barrier remove " + gate).first, 0);
    EXPECT_EQ(waiter.wait(20s), 0);
    EXPECT_EQ(zkr_shell("$ZKR barrier remove " + gate).first, 0) << "removed twice";
    EXPECT_EQ(zkr_shell("$ZKR barrier wait " + gate).first, 0) << "not set: through at once";
    EXPECT_FALSE(node_exists(shared_hosts(), gate));
    auto [bad_status, bad_out] = zkr_shell("$ZKR barrier open " + gate);
    EXPECT_EQ(bad_status, 64) << bad_out;
    EXPECT_NE(bad_out.find("set, remove, wait or enter"), std::string::npos) << bad_out;
}

TEST(Cli, BarrierWaitInterruptedExits128PlusTheSignal) {
    const auto gate = fresh_root() + "/gate";
    EXPECT_EQ(zkr_shell("$ZKR barrier set " + gate).first, 0);
    auto waiter = zkr_in_background({"barrier", "wait", gate});
    ASSERT_TRUE(wait_until([&] { return server_watches_path(shared_hosts(), gate); }));
    waiter.kill(SIGINT);
    EXPECT_EQ(waiter.wait(10s), 128 + SIGINT);
    EXPECT_EQ(zkr_shell("$ZKR barrier remove " + gate).first, 0);
}

TEST(Cli, BarrierEnterRunsTheCommandOnceAllMembersAreIn) {
    const auto dir = fresh_root() + "/round";
    record_file record;
    const auto command = "echo in $$ >> " + record.path;
    std::vector<child_process> early;
    for (int i = 0; i < 2; ++i) {
        early.push_back(zkr_in_background(
            {"barrier", "enter", "--members", "3", dir, "--", "sh", "-c", command}));
    }
    ASSERT_TRUE(wait_until([&] { return children_count(dir) == 2; }, 30s));
    EXPECT_EQ(zkr_shell("cat " + record.path).second, "") << "nobody runs before the third";
    auto [status, out] =
        zkr_shell("$ZKR barrier enter --members 3 " + dir + " -- sh -c '" + command + "'");
    EXPECT_EQ(status, 0) << out;
    for (auto& p : early) {
        EXPECT_EQ(p.wait(30s), 0);
    }
    auto [lines_status, lines] = zkr_shell("wc -l < " + record.path);
    EXPECT_EQ(lines, "3\n");
    EXPECT_EQ(children_count(dir), 0u);
    EXPECT_EQ(zkr_shell("$ZKR barrier enter --members 2 --timeout 1 " + dir + " -- true").first,
              75);
    EXPECT_EQ(children_count(dir), 0u) << "a timed-out member leaves nothing";
    EXPECT_EQ(zkr_shell("$ZKR barrier enter " + dir + " -- true").first, 64) << "--members needed";
}

TEST(Cli, MembersListsAndWatchesAGroup) {
    const auto dir = fresh_root();
    EXPECT_EQ(zkr_shell("$ZKR members " + dir), std::make_pair(0, std::string()));
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), dir, "");
    create_node(shared_hosts(), dir + "/beta", "2");
    create_node(shared_hosts(), dir + "/alpha", "1");
    EXPECT_EQ(zkr_shell("$ZKR members " + dir),
              std::make_pair(0, std::string("alpha\t1\nbeta\t2\n")));
    auto watching = zkr_in_background({"members", "--watch", dir});
    std::string line;
    ASSERT_TRUE(watching.read_line(line) && line == "alpha\t1") << line;
    ASSERT_TRUE(watching.read_line(line) && line == "beta\t2") << line;
    ASSERT_TRUE(watching.read_line(line) && line.empty()) << line;
    delete_node(shared_hosts(), dir + "/alpha");
    ASSERT_TRUE(watching.read_line(line) && line == "beta\t2") << line;
    ASSERT_TRUE(watching.read_line(line) && line.empty()) << line;
    watching.kill(SIGINT);
    EXPECT_EQ(watching.wait(10s), 0);
}

TEST(Cli, ProgressReportsCostOneListingPerWaiterNotTheWholeQueue) {
    zk_server* server = shared_server();
    if (server == nullptr) {
        GTEST_FAIL() << "needs the project's own server (unset ZKR_TEST_HOSTS)";
    }
    constexpr int waiters = 10;
    const auto dir = fresh_root() + "/lock";
    auto holder = zkr_in_background({"lock", dir, "--", "sh", "-c", "echo held; sleep 60"});
    std::string line;
    ASSERT_TRUE(holder.read_line(line, 30s) && line == "held") << line;
    std::vector<child_process> queue;
    for (int i = 0; i < waiters; ++i) {
        queue.push_back(zkr_in_background({"lock", "--progress", dir, "--", "true"}));
    }
    ASSERT_TRUE(wait_until([&] { return children_count(dir) == waiters + 1u; }, 30s));
    // Reports come every 5 s: a 5 s window holds one or two per waiter, each a listing (and the
    // holder's node on a waiter's first report), besides the sessions' pings. Reading every
    // contender instead would cost waiters * (waiters + 1) requests per report.
    const auto before = server->mntr_value("zk_packets_received");
    std::this_thread::sleep_for(5s);  // the measurement window, not a synchronisation
    const auto requests = server->mntr_value("zk_packets_received") - before - 1;
    EXPECT_LE(requests, 4 * waiters) << "requests in one report period";
    holder.kill(SIGTERM);
    EXPECT_EQ(holder.wait(10s), 128 + SIGTERM);
    for (auto& w : queue) {
        EXPECT_EQ(w.wait(30s), 0);
    }
}

TEST(Cli, RevokeAsksTheHolderWhichStopsAndExits77) {
    const auto dir = fresh_root() + "/lock";
    auto holder = zkr_in_background({"lock", "--grace", "1", dir, "--", "sh", "-c",
                                     "trap 'exit 0' TERM; echo ready; sleep 30 & wait"});
    std::string line;
    ASSERT_TRUE(holder.read_line(line, 30s) && line == "ready");
    auto [status, output] = zkr_shell("$ZKR revoke " + dir);
    EXPECT_EQ(status, 0) << output;
    EXPECT_EQ(output.rfind("requested " + dir + "/_c_", 0), 0u) << output;
    EXPECT_EQ(holder.wait(15s), 77);
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
    // Nobody holds it now.
    EXPECT_EQ(zkr_shell("$ZKR revoke " + dir).first, 75);
    EXPECT_EQ(zkr_shell("$ZKR revoke --node _c_0-lock-0000000099 " + dir).first, 75);
    EXPECT_EQ(zkr_shell("$ZKR revoke --node nosuchnode " + dir).first, 64);  // no lock node's name
}

TEST(Cli, ForcedRevocationEvictsAHolderThatIgnoresRequests) {
    const auto dir = fresh_root() + "/lock";
    auto holder = zkr_in_background({"lock", "--ignore-revocation", "--grace", "1", dir, "--", "sh",
                                     "-c", "trap 'exit 0' TERM; echo ready; sleep 30 & wait"});
    std::string line;
    ASSERT_TRUE(holder.read_line(line, 30s) && line == "ready");
    auto [status, output] = zkr_shell("$ZKR revoke --force --grace 1 " + dir);
    EXPECT_EQ(status, 0) << output;
    EXPECT_EQ(output.rfind("evicted " + dir + "/_c_", 0), 0u) << output;
    EXPECT_EQ(holder.wait(15s), 77);  // asked for, then evicted: revoked, as when it lets go
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
}

TEST(Cli, CheckTellsWhetherTheSequencersHolderStillHolds) {
    const auto dir = fresh_root() + "/lock";
    record_file record;
    // The command checks its own sequencer, then writes it out for the check after release.
    auto [status, output] = zkr_shell("$ZKR lock " + dir +
                                      " -- sh -c '$ZKR check \"$ZKR_SEQUENCER\" && echo "
                                      "\"$ZKR_SEQUENCER\" > " +
                                      record.path + "'");
    EXPECT_EQ(status, 0) << output;
    std::ifstream in(record.path);
    std::string sequencer;
    std::getline(in, sequencer);
    EXPECT_EQ(sequencer.rfind("zkr-seq-1:", 0), 0u) << sequencer;
    EXPECT_NE(sequencer.find(dir + "/_c_"), std::string::npos) << sequencer;
    EXPECT_EQ(zkr_shell("$ZKR check '" + sequencer + "'").first, 76);  // released since
    EXPECT_EQ(zkr_shell("$ZKR check not-a-sequencer").first, 64);
    EXPECT_EQ(zkr_shell("$ZKR check").first, 64);
}

TEST(Cli, MaxHoldStopsTheCommandAndLetsTheNextOneIn) {
    const auto dir = fresh_root() + "/lock";
    auto holder = zkr_in_background({"lock", "--max-hold", "1", "--grace", "1", dir, "--", "sh",
                                     "-c", "trap 'exit 0' TERM; echo ready; sleep 30 & wait"});
    std::string line;
    ASSERT_TRUE(holder.read_line(line, 30s) && line == "ready");
    EXPECT_EQ(zkr_shell("$ZKR lock --timeout 20 " + dir + " -- true").first, 0);
    EXPECT_EQ(holder.wait(15s), 76);
    EXPECT_EQ(zkr_shell("$ZKR lock --max-hold 0 " + dir + " -- true").first, 64);
}

/// `zkr ARGS` started with a command that prints "ready" and waits: its metrics port in `port`
/// (0 if it did not tell one), read from the address it prints on stderr.
child_process serving_metrics(const std::string& args, unsigned short& port) {
    child_process p({"env", "ZKR_HOSTS=" + shared_hosts(), "sh", "-c",
                     "exec \"$0\" " + args + " -- sh -c 'echo ready; sleep 30' 2>&1", ZKR_CLI},
                    true);
    std::string line;
    port = p.read_line(line, 30s) ? port_in(line) : 0;
    if (port != 0 && !(p.read_line(line, 30s) && line == "ready")) {
        ADD_FAILURE() << "the command did not start: " << line;
        port = 0;
    }
    return p;
}

/// Ends a background zkr with SIGTERM, which its command gets too and dies of: 128+SIGTERM.
void expect_ends_on_term(child_process& p) {
    p.kill(SIGTERM);
    EXPECT_EQ(p.wait(10s), 128 + SIGTERM);
}

/// A TCP connection to 127.0.0.1:PORT, closed on destruction: a client that may say nothing.
class raw_connection {
  public:
    explicit raw_connection(unsigned short port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
            ADD_FAILURE() << "cannot connect to port " << port;
        }
    }
    ~raw_connection() { ::close(fd_); }
    raw_connection(const raw_connection&) = delete;
    raw_connection& operator=(const raw_connection&) = delete;

    void send(std::string_view text) {
        EXPECT_EQ(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(text.size()));
    }

    /// What the server sends until it closes the connection; nullopt if it is still open at
    /// `deadline`.
    std::optional<std::string> read_to_close(std::chrono::steady_clock::time_point deadline) {
        std::string out;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd readable{fd_, POLLIN, 0};
            if (left <= 0ms || ::poll(&readable, 1, static_cast<int>(left.count())) != 1) {
                return std::nullopt;
            }
            char buf[4096];
            const auto n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) {
                return out;  // closed (or reset: an unread request, as a closing server may)
            }
            out.append(buf, static_cast<std::size_t>(n));
        }
    }

  private:
    int fd_;
};

/// The endpoint's whole answer to `request`, or "" if none came and closed within `limit`.
std::string ask(unsigned short port, std::string_view request,
                std::chrono::milliseconds limit = 3s) {
    raw_connection c(port);
    c.send(request);
    return c.read_to_close(std::chrono::steady_clock::now() + limit).value_or("");
}

/// Scrapes the endpoint on `port` and expects the page within 4 s: less than the 5 s an idle
/// connection is kept, so that no such connection was waited for (and room for a loaded
/// machine).
void expect_prompt_scrape(unsigned short port) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(ask(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                  .rfind("HTTP/1.1 200 OK\r\n", 0),
              0u);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

/// How many sockets process `pid` has open.
std::size_t sockets_of(int pid) {
    std::size_t n = 0;
    for (const auto& fd :
         std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        std::error_code ec;
        n += std::filesystem::read_symlink(fd.path(), ec).string().starts_with("socket:");
    }
    return n;
}

TEST(Cli, MetricsAreServedWhileTheCommandRuns) {
    const auto dir = fresh_root() + "/lock";
    unsigned short port = 0;
    auto holder = serving_metrics("lock --metrics 127.0.0.1:0 " + dir, port);
    ASSERT_NE(port, 0);
    const auto page = http_get(port);
    const auto series = "{recipe=\"mutex\",path=\"" + dir + "\"}";
    EXPECT_EQ(sample_in(page, "zkr_acquisitions_total" + series), 1) << page;
    EXPECT_EQ(sample_in(page, "zkr_held" + series), 1) << page;
    EXPECT_EQ(sample_in(page, "zkr_sessions{state=\"connected\"}"), 1) << page;
    EXPECT_GE(sample_in(page, "zkr_request_seconds_count{op=\"create\"}").value_or(0), 1) << page;
    EXPECT_EQ(http_get(port, "/elsewhere"), "");  // 404
    // Its port is taken: another command says so, and does not run.
    const auto [taken, said] = zkr_shell("$ZKR lock --metrics 127.0.0.1:" + std::to_string(port) +
                                         " " + dir + "-other -- echo ran");
    EXPECT_EQ(taken, 69) << said;
    EXPECT_NE(said.find("cannot serve metrics"), std::string::npos) << said;
    EXPECT_EQ(said.find("ran"), std::string::npos) << said;
    EXPECT_EQ(zkr_shell("$ZKR lock --metrics localhost " + dir + " -- true").first, 64);
    expect_ends_on_term(holder);
}

TEST(Cli, MetricsScrapesAreNotHeldUpByIdleOrUnfinishedConnections) {
    const auto dir = fresh_root() + "/lock";
    unsigned short port = 0;
    auto holder = serving_metrics("lock --metrics 127.0.0.1:0 " + dir, port);
    ASSERT_NE(port, 0);
    // Ten that say nothing, ten that never finish their request (slowloris).
    const auto opened = std::chrono::steady_clock::now();
    std::vector<std::unique_ptr<raw_connection>> slow;
    for (int i = 0; i < 20; ++i) {
        slow.push_back(std::make_unique<raw_connection>(port));
        if (i % 2 == 1) {
            slow.back()->send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
        }
    }
    expect_prompt_scrape(port);  // beside them
    // Each of them is closed once its own deadline passes, not one after another.
    for (auto& c : slow) {
        EXPECT_TRUE(c->read_to_close(opened + 5s + 3s));
    }
    // A flood of idle connections, more than it serves at once: the newest are served, and it
    // keeps at most 32 (docs/cli.md), besides its session's and the listener.
    slow.clear();
    for (int i = 0; i < 100; ++i) {
        slow.push_back(std::make_unique<raw_connection>(port));
    }
    expect_prompt_scrape(port);
    EXPECT_LE(sockets_of(holder.pid()), 32u + 4u);
    // A request that does not end within 16 KiB is no scrape: closed at once.
    raw_connection huge(port);
    huge.send(std::string(17 * 1024, 'x'));
    EXPECT_TRUE(huge.read_to_close(std::chrono::steady_clock::now() + 4s));  // before 5 s idle
    expect_ends_on_term(holder);
}

TEST(Cli, MetricsAnswerRequestsWhoseLinesEndInBareLineFeeds) {
    const auto dir = fresh_root() + "/lock";
    unsigned short port = 0;
    auto holder = serving_metrics("lock --metrics 127.0.0.1:0 " + dir, port);
    ASSERT_NE(port, 0);
    for (const char* request :
         {"GET /metrics HTTP/1.0\n\n", "GET /metrics HTTP/1.1\nHost: x\n\n"}) {
        const auto answer = ask(port, request);
        EXPECT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << request << answer;
        EXPECT_NE(answer.find("zkr_sessions{state=\"connected\"} 1"), std::string::npos) << answer;
    }
    expect_ends_on_term(holder);
}

TEST(Cli, BarrierEnterServesMetrics) {
    const auto dir = fresh_root() + "/round";
    unsigned short port = 0;
    auto member = serving_metrics("barrier enter --members 1 --metrics 127.0.0.1:0 " + dir, port);
    ASSERT_NE(port, 0);
    const auto page = http_get(port);
    EXPECT_EQ(sample_in(page, "zkr_sessions{state=\"connected\"}"), 1) << page;
    EXPECT_GE(sample_in(page, "zkr_request_seconds_count{op=\"create\"}").value_or(0), 1) << page;
    expect_ends_on_term(member);
}

// The command is its whole process tree: every promise about it holds for each descendant.

/// A command whose child (the command's grandchild, in the background) appends "alive" to
/// `record` every 50 ms; `stubborn`: the child ignores SIGTERM. The command prints "ready" once
/// the child has written its first heartbeat, then waits for it.
std::vector<std::string> heartbeat_command(const std::string& record, bool stubborn) {
    return {"sh", "-c",
            std::string("(") + (stubborn ? "trap '' TERM; " : "") + "while :; do echo alive >> " +
                record + "; sleep 0.05; done) & until [ -s " + record +
                " ]; do sleep 0.01; done; echo ready; wait"};
}

/// Takes the lock on `dir` after the current holder, records "next" in `record` when in, and
/// holds for 300 ms: six heartbeats of any process of the first holder's tree still running.
int next_holder(const std::string& dir, const std::string& record) {
    return zkr_shell("$ZKR lock --timeout 30 " + dir + " -- sh -c 'echo next >> " + record +
                     "; sleep 0.3'")
        .first;
}

/// Nothing of the first holder's tree wrote after the next holder entered.
void expect_no_overlap(const std::string& record) {
    std::ifstream in(record);
    std::string line;
    bool next_in = false;
    std::size_t alive_before = 0;
    while (std::getline(in, line)) {
        if (line == "next") {
            next_in = true;
        } else if (line == "alive") {
            EXPECT_FALSE(next_in) << "the first holder's grandchild ran beside the next holder";
            alive_before += next_in ? 0 : 1;
        }
    }
    EXPECT_TRUE(next_in);
    EXPECT_GT(alive_before, 0u) << "the grandchild never ran: the test proves nothing";
}

child_process tree_holder(std::vector<std::string> options, const std::string& dir,
                          const std::vector<std::string>& command) {
    options.push_back(dir);
    options.push_back("--");
    options.insert(options.end(), command.begin(), command.end());
    options.insert(options.begin(), "lock");
    auto holder = zkr_in_background(options);
    std::string line;
    EXPECT_TRUE(holder.read_line(line, 30s) && line == "ready") << line;
    return holder;
}

TEST(CliTree, ARevokedCommandsWholeTreeStopsBeforeTheLockPassesOn) {
    const auto dir = fresh_root() + "/lock";
    record_file record;
    auto holder = tree_holder({"--grace", "1"}, dir, heartbeat_command(record.path, true));
    EXPECT_EQ(zkr_shell("$ZKR revoke " + dir).first, 0);
    EXPECT_EQ(next_holder(dir, record.path), 0);
    EXPECT_EQ(holder.wait(15s), 77);
    expect_no_overlap(record.path);
}

TEST(CliTree, MaxHoldLetsTheLockGoOnlyOnceTheTreeHasStopped) {
    // A tree that ignores SIGTERM runs until SIGKILL at the grace: the lock waits for that.
    const auto dir = fresh_root() + "/lock";
    record_file record;
    auto holder =
        tree_holder({"--max-hold", "1", "--grace", "1"}, dir, heartbeat_command(record.path, true));
    EXPECT_EQ(next_holder(dir, record.path), 0);
    EXPECT_EQ(holder.wait(15s), 76);
    expect_no_overlap(record.path);
}

TEST(CliTree, SignalsToZkrReachEveryProcessOfTheTree) {
    const auto dir = fresh_root() + "/lock";
    record_file record;
    auto holder = tree_holder({}, dir, heartbeat_command(record.path, false));
    holder.kill(SIGTERM);
    EXPECT_EQ(next_holder(dir, record.path), 0);
    EXPECT_EQ(holder.wait(15s), 128 + SIGTERM);
    expect_no_overlap(record.path);
}

TEST(CliTree, ADaemonTheCommandLeavesBehindKeepsTheLock) {
    // The command starts a daemon (setsid, its own session) and exits: the lock is held while the
    // daemon runs, and a revocation stops the daemon before the next holder enters.
    const auto dir = fresh_root() + "/lock";
    record_file record;
    auto holder =
        zkr_in_background({"lock", "--grace", "1", dir, "--", "sh", "-c",
                           "setsid sh -c 'while :; do echo alive >> " + record.path +
                               "; sleep 0.05; done' > /dev/null 2>&1 < /dev/null & until [ -s " +
                               record.path + " ]; do sleep 0.01; done; echo $$"});
    std::string line;
    ASSERT_TRUE(holder.read_line(line, 30s)) << "no pid from the command";
    const int command = std::atoi(line.c_str());
    ASSERT_GT(command, 0) << line;
    ASSERT_TRUE(wait_until([&] { return process_ended(command); }, 10s));
    EXPECT_EQ(zkr_shell("$ZKR lock --try " + dir + " -- true").first, 75);
    EXPECT_EQ(zkr_shell("$ZKR revoke " + dir).first, 0);
    EXPECT_EQ(next_holder(dir, record.path), 0);
    EXPECT_EQ(holder.wait(15s), 77);
    expect_no_overlap(record.path);
}

TEST(CliTree, AKilledZkrTakesTheCommandsWholeGroupWithIt) {
    const auto dir = fresh_root() + "/lock";
    auto holder = zkr_in_background(
        {"--session-timeout", "30000", "lock", dir, "--", "sh", "-c", "sleep 300 & echo $!; wait"});
    std::string line;
    ASSERT_TRUE(holder.read_line(line, 30s)) << "no pid from the command";
    const int grandchild = std::atoi(line.c_str());
    ASSERT_GT(grandchild, 0) << line;
    holder.kill(SIGKILL);
    EXPECT_EQ(holder.wait(10s), 128 + SIGKILL);
    EXPECT_TRUE(wait_until([&] { return process_ended(grandchild); }, 5s))
        << "the command's child outlived zkr killed by SIGKILL";
}

TEST(CliTree, ALostLockKillsTheWholeTreeAtOnce) {
    // Lost (here: the node deleted by hand), the lock may already be another's: no grace period,
    // the tree is killed at once, a child that ignores SIGTERM included.
    const auto dir = fresh_root() + "/lock";
    auto holder = zkr_in_background({"lock", "--grace", "60", dir, "--", "sh", "-c",
                                     "(trap '' TERM; while :; do sleep 0.05; done) & echo $!; "
                                     "wait"});
    std::string line;
    ASSERT_TRUE(holder.read_line(line, 30s)) << "no pid from the command";
    const int grandchild = std::atoi(line.c_str());
    ASSERT_GT(grandchild, 0) << line;
    const auto nodes = list_children(shared_hosts(), dir);
    ASSERT_EQ(nodes.size(), 1u);
    delete_node(shared_hosts(), dir + "/" + nodes.front());
    EXPECT_TRUE(wait_until([&] { return process_ended(grandchild); }, 10s))
        << "a child of the command ran on after the lock was lost";
    EXPECT_EQ(holder.wait(10s), 76);
}

TEST(CliTree, RevokeAndCheckRefuseNodesThatAreNotLocks) {
    const auto root = fresh_root();
    create_node(shared_hosts(), root, "");
    create_node(shared_hosts(), root + "/config", "setting");
    for (const auto* force : {"", "--force --grace 0 "}) {
        const auto [status, said] =
            zkr_shell("$ZKR revoke " + std::string(force) + "--node config " + root);
        EXPECT_EQ(status, 64) << said;
        EXPECT_NE(said.find("not a lock node"), std::string::npos) << said;
    }
    EXPECT_TRUE(node_exists(shared_hosts(), root + "/config"));
    EXPECT_EQ(zkr_shell("$ZKR check zkr-seq-1:1:" + root + "/config").first, 76);
    // An election's leader is not revocable: its published id stays what `zkr leader` prints.
    auto leader = zkr_in_background(
        {"elect", "--id", "node-1", root + "/election", "--", "sh", "-c", "echo ready; sleep 30"});
    std::string line;
    ASSERT_TRUE(leader.read_line(line, 30s) && line == "ready") << line;
    const auto [status, said] = zkr_shell("$ZKR revoke " + root + "/election");
    EXPECT_EQ(status, 64) << said;
    EXPECT_NE(said.find("not revocable"), std::string::npos) << said;
    EXPECT_EQ(zkr_shell("$ZKR leader " + root + "/election").second, "node-1\n");
    leader.kill(SIGTERM);
    EXPECT_EQ(leader.wait(10s), 128 + SIGTERM);
    delete_node(shared_hosts(), root + "/config");
}

}  // namespace
}  // namespace zkr::test
