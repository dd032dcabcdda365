// Bad inputs: each must give a clear error, never hang, and leave nothing behind in ZooKeeper.
// Runs against the shared test server (tools/zk.sh config: minSessionTimeout=400,
// maxSessionTimeout=60000).
#include "../test_support.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/mutex.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
const auto tuple = asio::as_tuple(asio::use_awaitable);

/// Every path under the root, depth-first (the whole tree of the shared server, for "nothing
/// left" checks on inputs that name no usable directory).
std::vector<std::string> tree(const std::string& path = "/") {
    std::vector<std::string> out;
    for (const auto& name : list_children(shared_hosts(), path)) {
        const auto child = (path == "/" ? "" : path) + "/" + name;
        if (child == "/zookeeper") {
            continue;
        }
        out.push_back(child);
        auto sub = tree(child);
        out.insert(out.end(), sub.begin(), sub.end());
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> malformed_paths() {
    return {"", "relative/lock", "/trailing/", "/double//slash", std::string("/nul\0inside", 11),
            "/ctrl\x01char", "/dot/./segment", "/dotdot/../segment", "/" + std::string(5000, 'x'),
            // What the server refuses although it looks harmless: characters it will not take
            // (a C1 control, private use, beyond U+FFFF), bytes that are not UTF-8, and a
            // directory short enough whose nodes would not be.
            "/c1\u0085control", "/private\ue000use", "/emoji\U0001F600", "/latin1\xe9t\xe9",
            "/" + std::string(4050, 'x')};
}

TEST(BadInput, MalformedLockPaths) {
    const auto before = tree();
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(s);
        for (const auto& p : malformed_paths()) {
            mutex m(s, p);
            auto [ec, lk] = co_await m.async_lock(tuple);
            EXPECT_EQ(ec, errc::invalid_path) << "mutex path of " << p.size() << " bytes";
            EXPECT_FALSE(lk.owns());
            auto [ec2, lk2] = co_await m.async_try_lock(tuple);
            EXPECT_EQ(ec2, errc::invalid_path);
            leader_election e(s, p, "id");
            auto [ec3, term] = co_await e.async_campaign(tuple);
            EXPECT_EQ(ec3, errc::invalid_path) << "election path of " << p.size() << " bytes";
            semaphore sem(s, p, 2);
            auto [ec4, lease] = co_await sem.async_acquire(1, tuple);
            EXPECT_EQ(ec4, errc::invalid_path) << "semaphore path of " << p.size() << " bytes";
        }
        EXPECT_TRUE(co_await eventually([&] { return s.pending_operations() == 0; }, 3s))
            << "pending operations: " << s.pending_operations();
        co_await s.async_close(tuple);
    });
    EXPECT_EQ(tree(), before) << "a malformed path left something behind";
}

TEST(BadInput, LockDirectoryWithDataWorks) {
    const auto dir = fresh_root();
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), dir, "some data that zkr does not care about");
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(s);
        mutex m(s, dir);
        auto [ec, lk] = co_await m.async_lock(tuple);
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_TRUE(lk.owns());
        auto [rec] = co_await lk.async_release(tuple);
        EXPECT_FALSE(rec) << rec.message();
        co_await s.async_close(tuple);
    });
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
    delete_node(shared_hosts(), dir);
}

TEST(BadInput, LockDirectoryThatIsEphemeral) {
    const auto dir = fresh_root();
    create_node(shared_hosts(), "/t", "");
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session owner(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(owner);
        auto [cec, created] = co_await owner.async_create(dir, "", create_mode::ephemeral, tuple);
        CO_REQUIRE(!cec);
        session s(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(s);
        mutex m(s, dir);
        auto [ec, lk] = co_await m.async_lock(tuple);
        EXPECT_EQ(ec, zk_errc::no_children_for_ephemerals) << ec.message();
        EXPECT_FALSE(lk.owns());
        leader_election e(s, dir, "id");
        auto [ec2, term] = co_await e.async_campaign(tuple);
        EXPECT_EQ(ec2, zk_errc::no_children_for_ephemerals) << ec2.message();
        EXPECT_TRUE(co_await eventually([&] { return s.pending_operations() == 0; }, 3s))
            << "pending operations: " << s.pending_operations();
        auto [gec, kids] = co_await s.async_get_children(dir, tuple);
        EXPECT_FALSE(gec);
        EXPECT_TRUE(kids.names.empty());
        co_await s.async_close(tuple);
        co_await owner.async_close(tuple);
    });
    EXPECT_FALSE(node_exists(shared_hosts(), dir));
}

TEST(BadInput, ForeignAndMalformedChildNamesAreIgnored) {
    const auto dir = fresh_root();
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), dir, "");
    // Names of no known scheme, or a known marker with a malformed sequence: not contenders.
    const std::vector<std::string> foreign{"config",
                                           "lock",
                                           "-lock-",
                                           "x-lock-",
                                           "x-lock-12a4",
                                           "x-lock--000001",
                                           "x-lock-0000000001x",
                                           "__lock__",
                                           "abc__lock__",
                                           "x-latch-",
                                           "_c_-lock- 1",
                                           "x-lock-1234567890123456789",
                                           "_c_uuid-lease-",
                                           "READ__0001",
                                           "x-lock-+1"};
    for (const auto& n : foreign) {
        create_node(shared_hosts(), dir + "/" + n, "");
    }
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(s);
        mutex m(s, dir);
        auto [ec, lk] = co_await m.async_try_lock(tuple);
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_TRUE(lk.owns()) << "a foreign child blocked the lock";
        auto [rec] = co_await lk.async_release(tuple);
        EXPECT_FALSE(rec);
        co_await s.async_close(tuple);
    });
    auto left = list_children(shared_hosts(), dir);
    EXPECT_EQ(left.size(), foreign.size()) << "zkr touched or left nodes";
    for (const auto& n : foreign) {
        delete_node(shared_hosts(), dir + "/" + n);
    }
    delete_node(shared_hosts(), dir);
}

TEST(BadInput, PersistentNodeOfTheLockSchemeBlocksTheLock) {
    // A node that follows a contender scheme is a contender, whoever made it (interoperability
    // with Curator and kazoo depends on this): a stray persistent one blocks the queue until an
    // operator deletes it. try_lock reports "busy" without waiting, and leaves nothing.
    const auto dir = fresh_root();
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), dir, "");
    create_node(shared_hosts(), dir + "/stray-lock-0000000000", "");
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(s);
        mutex m(s, dir);
        auto [ec, lk] = co_await m.async_try_lock(tuple);
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_FALSE(lk.owns());
        co_await s.async_close(tuple);
    });
    EXPECT_EQ(list_children(shared_hosts(), dir),
              std::vector<std::string>{"stray-lock-0000000000"});
    delete_node(shared_hosts(), dir + "/stray-lock-0000000000");
    delete_node(shared_hosts(), dir);
}

TEST(BadInput, UnreachableHosts) {
    for (const std::string hosts : {"127.0.0.1:1", "127.0.0.1:1,127.0.0.2:1"}) {
        run(
            [&](asio::io_context& ioc) -> asio::awaitable<void> {
                auto config = config_for(hosts);
                config.connect_timeout = 1500ms;
                session s(ioc.get_executor(), config);
                const auto t0 = std::chrono::steady_clock::now();
                auto [ec] = co_await s.async_connect(tuple);
                EXPECT_EQ(ec, errc::connect_timeout) << hosts << ": " << ec.message();
                EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
                mutex m(s, "/t/unreachable");
                auto [lec, lk] = co_await m.async_lock(tuple);
                EXPECT_TRUE(lec) << "lock on an unconnected session";
                EXPECT_FALSE(lk.owns());
                co_await s.async_close(tuple);
            },
            20s);
    }
}

TEST(BadInput, UnresolvableHostName) {
    run(
        [&](asio::io_context& ioc) -> asio::awaitable<void> {
            auto config = config_for("no-such-host.invalid:2181");
            config.connect_timeout = 1500ms;
            session s(ioc.get_executor(), config);
            auto [ec] = co_await s.async_connect(tuple);
            EXPECT_TRUE(ec == errc::invalid_connect_string || ec == errc::connect_timeout)
                << ec.message();
            RecordProperty("unresolvable_host_error", ec.message());
            co_await s.async_close(tuple);
        },
        20s);
}

TEST(BadInput, MalformedConnectStrings) {
    const std::vector<std::string> bad{"",
                                       "127.0.0.1",
                                       "127.0.0.1:",
                                       ":2181",
                                       "127.0.0.1:abc",
                                       "127.0.0.1:0",
                                       "127.0.0.1:99999",
                                       "127.0.0.1:2181,",
                                       ",127.0.0.1:2181",
                                       "127.0.0.1:2181/chroot/",
                                       "127.0.0.1:2181//x",
                                       "host name:2181",
                                       std::string("127.0.0.1:21\0"
                                                   "81",
                                                   15)};
    for (const auto& hosts : bad) {
        run(
            [&](asio::io_context& ioc) -> asio::awaitable<void> {
                auto config = config_for(hosts);
                config.connect_timeout = 1500ms;
                session s(ioc.get_executor(), config);
                auto [ec] = co_await s.async_connect(tuple);
                EXPECT_EQ(ec, errc::invalid_connect_string)
                    << "'" << hosts << "': " << ec.message();
                co_await s.async_close(tuple);
            },
            20s);
    }
    // An IPv6 address without brackets: which colon is the port's? Said as such.
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), config_for("::1:2181"));
        auto [ec] = co_await s.async_connect(tuple);
        EXPECT_EQ(ec, errc::ipv6_literal) << ec.message();
        co_await s.async_close(tuple);
    });
}

/// A directory created by `creator` (digest "alice:right") with `acl`.
void make_acl_dir(const std::string& dir, const acl_list& acl) {
    create_node(shared_hosts(), "/t", "");
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        auto config = config_for(shared_hosts());
        config.digest_credentials = "alice:right";
        config.acl = acl;
        session s(ioc.get_executor(), config);
        co_await connect(s);
        auto [ec, created] = co_await s.async_create(dir, "", create_mode::persistent, tuple);
        EXPECT_FALSE(ec) << ec.message();
        co_await s.async_close(tuple);
    });
}

void remove_acl_dir(const std::string& dir) {
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        auto config = config_for(shared_hosts());
        config.digest_credentials = "alice:right";
        session s(ioc.get_executor(), config);
        co_await connect(s);
        auto [kec, kids] = co_await s.async_get_children(dir, tuple);
        for (const auto& n : kids.names) {
            co_await s.async_remove(dir + "/" + n, -1, tuple);
        }
        auto [ec] = co_await s.async_remove(dir, -1, tuple);
        EXPECT_FALSE(ec) << ec.message();
        co_await s.async_close(tuple);
    });
}

TEST(BadInput, WrongDigestCredentials) {
    const auto dir = fresh_root();
    make_acl_dir(dir, creator_all_acl());
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        for (const std::string creds : {"alice:wrong", "", "mallory:right"}) {
            auto config = config_for(shared_hosts());
            config.digest_credentials = creds;
            session s(ioc.get_executor(), config);
            auto [cec] = co_await s.async_connect(tuple);
            EXPECT_FALSE(cec) << "wrong credentials are only refused per node: " << cec.message();
            mutex m(s, dir);
            auto [ec, lk] = co_await m.async_lock(tuple);
            EXPECT_EQ(ec, zk_errc::no_auth) << "'" << creds << "': " << ec.message();
            EXPECT_FALSE(lk.owns());
            EXPECT_TRUE(co_await eventually([&] { return s.pending_operations() == 0; }, 3s))
                << "pending operations: " << s.pending_operations();
            co_await s.async_close(tuple);
        }
    });
    // The right identity sees nothing left behind.
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        auto config = config_for(shared_hosts());
        config.digest_credentials = "alice:right";
        session s(ioc.get_executor(), config);
        co_await connect(s);
        auto [ec, kids] = co_await s.async_get_children(dir, tuple);
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_TRUE(kids.names.empty());
        co_await s.async_close(tuple);
    });
    remove_acl_dir(dir);
}

TEST(BadInput, AclForbidsCreate) {
    const auto dir = fresh_root();
    make_acl_dir(dir, {{perms::read, "world", "anyone"}, {perms::all, "auth", ""}});
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(s);
        mutex m(s, dir);
        auto [ec, lk] = co_await m.async_lock(tuple);
        EXPECT_EQ(ec, zk_errc::no_auth) << ec.message();
        leader_election e(s, dir, "id");
        auto [ec2, term] = co_await e.async_campaign(tuple);
        EXPECT_EQ(ec2, zk_errc::no_auth) << ec2.message();
        EXPECT_TRUE(co_await eventually([&] { return s.pending_operations() == 0; }, 3s))
            << "pending operations: " << s.pending_operations();
        co_await s.async_close(tuple);
    });
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
    remove_acl_dir(dir);
}

TEST(BadInput, AclForbidsDelete) {
    // Create allowed, delete denied: zkr can take the lock but cannot delete its own node. The
    // release must report the error without hanging; the node is ephemeral and goes with the
    // session.
    const auto dir = fresh_root();
    make_acl_dir(dir, {{perms::all & ~perms::remove, "world", "anyone"}, {perms::all, "auth", ""}});
    std::string node;
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(s);
        mutex m(s, dir);
        auto [ec, lk] = co_await m.async_lock(tuple);
        EXPECT_FALSE(ec) << ec.message();
        CO_REQUIRE(lk.owns());
        node = lk.path();
        auto [rec] = co_await lk.async_release(tuple);
        EXPECT_EQ(rec, zk_errc::no_auth) << "release: " << rec.message();
        RecordProperty("release_error", rec.message());
        EXPECT_FALSE(lk.owns());
        // The node is still there while the session lives: a second contender must not get
        // the lock as long as it stands (its holder can no longer release it).
        session other(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(other);
        mutex m2(other, dir);
        auto [ec2, lk2] = co_await m2.async_try_lock(tuple);
        EXPECT_FALSE(ec2) << ec2.message();
        const bool stuck = !lk2.owns();
        RecordProperty("second_contender_blocked_until_session_ends", stuck ? "yes" : "no");
        if (lk2.owns()) {
            co_await lk2.async_release(tuple);
        }
        co_await other.async_close(tuple);
        co_await s.async_close(tuple);
    });
    EXPECT_FALSE(node.empty());
    EXPECT_TRUE(wait_until([&] { return list_children(shared_hosts(), dir).empty(); }, 10s))
        << "the ephemeral node outlived its session";
    remove_acl_dir(dir);
}

TEST(BadInput, SessionTimeoutOutsideServerBounds) {
    struct row {
        std::chrono::milliseconds requested, expected;
    };
    for (const row r : {row{100ms, 400ms}, row{399ms, 400ms}, row{60001ms, 60000ms},
                        row{10min, 60000ms}, row{24h, 60000ms}}) {
        run(
            [&](asio::io_context& ioc) -> asio::awaitable<void> {
                session s(ioc.get_executor(), config_for(shared_hosts(), r.requested));
                auto [ec] = co_await s.async_connect(tuple);
                EXPECT_FALSE(ec) << r.requested.count() << " ms: " << ec.message();
                EXPECT_EQ(s.negotiated_timeout(), r.expected) << r.requested.count() << " ms";
                co_await s.async_close(tuple);
            },
            20s);
    }
    // Extremes: a request so small that the C client's handshake deadline (derived from the
    // requested timeout) would pass before the server can answer, and one so large that the C
    // client's int arithmetic would overflow: refused as invalid arguments.
    for (const auto requested : {1ms, std::chrono::milliseconds(0x7fffffff)}) {
        run(
            [&](asio::io_context& ioc) -> asio::awaitable<void> {
                auto config = config_for(shared_hosts(), requested);
                config.connect_timeout = 2s;
                session s(ioc.get_executor(), config);
                auto [ec] = co_await s.async_connect(tuple);
                EXPECT_EQ(ec, errc::invalid_argument)
                    << requested.count() << " ms: " << ec.message();
                co_await s.async_close(tuple);
            },
            20s);
    }
    for (const auto requested : {std::chrono::milliseconds(0), std::chrono::milliseconds(-5)}) {
        run(
            [&](asio::io_context& ioc) -> asio::awaitable<void> {
                session s(ioc.get_executor(), config_for(shared_hosts(), requested));
                auto [ec] = co_await s.async_connect(tuple);
                EXPECT_EQ(ec, errc::invalid_argument)
                    << requested.count() << " ms: " << ec.message();
                co_await s.async_close(tuple);
            },
            20s);
    }
}

}  // namespace
}  // namespace zkr::test
