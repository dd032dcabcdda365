// zkr::group against a real server.
#include "test_support.hpp"

#include <zkr/group.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <signal.h>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

/// The data and owner of `path` as a session reads them.
std::vector<std::string> ids(const std::vector<member>& members) {
    std::vector<std::string> out;
    for (const auto& m : members) {
        out.push_back(m.id);
    }
    return out;
}

TEST(Group, MembersJoinLeaveAndWatchersSeeEachChange) {
    const auto path = fresh_root() + "/group";
    with_sessions<3>([&](asio::io_context& ioc, session& a, session& b,
                         session& watcher) -> asio::awaitable<void> {
        // Named objects and strings: no temporary in a co_await expression (g++ 12).
        group seen(watcher, path);
        group of_a(a, path);
        group of_b(b, path);
        const std::string alpha_id = "alpha", beta_id = "beta", one = "1", two = "2", x = "x";
        auto [first_ec, first] = co_await seen.async_wait_change(tuple);
        EXPECT_FALSE(first_ec) << first_ec.message();
        EXPECT_TRUE(first.empty()) << "a group that does not exist has no members";

        auto [jec, alpha] = co_await of_a.async_join(alpha_id, one, tuple);
        CO_REQUIRE(!jec);
        EXPECT_TRUE(alpha.owns());
        auto [c1, after_alpha] = co_await seen.async_wait_change(tuple);
        EXPECT_FALSE(c1);
        EXPECT_EQ(after_alpha, (std::vector<member>{member{"alpha", "1"}}));

        auto [kec, beta] = co_await of_b.async_join(beta_id, two, tuple);
        CO_REQUIRE(!kec);
        auto [c2, after_beta] = co_await seen.async_wait_change(tuple);
        EXPECT_EQ(ids(after_beta), (std::vector<std::string>{"alpha", "beta"}));

        // An id another session holds is refused; ids must be one node name.
        auto [dup, none] = co_await of_b.async_join(alpha_id, x, tuple);
        EXPECT_EQ(dup, zk_errc::node_exists) << dup.message();
        for (const std::string bad : {"", "a/b", "."}) {
            auto [bec, l] = co_await of_b.async_join(bad, x, tuple);
            EXPECT_EQ(bec, errc::invalid_path) << bad;
        }

        CO_REQUIRE(!std::get<0>(co_await alpha.async_release(tuple)));
        auto [c3, after_leave] = co_await seen.async_wait_change(tuple);
        EXPECT_EQ(ids(after_leave), (std::vector<std::string>{"beta"}));
        auto [lec, listed] = co_await of_a.async_members(tuple);
        EXPECT_EQ(listed, (std::vector<member>{member{"beta", "2"}}));

        // A waiting watcher, cancelled by a timeout, leaves no watch behind.
        asio::steady_timer timer(ioc, std::chrono::milliseconds(200));
        auto outcome = co_await (seen.async_wait_change(tuple) || timer.async_wait(tuple));
        EXPECT_EQ(outcome.index(), 1u) << "nothing changed";
        EXPECT_TRUE(co_await settled(watcher));
        beta = lock{};  // leaves without waiting
        CO_REQUIRE(co_await eventually([&] { return children_count(path) == 0; }));
        EXPECT_TRUE(co_await settled(a));
        EXPECT_TRUE(co_await settled(b));
        co_await a.async_close(asio::use_awaitable);
        co_await b.async_close(asio::use_awaitable);
        co_await watcher.async_close(asio::use_awaitable);
    });
}

TEST(Group, ADataChangeBetweenTwoWaitsIsReportedByTheNext) {
    // The cache started by the first wait sees the change: the next wait reports it.
    const auto path = fresh_root() + "/group";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        group g(s, path);
        const std::string alpha_id = "alpha", one = "1", two = "2";
        auto [jec, alpha] = co_await g.async_join(alpha_id, one, tuple);
        CO_REQUIRE(!jec);
        auto [c1, first] = co_await g.async_wait_change(tuple);
        EXPECT_EQ(first, (std::vector<member>{member{"alpha", "1"}}));
        auto [sec, st] = co_await s.async_set_data(alpha.path(), two, -1, tuple);
        CO_REQUIRE(!sec);
        auto [c2, changed] = co_await g.async_wait_change(tuple);
        EXPECT_EQ(changed, (std::vector<member>{member{"alpha", "2"}}));
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Group, AMembershipEndsWithItsSessionAndItsHolderIsTold) {
    const auto path = fresh_root() + "/group";
    with_sessions<2>([&](session& s, session& watcher) -> asio::awaitable<void> {
        group seen(watcher, path);
        group mine(s, path);
        const std::string id = "me", no_data;
        auto [jec, me] = co_await mine.async_join(id, no_data, tuple);
        CO_REQUIRE(!jec);
        auto [c1, with_me] = co_await seen.async_wait_change(tuple);
        EXPECT_EQ(ids(with_me), (std::vector<std::string>{"me"}));
        bool told = false;
        error_code reason;
        me.async_wait_lost([&](error_code ec) {
            reason = ec;
            told = true;
        });
        expire_session(s, shared_hosts());
        CO_REQUIRE(co_await eventually([&] { return told; }));
        EXPECT_EQ(reason, zk_errc::session_expired) << reason.message();
        EXPECT_FALSE(me.owns());
        auto [c2, without] = co_await seen.async_wait_change(tuple);
        EXPECT_FALSE(c2) << c2.message();
        EXPECT_TRUE(without.empty());
        co_await watcher.async_close(asio::use_awaitable);
    });
}

TEST(Group, JoiningTwiceUnderOneIdFromOneSessionIsRefused) {
    const auto path = fresh_root() + "/group";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        group g(s, path);
        const std::string id = "me", data = "first", other_data = "second";
        auto [jec, me] = co_await g.async_join(id, data, tuple);
        CO_REQUIRE(!jec);
        auto [again_ec, again] = co_await g.async_join(id, other_data, tuple);
        EXPECT_EQ(again_ec, errc::already_held) << again_ec.message();
        EXPECT_FALSE(again.owns());
        EXPECT_TRUE(me.owns());
        auto [mec, members] = co_await g.async_members(tuple);
        CO_REQUIRE(!mec);
        CO_REQUIRE(members.size() == 1u);
        EXPECT_EQ(members.front().data, "first");
        // Once the first membership is released, the id is free to join again.
        co_await me.async_release(asio::use_awaitable);
        auto [rejoin_ec, rejoined] = co_await g.async_join(id, other_data, tuple);
        EXPECT_FALSE(rejoin_ec) << rejoin_ec.message();
        EXPECT_TRUE(rejoined.owns());
        co_await rejoined.async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(path), 0u);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Group, AWaitingWatcherSeesAMembersDataUpdate) {
    // The watcher follows the group with a cache: a data update wakes a wait already waiting.
    const auto path = fresh_root() + "/group";
    with_sessions<2>([&](session& s, session& watcher) -> asio::awaitable<void> {
        group seen(watcher, path);
        group mine(s, path);
        group_member me(mine, "alpha", "1");
        CO_REQUIRE(!std::get<0>(co_await me.async_start(tuple)));
        EXPECT_EQ(me.node_path(), path + "/alpha");
        auto [c1, first] = co_await seen.async_wait_change(tuple);
        EXPECT_EQ(first, (std::vector<member>{member{"alpha", "1"}}));
        const std::string two = "2";
        bool done = false;
        std::vector<member> changed;
        seen.async_wait_change([&](error_code ec, std::vector<member> now) {
            EXPECT_FALSE(ec) << ec.message();
            changed = std::move(now);
            done = true;
        });
        auto [sec] = co_await me.async_set_data(two, tuple);
        CO_REQUIRE(!sec);
        CO_REQUIRE(co_await eventually([&] { return done; }));
        EXPECT_EQ(changed, (std::vector<member>{member{"alpha", "2"}}));
        CO_REQUIRE(!std::get<0>(co_await me.async_close(tuple)));
        auto [c3, gone] = co_await seen.async_wait_change(tuple);
        EXPECT_FALSE(c3) << c3.message();
        EXPECT_TRUE(gone.empty());
        co_await s.async_close(asio::use_awaitable);
        co_await watcher.async_close(asio::use_awaitable);
    });
}

TEST(Group, ALastingMemberDeletedByAnotherClientComesBack) {
    const auto path = fresh_root() + "/group";
    with_sessions<2>([&](session& s, session& other) -> asio::awaitable<void> {
        group g(s, path);
        group_member me(g, "me", "one");
        CO_REQUIRE(!std::get<0>(co_await me.async_start(tuple)));
        const std::string two = "two";
        CO_REQUIRE(!std::get<0>(co_await me.async_set_data(two, tuple)));
        auto [dec] = co_await other.async_remove(path + "/me", -1, tuple);
        CO_REQUIRE(!dec);
        CO_REQUIRE(co_await eventually([&] { return node_exists(shared_hosts(), path + "/me"); }));
        auto got = co_await get_node(other, path + "/me");
        CO_REQUIRE(got.has_value());
        EXPECT_EQ(got->data, "two") << "back with the latest data";
        EXPECT_EQ(got->stat.ephemeral_owner, s.session_id());
        // Destroyed, it leaves.
        { group_member gone(std::move(me)); }
        CO_REQUIRE(co_await eventually([&] { return children_count(path) == 0; }));
        co_await s.async_close(asio::use_awaitable);
        co_await other.async_close(asio::use_awaitable);
    });
}

TEST(Group, ALastingMemberIsBackUnderTheRenewedSessionAfterAForcedExpiry) {
    const auto path = fresh_root() + "/group";
    auto renewing = config_for(shared_hosts());
    renewing.renew_after_expiry = true;
    with_sessions({renewing, config_for(shared_hosts())},
                  [&](session& s, session& watcher) -> asio::awaitable<void> {
                      group seen(watcher, path);
                      group g(s, path);
                      group_member me(g, "me", "one");
                      CO_REQUIRE(!std::get<0>(co_await me.async_start(tuple)));
                      auto [c1, first] = co_await seen.async_wait_change(tuple);
                      EXPECT_EQ(first, (std::vector<member>{member{"me", "one"}}));
                      const auto first_id = s.session_id();

                      expire_session(s, shared_hosts());
                      CO_REQUIRE(co_await eventually([&] { return s.generation() == 2; }));
                      CO_REQUIRE(!std::get<0>(co_await me.async_wait_created(tuple)));
                      EXPECT_NE(s.session_id(), first_id);
                      auto got = co_await get_node(watcher, path + "/me");
                      CO_REQUIRE(got.has_value());
                      EXPECT_EQ(got->stat.ephemeral_owner, s.session_id())
                          << "a member under the new session";
                      // Updated after the renewal: the watcher sees it.
                      const std::string two = "two";
                      CO_REQUIRE(!std::get<0>(co_await me.async_set_data(two, tuple)));
                      auto [c2, now] = co_await seen.async_wait_change(tuple);
                      while (!c2 && now != std::vector<member>{member{"me", "two"}}) {
                          std::tie(c2, now) = co_await seen.async_wait_change(tuple);
                      }
                      EXPECT_FALSE(c2) << c2.message();

                      CO_REQUIRE(!std::get<0>(co_await me.async_close(tuple)));
                      EXPECT_FALSE(node_exists(shared_hosts(), path + "/me"));
                      auto [c3, gone] = co_await seen.async_wait_change(tuple);
                      EXPECT_TRUE(gone.empty());
                      co_await watcher.async_close(asio::use_awaitable);
                  });
}

TEST(Group, AMemberIdMustBeOneNodeName) {
    const auto path = fresh_root() + "/group";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        group g(s, path);
        for (const std::string bad : {"", "a/b", "."}) {
            group_member m(g, bad, "x");
            auto [ec] = co_await m.async_start(tuple);
            EXPECT_EQ(ec, errc::invalid_path) << bad;
        }
        EXPECT_FALSE(node_exists(shared_hosts(), path));
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Interop, ZkrAndCuratorGroupMembersSeeEachOther) {
    const auto path = fresh_root() + "/group";
    with_sessions(
        {config_for_peer_tests(shared_hosts())},
        [&](session& s) -> asio::awaitable<void> {
            group g(s, path);
            auto [first_ec, none] = co_await g.async_wait_change(tuple);
            CO_REQUIRE(!first_ec && none.empty());
            // A Curator GroupMember joins: zkr sees it, with its data.
            auto java = peer("curator-coordination", {"member", path, "java", "j"});
            CO_REQUIRE(java.expect_line("joined", peer_start_limit));
            auto [jec, with_java] = co_await g.async_wait_change(tuple);
            EXPECT_EQ(with_java, (std::vector<member>{member{"java", "j"}}));
            // zkr joins: Curator's view of the group has both.
            const std::string id = "cpp", data = "c";
            auto [cec, me] = co_await g.async_join(id, data, tuple);
            CO_REQUIRE(!cec);
            auto lister = peer("curator-coordination", {"members", path});
            CO_REQUIRE(lister.expect_line("cpp=c", peer_start_limit));
            CO_REQUIRE(lister.expect_line("java=j"));
            CO_REQUIRE(lister.expect_line("end"));
            EXPECT_TRUE(lister.exits_cleanly(peer_start_limit));
            // The Java process dies: its membership ends with its session.
            java.kill(SIGKILL);
            java.wait(10s);
            auto [lec, without] = co_await g.async_wait_change(tuple);
            while (!lec && without.size() == 2) {  // until its session expires
                std::tie(lec, without) = co_await g.async_wait_change(tuple);
            }
            EXPECT_EQ(ids(without), (std::vector<std::string>{"cpp"}));
            co_await s.async_close(asio::use_awaitable);
        },
        180s);
}

TEST(Interop, ACuratorGroupMemberSeesALastingZkrMemberAndItsDataUpdates) {
    const auto path = fresh_root() + "/group";
    with_sessions(
        {config_for_peer_tests(shared_hosts())},
        [&](session& s) -> asio::awaitable<void> {
            group g(s, path);
            group_member me(g, "cpp", "one");
            CO_REQUIRE(!std::get<0>(co_await me.async_start(tuple)));
            // A Curator GroupMember joins and follows the group with its own view.
            auto java = peer("curator-coordination",
                             {"member-sees", path, "java", "j", "cpp=one", "cpp=two", "cpp=-"});
            CO_REQUIRE(java.expect_line("joined", peer_start_limit));
            CO_REQUIRE(java.expect_line("seen cpp=one"));
            // zkr sees the Java member, with its data.
            auto [c1, both] = co_await g.async_wait_change(tuple);
            while (!c1 && both.size() < 2) {
                std::tie(c1, both) = co_await g.async_wait_change(tuple);
            }
            EXPECT_EQ(both, (std::vector<member>{member{"cpp", "one"}, member{"java", "j"}}));
            // zkr's data update reaches Curator's view; so does its leaving.
            const std::string two = "two";
            CO_REQUIRE(!std::get<0>(co_await me.async_set_data(two, tuple)));
            CO_REQUIRE(java.expect_line("seen cpp=two"));
            CO_REQUIRE(!std::get<0>(co_await me.async_close(tuple)));
            CO_REQUIRE(java.expect_line("seen cpp=-"));
            EXPECT_TRUE(java.exits_cleanly(peer_start_limit));
            // The Java member left on close: zkr sees the group empty.
            auto [c2, now] = co_await g.async_wait_change(tuple);
            while (!c2 && !now.empty()) {
                std::tie(c2, now) = co_await g.async_wait_change(tuple);
            }
            EXPECT_FALSE(c2) << c2.message();
            co_await s.async_close(asio::use_awaitable);
        },
        180s);
}

}  // namespace
}  // namespace zkr::test
