// zkr service (register, list, watch, disable, enable), driven as a user would drive it from a
// shell: an instance registered while a command runs and gone once it exits, what list and
// watch show of it, the enabled flag flipped from outside, bad input refused before anything
// is written, and a registration that comes back after its session expired.
#include "test_support.hpp"

#include <zkr/session.hpp>

#include <signal.h>

#include <filesystem>
#include <optional>
#include <thread>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

/// A command for CMD that prints $ZKR_NODE_PATH, then runs until it gets SIGTERM (zkr forwards
/// it), then exits with status 3.
const std::vector<std::string> serve_until_term = {
    "sh", "-c", "trap 'exit 3' TERM; echo \"$ZKR_NODE_PATH\"; while :; do sleep 0.05; done"};

/// `zkr service register` of instance `id` of "echo" (address 127.0.0.1, port 8080) under
/// `base`, with `extra` options, running serve_until_term.
std::vector<std::string> register_echo(const std::string& base, const std::string& id,
                                       std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"service", "register",  "echo",      "--base", base,  "--id",
                                  id,        "--address", "127.0.0.1", "--port", "8080"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.emplace_back("--");
    args.insert(args.end(), serve_until_term.begin(), serve_until_term.end());
    return args;
}

/// Ends a registering zkr as an interrupt does: CMD gets the signal and exits with 3, which is
/// zkr's status.
void stop(child_process& registered) {
    registered.kill(SIGTERM);
    EXPECT_EQ(registered.wait(30s), 3) << registered.report();
}

/// Reads `zkr service list --json` output with Python: the fields of each instance, one line
/// each, as Curator's reader sees them.
std::pair<int, std::string> listed_fields(const std::string& base, const std::string& name) {
    return zkr_shell(
        "$ZKR service list --json --base " + base + " " + name +
        " | /usr/bin/python3 -c 'import json,sys\n"
        "for l in sys.stdin:\n"
        "    d = json.loads(l)\n"
        "    print(d[\"name\"], d[\"id\"], d[\"address\"], d[\"port\"], d[\"sslPort\"],\n"
        "          json.dumps(d[\"payload\"], sort_keys=True), d[\"enabled\"],\n"
        "          d[\"serviceType\"], d[\"registrationTimeUTC\"] > 0)'");
}

bool starts_with(const std::string& line, const std::string& prefix) {
    return line.rfind(prefix, 0) == 0;
}

TEST(CliService, RegisterListsTheInstanceWhileTheCommandRunsAndNotAfter) {
    const auto base = fresh_root() + "/services";
    auto registered = zkr_in_background(
        register_echo(base, "i1", {"--ssl-port", "8443", "--payload", R"({"zone": "a"})"}));
    // CMD starts once the instance is registered, and gets its node's path.
    EXPECT_TRUE(registered.expect_line(base + "/echo/i1"));
    const auto node = read_node(base + "/echo/i1", shared_hosts());
    ASSERT_TRUE(node);
    EXPECT_NE(node->stat.ephemeral_owner, 0);  // dynamic: gone with the session

    auto [names_status, names] = zkr_shell("$ZKR service list --base " + base);
    EXPECT_EQ(names_status, 0) << names;
    EXPECT_EQ(names, "echo\n");
    auto [table_status, table] = zkr_shell("$ZKR service list --base " + base + " echo");
    EXPECT_EQ(table_status, 0) << table;
    EXPECT_TRUE(starts_with(table, "ID  ADDRESS    PORT  SSL_PORT  ENABLED  REGISTERED")) << table;
    EXPECT_NE(table.find("\ni1  127.0.0.1  8080  8443      true     20"), std::string::npos)
        << table;
    EXPECT_NE(table.find(R"("zone")"), std::string::npos) << table;  // the payload, as JSON
    // --json: one object per instance, in Curator's format.
    auto [json_status, fields] = listed_fields(base, "echo");
    EXPECT_EQ(json_status, 0) << fields;
    EXPECT_EQ(fields, "echo i1 127.0.0.1 8080 8443 {\"zone\": \"a\"} True DYNAMIC True\n");

    // CMD exits (here on the interrupt zkr forwards): the instance is unregistered.
    stop(registered);
    EXPECT_FALSE(node_exists(shared_hosts(), base + "/echo/i1"));
    auto [after_status, after] = zkr_shell("$ZKR service list --json --base " + base + " echo");
    EXPECT_EQ(after_status, 0) << after;
    EXPECT_EQ(after, "");
}

TEST(CliService, RegisterWithoutAnIdChoosesOneAndExitsWithTheCommandsStatus) {
    const auto base = fresh_root() + "/services";
    auto [status, out] = zkr_shell("$ZKR service register --base " + base +
                                   " echo --address h.example --port 1 -- sh -c " +
                                   "'echo \"[$ZKR_NODE_PATH]\"; exit 7'");
    EXPECT_EQ(status, 7) << out;
    const auto prefix = "[" + base + "/echo/";
    const auto at = out.find(prefix);
    ASSERT_NE(at, std::string::npos) << out;
    const auto id = out.substr(at + prefix.size(), out.find(']', at) - at - prefix.size());
    EXPECT_EQ(id.size(), 36u) << out;  // a UUID
    EXPECT_NE(out.find("zkr: registered " + base + "/echo/" + id + "\n"), std::string::npos) << out;
    EXPECT_TRUE(list_children(shared_hosts(), base + "/echo").empty());
}

TEST(CliService, DisableAndEnableFlipTheFlagAsListSeesIt) {
    const auto base = fresh_root() + "/services";
    auto registered = zkr_in_background(register_echo(base, "i1"));
    ASSERT_TRUE(registered.expect_line(base + "/echo/i1"));
    auto enabled = [&] {
        auto [status, fields] = listed_fields(base, "echo");
        EXPECT_EQ(status, 0) << fields;
        return fields;
    };
    const auto listed = [](const char* flag) {
        return std::string("echo i1 127.0.0.1 8080 None null ") + flag + " DYNAMIC True\n";
    };
    EXPECT_EQ(enabled(), listed("True"));
    auto [disable_status, disable_out] =
        zkr_shell("$ZKR service disable --base " + base + " echo i1");
    EXPECT_EQ(disable_status, 0) << disable_out;
    EXPECT_EQ(enabled(), listed("False"));
    auto [enable_status, enable_out] = zkr_shell("$ZKR service enable --base " + base + " echo i1");
    EXPECT_EQ(enable_status, 0) << enable_out;
    EXPECT_EQ(enabled(), listed("True"));
    // An instance that is not registered: said so, status 75 as revoke's "nothing to revoke".
    auto [missing_status, missing] = zkr_shell("$ZKR service disable --base " + base + " echo i2");
    EXPECT_EQ(missing_status, 75) << missing;
    EXPECT_NE(missing.find("zkr: cannot disable " + base + "/echo/i2: "), std::string::npos)
        << missing;
    EXPECT_EQ(list_children(shared_hosts(), base + "/echo"), std::vector<std::string>{"i1"});
    stop(registered);
}

TEST(CliService, WatchPrintsInstancesAddedAndRemoved) {
    const auto base = fresh_root() + "/services";
    auto watch = zkr_in_background({"service", "watch", "--base", base, "echo"});
    EXPECT_TRUE(watch.expect_line("initialized " + base + "/echo"));
    auto registered = zkr_in_background(register_echo(base, "i1"));
    ASSERT_TRUE(registered.expect_line(base + "/echo/i1"));
    std::string line;
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(starts_with(line, "added " + base +
                                      "/echo/i1 address=127.0.0.1 port=8080 ssl_port=- "
                                      "enabled=true registered=20"))
        << line;
    EXPECT_NE(line.find(" payload=null"), std::string::npos) << line;
    auto [status, out] = zkr_shell("$ZKR service disable --base " + base + " echo i1");
    EXPECT_EQ(status, 0) << out;
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(starts_with(line, "updated " + base + "/echo/i1 ")) << line;
    EXPECT_NE(line.find(" enabled=false "), std::string::npos) << line;
    stop(registered);
    ASSERT_TRUE(watch.read_line(line, 30s)) << watch.report();
    EXPECT_TRUE(starts_with(line, "removed " + base + "/echo/i1 address=127.0.0.1 ")) << line;
    watch.kill(SIGTERM);
    EXPECT_EQ(watch.wait(10s), 0) << watch.report();
}

TEST(CliService, BadInputIsANamedUsageErrorAndLeavesNothing) {
    const auto root = fresh_root();
    const auto base = root + "/services";
    const auto marker = fresh_temp_dir() + "/ran";
    const auto reg = "$ZKR service register --base " + base + " ";
    const auto cmd = " -- touch " + marker;
    const std::pair<std::string, std::string> cases[] = {
        {reg + "echo --address h --port 1 --payload '{\"zone\": ' " + cmd,
         "zkr: --payload takes JSON text"},
        {reg + "echo --address h --port 1 --id a/b" + cmd,
         "zkr: --id takes one node name, the instance's under the service, not 'a/b': it "
         "contains '/'"},
        {reg + "echo --address h --port 70000" + cmd,
         "zkr: --port takes a whole number from 0 to 65535, not '70000'"},
        {reg + "echo --address h --port 1 --ssl-port -1" + cmd,
         "zkr: --ssl-port takes a whole number from 0 to 65535, not '-1'"},
        {reg + "echo --port 1" + cmd, "zkr: service register needs --address A"},
        {reg + "a/b --address h --port 1" + cmd, "zkr: NAME 'a/b' is not one node name"},
        {"$ZKR service list --base relative", "zkr: --base takes a ZooKeeper path"},
        {"$ZKR service enable --base " + base + " echo",
         "zkr: service enable needs a NAME and an ID"},
        {"$ZKR service disable --base " + base + " echo ..", "zkr: ID '..' is not one node name"},
        {"$ZKR service watch --base " + base, "zkr: service watch needs a NAME"},
    };
    for (const auto& [command, error] : cases) {
        auto [status, out] = zkr_shell(command);
        EXPECT_EQ(status, 64) << command << "\n" << out;
        EXPECT_EQ(out.rfind(error, 0), 0u) << command << "\n" << out;
    }
    EXPECT_FALSE(std::filesystem::exists(marker));    // no command ran
    EXPECT_FALSE(node_exists(shared_hosts(), root));  // nothing was written
}

TEST(CliService, AnIdAnotherSessionHasRegisteredIsRefusedAndRunsNothing) {
    const auto base = fresh_root() + "/services";
    auto first = zkr_in_background(register_echo(base, "i1"));
    ASSERT_TRUE(first.expect_line(base + "/echo/i1"));
    const auto before = read_node(base + "/echo/i1");
    ASSERT_TRUE(before);
    const auto marker = fresh_temp_dir() + "/ran";
    auto [status, out] = zkr_shell("$ZKR service register --base " + base +
                                   " echo --id i1 --address 10.0.0.9 --port 9 -- touch " + marker);
    EXPECT_EQ(status, 75) << out;
    EXPECT_EQ(out.rfind("zkr: cannot register an instance of echo under " + base + ": ", 0), 0u)
        << out;
    EXPECT_FALSE(std::filesystem::exists(marker));
    // The first registration is untouched.
    const auto after = read_node(base + "/echo/i1");
    ASSERT_TRUE(after);
    EXPECT_EQ(after->stat.czxid, before->stat.czxid);
    EXPECT_EQ(after->data, before->data);
    stop(first);
}

TEST(CliService, HelpShowsEveryForm) {
    auto [status, out] = zkr_shell("$ZKR service --help");
    EXPECT_EQ(status, 0) << out;
    for (const auto* form :
         {"zkr service register --address A --port P ", "zkr service list ", "zkr service watch ",
          "zkr service disable|enable [--base PATH] "
          "NAME ID"}) {
        EXPECT_NE(out.find(form), std::string::npos) << form << "\n" << out;
    }
    auto [none_status, none] = zkr_shell("$ZKR service echo");
    EXPECT_EQ(none_status, 64) << none;
    EXPECT_EQ(
        none.rfind("zkr: service takes register, list, watch, disable or enable, not 'echo'", 0),
        0u)
        << none;
}

TEST(CliService, ListOfAServiceInAnotherLayoutIsANamedError) {
    const auto base = fresh_root();
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), base, "");
    create_node(shared_hosts(), base + "/echo", "");
    create_node(shared_hosts(), base + "/echo/not-json", "10.0.0.7:8080");
    auto [status, out] = zkr_shell("$ZKR service list --base " + base + " echo");
    EXPECT_EQ(status, 64) << out;
    EXPECT_EQ(out.rfind("zkr: cannot list " + base + "/echo: ", 0), 0u) << out;
    // Nothing was changed.
    EXPECT_EQ(list_children(shared_hosts(), base + "/echo"), std::vector<std::string>{"not-json"});
}

TEST(CliService, RegistrationComesBackAfterTheSessionExpired) {
    // A server of its own, stopped for longer than the session timeout: every session on it
    // expires, the CLI's included (no other way reaches a session inside another process).
    zk_server server;
    const auto& hosts = server.hosts();
    const auto path = std::string("/services/echo/i1");
    std::vector<std::string> args{"--session-timeout", "2000"};
    const auto registration = register_echo("/services", "i1");
    args.insert(args.end(), registration.begin(), registration.end());
    auto registered = zkr_in_background(args, hosts);
    ASSERT_TRUE(registered.expect_line(path));
    const auto before = read_node(path, hosts);
    ASSERT_TRUE(before);

    server.pause();
    std::this_thread::sleep_for(5s);  // the fault's length, past the 2 s session timeout
    server.resume();

    // The session renews and the instance is registered again, by the new session, with the
    // same JSON; the command runs on, untouched.
    const auto after = recreated_by_another_session(path, before->stat.ephemeral_owner, hosts);
    ASSERT_TRUE(after) << registered.report();
    EXPECT_EQ(after->data, before->data);
    stop(registered);
    EXPECT_FALSE(node_exists(hosts, path));
}

}  // namespace
}  // namespace zkr::test
