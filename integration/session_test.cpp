// zkr::session against a real server: lifecycle, faults, auth, chroot, tokens, cancellation.
#include "tcp_proxy.hpp"
#include "test_support.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <thread>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

/// Waits (with a deadline) until the session reaches `wanted`; returns the state it ends in.
asio::awaitable<session_state> wait_for_state(session& s, session_state wanted,
                                              std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (s.state() != wanted && std::chrono::steady_clock::now() < deadline) {
        asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
        auto r = co_await (s.async_wait_state_change(s.state(), tuple) || timer.async_wait(tuple));
        if (r.index() == 1) {
            break;
        }
    }
    co_return s.state();
}

TEST(Session, ConnectsReportsItselfAndCloses) {
    run([](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), config_for(shared_hosts(), 5000ms));
        EXPECT_EQ(s.state(), session_state::not_started);
        auto [early, ignored] = co_await s.async_get_data(std::string("/"), tuple);
        EXPECT_EQ(early, errc::not_connected);
        co_await s.async_connect(asio::use_awaitable);
        EXPECT_EQ(s.state(), session_state::connected);
        EXPECT_NE(s.session_id(), 0);
        EXPECT_EQ(s.negotiated_timeout(), 5000ms);
        auto [ec, kids] = co_await s.async_get_children(std::string("/"), tuple);
        EXPECT_FALSE(ec);
        co_await s.async_close(asio::use_awaitable);
        EXPECT_EQ(s.state(), session_state::closed);
        auto [after, data] = co_await s.async_get_data(std::string("/"), tuple);
        EXPECT_EQ(after, errc::session_closed);
        EXPECT_TRUE(is_session_lost(after));
        EXPECT_EQ(s.pending_operations(), 0u);
    });
}

TEST(Session, ClosingWithOperationsInFlightCompletesThemAll) {
    with_sessions([](session& s) -> asio::awaitable<void> {
        const auto root = fresh_root();
        co_await s.async_create(std::string("/t"), std::string(), create_mode::persistent, tuple);
        co_await s.async_create(root, std::string(), create_mode::persistent, tuple);
        // An armed watch that will never fire, and a burst of requests.
        auto [wec, st, w] = co_await s.async_watch_exists(root + "/never", tuple);
        EXPECT_FALSE(wec);
        EXPECT_TRUE(w.armed());
        int completed = 0;
        error_code watch_result;
        w.async_wait([&](error_code ec, watch_event) {
            watch_result = ec;
            ++completed;
        });
        for (int i = 0; i < 50; ++i) {
            s.async_get_data(root, [&](error_code, node_data) { ++completed; });
        }
        co_await s.async_remove(root, -1, tuple);
        co_await s.async_close(asio::use_awaitable);
        asio::steady_timer settle(co_await asio::this_coro::executor, 2s);
        while (completed < 51 && settle.expiry() > std::chrono::steady_clock::now()) {
            asio::steady_timer tick(co_await asio::this_coro::executor, 5ms);
            co_await tick.async_wait(asio::use_awaitable);
        }
        EXPECT_EQ(completed, 51);
        EXPECT_EQ(watch_result, errc::session_closed);
        EXPECT_EQ(s.pending_operations(), 0u);
    });
}

TEST(Session, ShortServerPauseSuspendsThenReconnectsSameSession) {
    zk_server server;
    with_sessions(
        {config_for(server.hosts(), 6000ms)},
        [&](session& s) -> asio::awaitable<void> {
            const auto id = s.session_id();
            server.pause();
            // The client notices after 2/3 of the timeout without an answer.
            EXPECT_EQ(co_await wait_for_state(s, session_state::suspended, 6s),
                      session_state::suspended);
            server.resume();
            EXPECT_EQ(co_await wait_for_state(s, session_state::connected, 6s),
                      session_state::connected);
            EXPECT_EQ(s.session_id(), id);
            auto [ec, kids] = co_await s.async_get_children(std::string("/"), tuple);
            EXPECT_FALSE(ec);
            co_await s.async_close(asio::use_awaitable);
        },
        40s);
}

TEST(Session, ForcedExpiryIsReportedAndEphemeralsAreGone) {
    with_sessions({config_for(shared_hosts(), 4000ms)}, [](session& s) -> asio::awaitable<void> {
        const auto root = fresh_root();
        co_await s.async_create(std::string("/t"), std::string(), create_mode::persistent, tuple);
        co_await s.async_create(root, std::string(), create_mode::persistent, tuple);
        auto [cec, node] =
            co_await s.async_create(root + "/e", std::string("x"), create_mode::ephemeral, tuple);
        EXPECT_FALSE(cec);
        auto [wec, data, w] = co_await s.async_watch_data(node.path, tuple);
        EXPECT_FALSE(wec);
        expire_session(s, shared_hosts());
        EXPECT_EQ(co_await wait_for_state(s, session_state::expired, 10s), session_state::expired);
        auto [watch_ec, event] = co_await w.async_wait(tuple);
        EXPECT_EQ(watch_ec, zk_errc::session_expired);
        EXPECT_FALSE(node_exists(shared_hosts(), node.path));
        auto [later, ignored] = co_await s.async_get_data(root, tuple);
        EXPECT_EQ(later, zk_errc::session_expired);
        EXPECT_TRUE(is_session_lost(later));
        delete_node(shared_hosts(), root);
    });
}

TEST(Session, SurvivesEnsembleLeaderLoss) {
    zk_server ensemble(3);
    with_sessions(
        {config_for(ensemble.hosts(), 6000ms)},
        [&](session& s) -> asio::awaitable<void> {
            const auto id = s.session_id();
            auto [cec, node] = co_await s.async_create(std::string("/survivor"), std::string("x"),
                                                       create_mode::ephemeral, tuple);
            EXPECT_FALSE(cec);
            const int leader = ensemble.leader();
            EXPECT_GT(leader, 0);
            ensemble.kill(leader);
            // Whatever server we were on, the session must carry on (the ensemble re-elects).
            auto [ec, data] = co_await s.async_get_data(std::string("/survivor"), tuple);
            for (int i = 0; i < 100 && is_retryable(ec); ++i) {
                co_await wait_for_state(s, session_state::connected, 5s);
                std::tie(ec, data) = co_await s.async_get_data(std::string("/survivor"), tuple);
            }
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_EQ(data.data, "x");
            EXPECT_EQ(s.session_id(), id);
            EXPECT_EQ(s.state(), session_state::connected);
            co_await s.async_close(asio::use_awaitable);
        },
        60s);
}

TEST(Session, ChrootConfinesPaths) {
    const auto root = fresh_root();
    create_node(shared_hosts(), "/t", "");  // may exist already
    with_sessions([&](asio::io_context& ioc, session& plain) -> asio::awaitable<void> {
        co_await plain.async_create(root, std::string(), create_mode::persistent, tuple);
        session chrooted(ioc.get_executor(), config_for(shared_hosts() + root));
        co_await chrooted.async_connect(asio::use_awaitable);
        auto [ec, node] = co_await chrooted.async_create(std::string("/inside"), std::string("v"),
                                                         create_mode::persistent, tuple);
        EXPECT_FALSE(ec);
        EXPECT_EQ(node.path, "/inside");
        auto [gec, data] = co_await plain.async_get_data(root + "/inside", tuple);
        EXPECT_FALSE(gec);
        EXPECT_EQ(data.data, "v");
        co_await plain.async_remove(root + "/inside", -1, tuple);
        co_await plain.async_remove(root, -1, tuple);
        // A chroot that does not exist is named as the cause at once, not as "no node" later.
        session lost(ioc.get_executor(), config_for(shared_hosts() + root + "/missing"));
        auto [cec] = co_await lost.async_connect(tuple);
        EXPECT_EQ(cec, errc::chroot_missing) << cec.message();
        EXPECT_EQ(lost.state(), session_state::closed);
    });
}

TEST(Session, ConnectsToAnIpv6Address) {
    // The test server listens on 127.0.0.1 only: a proxy on [::1] leads to it.
    tcp_proxy proxy(shared_hosts(), "::1");
    EXPECT_EQ(proxy.address().front(), '[');
    with_sessions({config_for(proxy.address())}, [&](session& s) -> asio::awaitable<void> {
        const auto root = fresh_root();
        auto [cec, created] =
            co_await s.async_create(root, std::string(), create_mode::ephemeral, tuple);
        EXPECT_FALSE(cec) << cec.message();
        EXPECT_TRUE(node_exists(shared_hosts(), root));
        // set_servers takes the same form.
        EXPECT_FALSE(s.set_servers(proxy.address() + "," + shared_hosts()));
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Session, DigestAuthAndAclDenial) {
    const auto root = fresh_root();
    auto alice_config = config_for(shared_hosts());
    alice_config.digest_credentials = "alice:secret";
    alice_config.acl = creator_all_acl();
    const session_config configs[] = {alice_config};
    with_sessions(configs, [&](asio::io_context& ioc, session& alice) -> asio::awaitable<void> {
        co_await alice.async_create(std::string("/t"), std::string(), create_mode::persistent,
                                    tuple);
        auto [cec, node] = co_await alice.async_create(root, std::string("private"),
                                                       create_mode::persistent, tuple);
        CO_REQUIRE(!cec);

        auto read_as = [&](std::string credentials) -> asio::awaitable<error_code> {
            auto config = config_for(shared_hosts());
            config.digest_credentials = std::move(credentials);
            session other(ioc.get_executor(), config);
            co_await other.async_connect(asio::use_awaitable);
            auto [ec, data] = co_await other.async_get_data(root, tuple);
            co_return ec;
        };
        EXPECT_FALSE(co_await read_as("alice:secret"));
        EXPECT_EQ(co_await read_as("alice:wrong"), zk_errc::no_auth);
        EXPECT_EQ(co_await read_as("bob:secret"), zk_errc::no_auth);
        EXPECT_EQ(co_await read_as(""), zk_errc::no_auth);
        auto [rec] = co_await alice.async_remove(root, -1, tuple);
        EXPECT_FALSE(rec);
    });
}

TEST(Session, EveryCompletionTokenKind) {
    asio::io_context ioc;
    session s(ioc.get_executor(), config_for(shared_hosts()));
    // Callback.
    error_code connect_ec = make_error_code(errc::not_connected);
    bool connected = false;
    s.async_connect([&](error_code ec) {
        connect_ec = ec;
        connected = true;
    });
    // An open session keeps its io_context busy (its socket wait): run until the callback ran.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!connected && std::chrono::steady_clock::now() < deadline) {
        ioc.run_one_for(100ms);
    }
    ASSERT_TRUE(connected);
    ASSERT_FALSE(connect_ec);
    // use_future, from another thread while the io_context runs.
    auto work = asio::make_work_guard(ioc);
    std::thread runner([&] { ioc.run(); });
    struct stop_runner {
        asio::io_context& ioc;
        std::thread& runner;
        ~stop_runner() {
            ioc.stop();
            runner.join();
        }
    } stop{ioc, runner};
    auto future = s.async_exists(std::string("/"), asio::use_future);
    ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
    auto root_stat = future.get();
    EXPECT_TRUE(root_stat.has_value());
    // deferred: nothing happens until the deferred operation is invoked.
    auto deferred_op = s.async_get_children(std::string("/"));
    auto deferred_future = std::move(deferred_op)(asio::use_future);
    ASSERT_EQ(deferred_future.wait_for(10s), std::future_status::ready);
    EXPECT_FALSE(deferred_future.get().names.empty());
    // use_awaitable with exceptions, and as_tuple without.
    auto awaited = asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<bool> {
            bool threw = false;
            try {
                co_await s.async_get_data(std::string("/no/such/node"), asio::use_awaitable);
            } catch (const boost::system::system_error& e) {
                threw = e.code() == zk_errc::no_node;
            }
            auto [ec, data] = co_await s.async_get_data(std::string("/no/such/node"), tuple);
            co_return threw&& ec == zk_errc::no_node;
        },
        asio::use_future);
    ASSERT_EQ(awaited.wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(awaited.get());
    auto closed = s.async_close(asio::use_future);
    ASSERT_EQ(closed.wait_for(10s), std::future_status::ready);
}

TEST(Session, CancellingAPendingWatchRemovesIt) {
    with_sessions([](session& s) -> asio::awaitable<void> {
        const auto path = fresh_root() + "-absent";
        auto [ec, st, w] = co_await s.async_watch_exists(path, tuple);
        CO_REQUIRE(!ec);
        EXPECT_FALSE(st.has_value());
        CO_REQUIRE(w.armed());
        asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
        auto r = co_await (w.async_wait(tuple) || timer.async_wait(tuple));
        EXPECT_EQ(r.index(), 1u);  // the timer won, the wait was cancelled
        EXPECT_FALSE(w.armed());
        auto [again, event] = co_await w.async_wait(tuple);
        EXPECT_EQ(again, errc::invalid_argument);  // a watch is consumed once
        // The server forgot the watch: creating the node reaches nobody, and nothing is pending
        // in the client once the removal is answered. (Its parent may not exist yet when this
        // test runs first.)
        create_node(shared_hosts(), "/t", "");
        create_node(shared_hosts(), path, "");
        delete_node(shared_hosts(), path);
        co_await s.async_close(asio::use_awaitable);
        EXPECT_EQ(s.pending_operations(), 0u);
    });
}

TEST(Session, AServerThatNoLongerKnowsTheSessionEndsItAfterTheTimeoutWithOneError) {
    // A server restarted with its data wiped refuses the old session on every reconnection (the
    // client has seen transactions the server has not). Holders are told of the loss at the
    // local deadline; waiting acquisitions and campaigns must not wait for good: after the
    // session timeout the session ends as expired, and every waiter gets that one error.
    zk_server server;
    with_sessions(
        {config_for(server.hosts(), 2000ms), config_for(server.hosts(), 2000ms)},
        [&](session& holder_session, session& s) -> asio::awaitable<void> {
            const auto root = fresh_root();
            mutex held(holder_session, root + "/lock");
            auto holder = co_await held.async_lock(asio::use_awaitable);
            leader_election other(holder_session, root + "/election", "first");
            auto leading = co_await other.async_campaign(asio::use_awaitable);
            int settled = 0;
            error_code lock_ec, campaign_ec;
            mutex m(s, root + "/lock");
            m.async_lock([&](error_code ec, lock) {
                lock_ec = ec;
                ++settled;
            });
            leader_election e(s, root + "/election", "second");
            e.async_campaign([&](error_code ec, leadership) {
                campaign_ec = ec;
                ++settled;
            });
            // The lock's waiter watches the node ahead and its own; the candidate the one ahead.
            CO_REQUIRE(co_await eventually([&] { return s.pending_operations() == 3u; }));
            const auto wiped = std::chrono::steady_clock::now();
            server.wipe(1);
            CO_REQUIRE(co_await eventually([&] { return settled == 2; }, 10s));
            EXPECT_LT(std::chrono::steady_clock::now() - wiped, 6s);
            EXPECT_EQ(lock_ec, zk_errc::session_expired) << lock_ec.message();
            EXPECT_EQ(campaign_ec, zk_errc::session_expired) << campaign_ec.message();
            EXPECT_EQ(s.state(), session_state::expired);
            EXPECT_FALSE(holder.owns());
            EXPECT_FALSE(leading.is_leader());
            EXPECT_EQ(s.pending_operations(), 0u);
        },
        40s);
}

TEST(Session, AnAbandonedWatchLeavesNothingPendingNorOnTheServer) {
    with_sessions([](session& s) -> asio::awaitable<void> {
        const auto path = fresh_root() + "-watched";
        create_node(shared_hosts(), "/t", "");  // its parent, when this test runs alone
        {
            auto [ec, st, w] = co_await s.async_watch_exists(path, tuple);  // absent: armed
            CO_REQUIRE(!ec && w.armed());
        }  // dropped without waiting
        EXPECT_TRUE(co_await settled(s));
        auto [cec, node] =
            co_await s.async_create(path, std::string("x"), create_mode::ephemeral, tuple);
        CO_REQUIRE(!cec);
        {
            auto [ec, data, w] = co_await s.async_watch_data(path, tuple);
            CO_REQUIRE(!ec && w.armed());
            auto [cec, kids, cw] = co_await s.async_watch_children(path, tuple);
            CO_REQUIRE(!cec && cw.armed());
        }
        EXPECT_TRUE(co_await settled(s));
        // Two watches on one path: dropping one keeps the other armed, on the server too.
        auto [e1, d1, first] = co_await s.async_watch_data(path, tuple);
        auto [e2, d2, second] = co_await s.async_watch_data(path, tuple);
        CO_REQUIRE(!e1 && !e2);
        first = watch{};
        CO_REQUIRE(co_await eventually([&] { return s.pending_operations() == 1u; }));
        // Polled: one reading of the four-letter word can come back short under load.
        EXPECT_TRUE(co_await eventually(
            [&] { return server_watches(shared_hosts(), s.session_id()) == 1u; }));
        co_await s.async_set_data(path, std::string("y"), -1, tuple);
        auto [wec, event] = co_await second.async_wait(tuple);
        EXPECT_FALSE(wec);
        EXPECT_EQ(event.type, watch_event_type::changed);
        EXPECT_TRUE(co_await settled(s));
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Session, BadInputGetsClearErrors) {
    with_sessions([](asio::io_context& ioc, session& s) -> asio::awaitable<void> {
        {
            auto config = config_for("127.0.0.1:1");
            config.connect_timeout = 500ms;
            session unreachable(ioc.get_executor(), config);
            auto [ec] = co_await unreachable.async_connect(tuple);
            EXPECT_EQ(ec, errc::connect_timeout);
            EXPECT_EQ(unreachable.state(), session_state::closed);
        }
        for (const char* hosts : {"", "nohostport", "a:99999"}) {
            session bad(ioc.get_executor(), config_for(hosts));
            auto [ec] = co_await bad.async_connect(tuple);
            EXPECT_EQ(ec, errc::invalid_connect_string) << hosts;
        }
        for (const char* path : {"", "relative", "/trailing/", "/double//slash", "/dot/."}) {
            auto [ec, node] = co_await s.async_create(std::string(path), std::string(),
                                                      create_mode::persistent, tuple);
            EXPECT_EQ(ec, errc::invalid_path) << path;
        }
        auto [nec, nd] = co_await s.async_get_data(std::string("/a\0b", 4), tuple);
        EXPECT_EQ(nec, errc::invalid_path);
        co_await s.async_close(asio::use_awaitable);
    });
}

}  // namespace
}  // namespace zkr::test
