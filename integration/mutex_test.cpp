// zkr::mutex against a real server, one test per point of the algorithm (docs/mutex.md,
// "Guarantees").
#include "log_capture.hpp"
#include "tcp_proxy.hpp"
#include "test_support.hpp"

#include <zkr/log.hpp>
#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <iterator>
#include <regex>
#include <sstream>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

TEST(Mutex, UncontendedAcquireCreatesOneCuratorStyleNodeAndReleaseRemovesIt) {
    const auto dir = fresh_root() + "/lock";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        auto lk = co_await m.async_lock(asio::use_awaitable);
        EXPECT_TRUE(lk.owns());
        const std::regex name(
            R"(_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-lock-\d{10})");
        EXPECT_TRUE(std::regex_match(lk.path().substr(dir.size() + 1), name)) << lk.path();
        auto [ec, data] = co_await s.async_get_data(lk.path(), tuple);
        EXPECT_FALSE(ec);
        EXPECT_EQ(lk.fencing_token(), data.stat.czxid);
        EXPECT_EQ(data.stat.ephemeral_owner, s.session_id());
        EXPECT_NE(data.data.find(':'), std::string::npos);  // "<host>:<pid>"
        auto [rec] = co_await lk.async_release(tuple);
        EXPECT_FALSE(rec);
        EXPECT_FALSE(lk.owns());
        EXPECT_EQ(children_count(dir), 0u);
        auto [again] = co_await lk.async_release(tuple);
        EXPECT_EQ(again, errc::not_owner);
        EXPECT_TRUE(co_await settled(s));  // nothing pending, no watch left
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, UncontendedAcquireIsTwoRequestsAndReleaseOne) {
    zk_server* server = shared_server();
    if (server == nullptr) {
        GTEST_FAIL() << "needs the project's own server (unset ZKR_TEST_HOSTS)";
    }
    const auto dir = fresh_root() + "/lock";
    with_sessions({config_for(shared_hosts(), 30000ms)}, [&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        co_await m.async_lock(asio::use_awaitable);  // creates the parents; released at once
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 0; }));
        // The server counts every packet, pings included: the minimum of a few trials is the
        // cost of the operation itself.
        std::int64_t acquire = 1 << 20, release = 1 << 20;
        for (int trial = 0; trial < 3; ++trial) {
            const auto before = server->mntr_value("zk_packets_received");
            auto lk = co_await m.async_lock(asio::use_awaitable);
            const auto acquired = server->mntr_value("zk_packets_received");
            co_await lk.async_release(asio::use_awaitable);
            const auto released = server->mntr_value("zk_packets_received");
            // Each mntr query counts as one packet itself.
            acquire = std::min(acquire, acquired - before - 1);
            release = std::min(release, released - acquired - 1);
        }
        EXPECT_EQ(acquire, 2);
        EXPECT_EQ(release, 1);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, KazooNodesAreContendersAndForeignNodesAreIgnored) {
    const auto root = fresh_root();
    const auto dir = root + "/lock";
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), root, "");
    create_node(shared_hosts(), dir, "");
    create_node(shared_hosts(), dir + "/not-a-contender", "");
    std::string kazoo;
    create_node(shared_hosts(), dir + "/0123456789abcdef0123456789abcdef__lock__", "kazoo", true,
                &kazoo);
    with_sessions([&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        auto busy = co_await m.async_try_lock(asio::use_awaitable);
        EXPECT_FALSE(busy.owns());           // kazoo holds it
        EXPECT_EQ(children_count(dir), 2u);  // try_lock left nothing behind
        delete_node(shared_hosts(), kazoo);
        auto free = co_await m.async_try_lock(asio::use_awaitable);
        EXPECT_TRUE(free.owns());  // the foreign node does not block
        co_await free.async_release(asio::use_awaitable);
        EXPECT_EQ(list_children(shared_hosts(), dir), std::vector<std::string>{"not-a-contender"});
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, EachForeignNodeIsReportedOnceNotAtEveryListing) {
    const auto root = fresh_root();
    const auto dir = root + "/lock";
    create_node(shared_hosts(), "/t", "");
    create_node(shared_hosts(), root, "");
    create_node(shared_hosts(), dir, "");
    constexpr int foreign = 20;
    for (int i = 0; i < foreign; ++i) {
        create_node(shared_hosts(), dir + "/stray-" + std::to_string(i), "");
    }
    // Count zkr.mutex's warnings about them while the lock is taken over and over.
    log_capture mutex_log("zkr.mutex");
    with_sessions([&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        for (int i = 0; i < 10; ++i) {
            auto lk = co_await m.async_lock(asio::use_awaitable);
            co_await lk.async_release(asio::use_awaitable);
        }
        co_await s.async_close(asio::use_awaitable);
    });
    const auto warnings = mutex_log.count("ignoring foreign node");
    EXPECT_EQ(warnings, std::size_t(foreign));
    for (int i = 0; i < foreign; ++i) {
        delete_node(shared_hosts(), dir + "/stray-" + std::to_string(i));
    }
}

TEST(Mutex, WaitersWatchOnlyTheirPredecessorAndOneReleaseWakesOne) {
    zk_server* server = shared_server();
    if (server == nullptr) {
        GTEST_FAIL() << "needs the project's own server (unset ZKR_TEST_HOSTS)";
    }
    const auto dir = fresh_root() + "/lock";
    constexpr int waiters = 5;
    with_sessions([&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        auto holder = co_await m.async_lock(asio::use_awaitable);
        const auto base_watches = server->mntr_value("zk_watch_count");
        std::vector<lock> locks(waiters);
        std::vector<int> order;
        for (int i = 0; i < waiters; ++i) {
            m.async_lock([&, i](error_code ec, lock l) {
                EXPECT_FALSE(ec);
                locks[i] = std::move(l);
                order.push_back(i);
            });
            // Queue them in a known order.
            CO_REQUIRE(
                co_await eventually([&] { return children_count(dir) == std::size_t(i + 2); }));
        }
        // Each waiter watches its predecessor; the second in line its own node too, which the
        // one behind it watches (the server counts one watch per node and connection).
        CO_REQUIRE(co_await eventually(
            [&] { return server->mntr_value("zk_watch_count") == base_watches + waiters; }));
        co_await holder.async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return order.size() == 1; }));
        EXPECT_EQ(order.front(), 0);
        // Only the first waiter moved: the others still wait, each on its own predecessor.
        EXPECT_EQ(server->mntr_value("zk_watch_count"), base_watches + waiters - 1);
        EXPECT_EQ(order.size(), 1u);
        for (int i = 0; i < waiters; ++i) {
            CO_REQUIRE(co_await eventually([&] { return order.size() == std::size_t(i + 1); }));
            co_await locks[order.back()].async_release(asio::use_awaitable);
        }
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));  // FIFO
        EXPECT_EQ(children_count(dir), 0u);
        EXPECT_TRUE(co_await settled(s));  // nothing pending, no watch left
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, AWaiterGivingUpMidQueueMakesTheOneBehindWatchTheNextNodeAhead) {
    zk_server* server = shared_server();
    if (server == nullptr) {
        GTEST_FAIL() << "needs the project's own server (unset ZKR_TEST_HOSTS)";
    }
    const auto dir = fresh_root() + "/lock";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        auto holder = co_await m.async_lock(asio::use_awaitable);
        const auto base_watches = server->mntr_value("zk_watch_count");
        // Three waiters queued in a known order; the middle one will give up.
        std::vector<lock> locks(3);
        std::vector<error_code> results(3);
        std::vector<int> order;
        asio::cancellation_signal give_up;
        for (int i = 0; i < 3; ++i) {
            auto h = [&, i](error_code ec, lock l) {
                results[i] = ec;
                locks[i] = std::move(l);
                order.push_back(i);
            };
            if (i == 1) {
                m.async_lock(asio::bind_cancellation_slot(give_up.slot(), h));
            } else {
                m.async_lock(h);
            }
            CO_REQUIRE(
                co_await eventually([&] { return children_count(dir) == std::size_t(i + 2); }));
        }
        CO_REQUIRE(co_await eventually(
            [&] { return server->mntr_value("zk_watch_count") == base_watches + 3; }));
        give_up.emit(asio::cancellation_type::terminal);
        CO_REQUIRE(co_await eventually([&] { return order.size() == 1; }));
        EXPECT_EQ(order.front(), 1);
        EXPECT_EQ(results[1], asio::error::operation_aborted);
        // The last waiter saw its predecessor go, listed again and now watches the first
        // waiter's node: still one watch per waiter, and nobody acquired.
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 3; }));
        CO_REQUIRE(co_await eventually(
            [&] { return server->mntr_value("zk_watch_count") == base_watches + 2; }));
        EXPECT_EQ(order.size(), 1u);
        co_await holder.async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return order.size() == 2; }));
        EXPECT_EQ(order.back(), 0);
        co_await locks[0].async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return order.size() == 3; }));
        EXPECT_EQ(order.back(), 2);
        EXPECT_FALSE(results[0]);
        EXPECT_FALSE(results[2]);
        co_await locks[2].async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(dir), 0u);
        EXPECT_TRUE(co_await settled(s));  // nothing pending, no watch left
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, HandOffToTheSecondInLineNeedsNoListing) {
    zk_server* server = shared_server();
    if (server == nullptr) {
        GTEST_FAIL() << "needs the project's own server (unset ZKR_TEST_HOSTS)";
    }
    const auto dir = fresh_root() + "/lock";
    with_sessions({config_for(shared_hosts(), 30000ms), config_for(shared_hosts(), 30000ms)},
                  [&](session& a, session& b) -> asio::awaitable<void> {
                      mutex ma(a, dir), mb(b, dir);
                      std::int64_t best = 1 << 20;
                      for (int trial = 0; trial < 3; ++trial) {
                          auto first = co_await ma.async_lock(asio::use_awaitable);
                          const auto watches = server->mntr_value("zk_watch_count");
                          lock second;
                          mb.async_lock([&](error_code, lock l) { second = std::move(l); });
                          CO_REQUIRE(co_await eventually(
                              [&] { return server->mntr_value("zk_watch_count") == watches + 2; }));
                          const auto before = server->mntr_value("zk_packets_received");
                          co_await first.async_release(asio::use_awaitable);
                          CO_REQUIRE(co_await eventually([&] { return second.owns(); }));
                          best = std::min(best,
                                          server->mntr_value("zk_packets_received") - before - 1);
                          EXPECT_GT(second.fencing_token(), first.fencing_token());
                          co_await second.async_release(asio::use_awaitable);
                      }
                      // The release's delete, and nothing else: no listing, and no check that the
                      // waiter's node is still there (the watch on it, armed while it waited,
                      // would have told).
                      EXPECT_EQ(best, 1);
                      co_await a.async_close(asio::use_awaitable);
                      co_await b.async_close(asio::use_awaitable);
                  });
}

TEST(Mutex, CancellationTimeoutAndTryLockLeaveNothingBehind) {
    const auto dir = fresh_root() + "/lock";
    with_sessions([&](asio::io_context& ioc, session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        auto holder = co_await m.async_lock(asio::use_awaitable);
        // Timeout, the || idiom.
        asio::steady_timer timer(ioc, 200ms);
        auto r = co_await (m.async_lock(tuple) || timer.async_wait(tuple));
        EXPECT_EQ(r.index(), 1u);
        EXPECT_EQ(children_count(dir), 1u);
        // Explicit per-operation cancellation, each type.
        for (auto type : {asio::cancellation_type::terminal, asio::cancellation_type::partial,
                          asio::cancellation_type::total}) {
            asio::cancellation_signal signal;
            error_code result;
            bool done = false;
            m.async_lock(asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, lock l) {
                result = ec;
                done = !l.owns();
            }));
            CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));
            signal.emit(type);
            CO_REQUIRE(co_await eventually([&] { return done; }));
            EXPECT_EQ(result, asio::error::operation_aborted);
            EXPECT_EQ(children_count(dir), 1u);
        }
        auto busy = co_await m.async_try_lock(asio::use_awaitable);
        EXPECT_FALSE(busy.owns());
        EXPECT_EQ(children_count(dir), 1u);
        co_await holder.async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(dir), 0u);
        EXPECT_TRUE(co_await settled(s));  // nothing pending, no watch left
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, DiscardedHandleReleasesAtOnce) {
    const auto dir = fresh_root() + "/lock";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        { auto discarded = co_await m.async_lock(asio::use_awaitable); }
        EXPECT_TRUE(co_await eventually([&] { return children_count(dir) == 0; }));
        auto again = co_await m.async_try_lock(asio::use_awaitable);
        EXPECT_TRUE(again.owns());
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, ConnectionLossWhileWaitingIsSurvived) {
    const auto dir = fresh_root() + "/lock";
    tcp_proxy proxy(shared_hosts());
    with_sessions(
        {config_for(shared_hosts()), config_for(proxy.address(), 8000ms)},
        [&](session& a, session& b) -> asio::awaitable<void> {
            mutex ma(a, dir), mb(b, dir);
            auto holder = co_await ma.async_lock(asio::use_awaitable);
            lock waiter;
            error_code waiter_ec;
            mb.async_lock([&](error_code ec, lock l) {
                waiter_ec = ec;
                waiter = std::move(l);
            });
            CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));
            proxy.cut();
            CO_REQUIRE(co_await eventually([&] { return b.state() == session_state::suspended; }));
            proxy.restore();
            CO_REQUIRE(co_await eventually([&] { return b.state() == session_state::connected; }));
            co_await holder.async_release(asio::use_awaitable);
            CO_REQUIRE(co_await eventually([&] { return waiter.owns(); }));
            EXPECT_FALSE(waiter_ec);
            EXPECT_EQ(children_count(dir), 1u);  // the same node: none was added or lost
            co_await waiter.async_release(asio::use_awaitable);
            co_await a.async_close(asio::use_awaitable);
            co_await b.async_close(asio::use_awaitable);
        });
}

// The second in line watches its own node as well as the one ahead, so that the hand-off needs
// no question to the server. If both nodes go while it is disconnected, the C client re-arms
// both watches on reconnecting and the server fires them in its own order: the node ahead's may
// come first. A watch that lived through a disconnection proves nothing, and the waiter asks.
TEST(Mutex, AWaiterWhoseNodeWentWhileDisconnectedDoesNotTakeTheHandOff) {
    zk_server* server = shared_server();
    if (server == nullptr) {
        GTEST_FAIL() << "needs the project's own server (unset ZKR_TEST_HOSTS)";
    }
    const auto dir = fresh_root() + "/lock";
    tcp_proxy proxy(shared_hosts());
    with_sessions(
        {config_for(shared_hosts()), config_for(proxy.address(), 8000ms)},
        [&](session& a, session& b) -> asio::awaitable<void> {
            mutex ma(a, dir), mb(b, dir);
            auto holder = co_await ma.async_lock(asio::use_awaitable);
            const auto watches = server->mntr_value("zk_watch_count");
            lock waiter;
            error_code waiter_ec;
            bool done = false;
            mb.async_lock([&](error_code ec, lock l) {
                waiter_ec = ec;
                waiter = std::move(l);
                done = true;
            });
            // Both watches armed: the node ahead's and the waiter's own.
            CO_REQUIRE(co_await eventually(
                [&] { return server->mntr_value("zk_watch_count") == watches + 2; }));
            std::string waiter_node;
            for (const auto& child : list_children(shared_hosts(), dir)) {
                if (dir + "/" + child != holder.path()) {
                    waiter_node = dir + "/" + child;
                }
            }
            CO_REQUIRE(!waiter_node.empty());
            proxy.cut();
            CO_REQUIRE(co_await eventually([&] { return b.state() == session_state::suspended; }));
            delete_node(shared_hosts(), waiter_node);
            co_await holder.async_release(asio::use_awaitable);
            proxy.restore();
            CO_REQUIRE(co_await eventually([&] { return done; }));
            EXPECT_EQ(waiter_ec, errc::lock_node_deleted);
            EXPECT_FALSE(waiter.owns());
            EXPECT_EQ(children_count(dir), 0u);
            co_await a.async_close(asio::use_awaitable);
            co_await b.async_close(asio::use_awaitable);
        });
}

TEST(Mutex, ConnectionLossAroundTheCreateNeverLeaksOrDuplicates) {
    const auto dir = fresh_root() + "/lock";
    tcp_proxy proxy(shared_hosts());
    with_sessions(
        {config_for(proxy.address(), 8000ms)},
        [&](session& s) -> asio::awaitable<void> {
            mutex m(s, dir);
            co_await m.async_lock(asio::use_awaitable);  // parents exist from here on
            for (int i = 0; i < 10; ++i) {
                lock l;
                error_code result = make_error_code(errc::not_connected);
                m.async_lock([&](error_code ec, lock got) {
                    result = ec;
                    l = std::move(got);
                });
                // Cut the connection while the create is in flight, or a little later: the
                // i-th round cuts after i polls of the io_context.
                for (int spin = 0; spin < i; ++spin) {
                    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
                }
                proxy.cut();
                co_await eventually(
                    [&] { return s.state() == session_state::suspended || l.owns(); }, 2s);
                proxy.restore();
                CO_REQUIRE(co_await eventually([&] { return l.owns(); }));
                EXPECT_FALSE(result);
                EXPECT_EQ(children_count(dir), 1u) << "iteration " << i;
                co_await l.async_release(asio::use_awaitable);
                EXPECT_EQ(children_count(dir), 0u);
            }
            co_await s.async_close(asio::use_awaitable);
        },
        60s);
}

TEST(Mutex, CreateDoneByTheServerButUnansweredIsAdoptedNotDuplicated) {
    const auto dir = fresh_root() + "/lock";
    tcp_proxy proxy(shared_hosts());
    with_sessions({config_for(proxy.address(), 8000ms)}, [&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        co_await m.async_lock(asio::use_awaitable);  // parents exist from here on
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 0; }));
        proxy.drop_replies();
        lock l;
        m.async_lock([&](error_code, lock got) { l = std::move(got); });
        // The server has created our node; we never heard back.
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 1; }));
        const auto created = list_children(shared_hosts(), dir).front();
        proxy.cut();
        proxy.restore();
        CO_REQUIRE(co_await eventually([&] { return l.owns(); }));
        EXPECT_EQ(l.path(), dir + "/" + created);  // adopted, not created again
        EXPECT_EQ(children_count(dir), 1u);
        co_await l.async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(dir), 0u);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, CancelledWhileDisconnectedCompletesAtOnceAndCleansUpLater) {
    const auto dir = fresh_root() + "/lock";
    tcp_proxy proxy(shared_hosts());
    with_sessions({config_for(proxy.address(), 8000ms)}, [&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        co_await m.async_lock(asio::use_awaitable);  // parents exist from here on
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 0; }));
        proxy.drop_replies();
        asio::cancellation_signal signal;
        bool done = false;
        error_code result;
        m.async_lock(asio::bind_cancellation_slot(signal.slot(), [&](error_code ec, lock) {
            result = ec;
            done = true;
        }));
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 1; }));
        proxy.cut();  // the create's answer is lost and the connection is down
        CO_REQUIRE(co_await eventually([&] { return s.state() == session_state::suspended; }));
        signal.emit(asio::cancellation_type::terminal);
        CO_REQUIRE(co_await eventually([&] { return done; }, 2s));  // no waiting for the server
        EXPECT_EQ(result, asio::error::operation_aborted);
        proxy.restore();
        // Back online, the node nobody will use is found by its uuid and deleted.
        EXPECT_TRUE(co_await eventually([&] { return children_count(dir) == 0; }));
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, SessionExpiryLosesTheLockAndAnotherSessionAcquires) {
    const auto dir = fresh_root() + "/lock";
    with_sessions<2>([&](session& a, session& b) -> asio::awaitable<void> {
        mutex ma(a, dir), mb(b, dir);
        auto held = co_await ma.async_lock(asio::use_awaitable);
        error_code lost;
        held.async_wait_lost([&](error_code ec) { lost = ec; });
        lock next;
        mb.async_lock([&](error_code, lock l) { next = std::move(l); });
        expire_session(a, shared_hosts());
        CO_REQUIRE(co_await eventually([&] { return static_cast<bool>(lost); }));
        EXPECT_EQ(lost, zk_errc::session_expired);
        EXPECT_FALSE(held.owns());
        EXPECT_EQ(held.lost_reason(), zk_errc::session_expired);
        CO_REQUIRE(co_await eventually([&] { return next.owns(); }));
        EXPECT_GT(next.fencing_token(), held.fencing_token());
        co_await next.async_release(asio::use_awaitable);
        co_await b.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, DeletingOurNodeByHandLosesTheLock) {
    const auto dir = fresh_root() + "/lock";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        auto held = co_await m.async_lock(asio::use_awaitable);
        error_code lost;
        held.async_wait_lost([&](error_code ec) { lost = ec; });
        co_await pause_for(50ms);  // not synchronisation: the deletion must work at any moment
        delete_node(shared_hosts(), held.path());
        CO_REQUIRE(co_await eventually([&] { return static_cast<bool>(lost); }));
        EXPECT_EQ(lost, errc::lock_node_deleted);
        EXPECT_FALSE(held.owns());
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, GuardedWriteIsRejectedByTheServerOnceTheLockIsGone) {
    const auto root = fresh_root();
    const auto dir = root + "/lock";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        auto held = co_await m.async_lock(asio::use_awaitable);
        const auto data_path = root + "/data";
        co_await s.async_create(data_path, std::string("0"), create_mode::persistent, tuple);
        std::vector<op> write1{op::set_data(data_path, "1")};
        auto [ec1, r1] = co_await held.async_guarded_multi(std::move(write1), tuple);
        EXPECT_FALSE(ec1);
        EXPECT_EQ(r1.size(), 1u);
        delete_node(shared_hosts(), held.path());  // the lock is gone; we have not heard yet
        std::vector<op> write2{op::set_data(data_path, "2")};
        auto [ec2, r2] = co_await held.async_guarded_multi(std::move(write2), tuple);
        EXPECT_EQ(ec2, errc::lock_lost);
        EXPECT_FALSE(held.owns());
        auto [gec, data] = co_await s.async_get_data(data_path, tuple);
        EXPECT_EQ(data.data, "1");
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, FencingTokensIncreaseAcrossHolders) {
    const auto dir = fresh_root() + "/lock";
    with_sessions<3>([&](session& a, session& b, session& c) -> asio::awaitable<void> {
        const std::array<session*, 3> sessions{&a, &b, &c};
        std::vector<mutex> mutexes;
        for (auto* s : sessions) {
            mutexes.emplace_back(*s, dir);
        }
        std::int64_t last = 0;
        for (int round = 0; round < 12; ++round) {
            auto l = co_await mutexes[round % 3].async_lock(asio::use_awaitable);
            EXPECT_GT(l.fencing_token(), last);
            last = l.fencing_token();
            co_await l.async_release(asio::use_awaitable);
        }
        for (auto& s : sessions) {
            co_await s->async_close(asio::use_awaitable);
        }
    });
}

TEST(Mutex, ManyConcurrentAcquirersOnOneObjectTakeTurns) {
    const auto dir = fresh_root() + "/lock";
    with_sessions(
        [&](asio::io_context& ioc, session& s) -> asio::awaitable<void> {
            mutex m(s, dir);
            int inside = 0, max_inside = 0, finished = 0, sections = 0;
            for (int worker = 0; worker < 8; ++worker) {
                asio::co_spawn(
                    ioc,
                    [&]() -> asio::awaitable<void> {
                        for (int i = 0; i < 10; ++i) {
                            auto l = co_await m.async_lock(asio::use_awaitable);
                            max_inside = std::max(max_inside, ++inside);
                            co_await pause_for(1ms);
                            --inside;
                            ++sections;
                            co_await l.async_release(asio::use_awaitable);
                        }
                        ++finished;
                    },
                    asio::detached);
            }
            CO_REQUIRE(co_await eventually([&] { return finished == 8; }, 30s));
            EXPECT_EQ(max_inside, 1);
            EXPECT_EQ(sections, 80);
            EXPECT_EQ(children_count(dir), 0u);
            EXPECT_TRUE(co_await settled(s));  // nothing pending, no watch left
            co_await s.async_close(asio::use_awaitable);
        },
        40s);
}

TEST(Mutex, StrictPolicyLosesOnDisconnectAndCleansUpAfterReconnect) {
    const auto dir = fresh_root() + "/lock";
    tcp_proxy proxy(shared_hosts());
    with_sessions({config_for(proxy.address(), 8000ms)}, [&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir, mutex_options{loss_policy::on_suspend, "strict"});
        auto held = co_await m.async_lock(asio::use_awaitable);
        error_code lost;
        held.async_wait_lost([&](error_code ec) { lost = ec; });
        proxy.cut();
        CO_REQUIRE(co_await eventually([&] { return static_cast<bool>(lost); }));
        EXPECT_EQ(lost, errc::session_suspended);
        EXPECT_FALSE(held.owns());
        proxy.restore();
        // Same session back: the node must not linger and block everyone else.
        EXPECT_TRUE(co_await eventually([&] { return children_count(dir) == 0; }));
        EXPECT_EQ(s.state(), session_state::connected);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, LongDisconnectLosesTheLockBeforeTheServerCouldExpireIt) {
    const auto dir = fresh_root() + "/lock";
    tcp_proxy proxy(shared_hosts());
    with_sessions({config_for(proxy.address(), 4000ms)}, [&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        auto held = co_await m.async_lock(asio::use_awaitable);
        error_code lost;
        held.async_wait_lost([&](error_code ec) { lost = ec; });
        const auto cut = std::chrono::steady_clock::now();
        proxy.cut();
        CO_REQUIRE(co_await eventually([&] { return s.state() == session_state::suspended; }));
        EXPECT_FALSE(lost);  // a disconnect alone does not lose the lock by default
        CO_REQUIRE(co_await eventually([&] { return static_cast<bool>(lost); }, 5s));
        EXPECT_EQ(lost, errc::session_deadline);
        // Lost well before the server could expire the session (4 s after our last answer).
        EXPECT_LT(std::chrono::steady_clock::now() - cut, 2500ms);
        proxy.restore();
        EXPECT_TRUE(co_await eventually([&] { return children_count(dir) == 0; }));
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Mutex, BadInputGetsClearErrorsAndLeavesNothing) {
    const auto root = fresh_root();
    // The owner of a directory whose ACL forbids us to create.
    auto owner_config = config_for(shared_hosts());
    owner_config.digest_credentials = "owner:pw";
    owner_config.acl = read_only_for_others_acl();
    const session_config configs[] = {config_for(shared_hosts()), owner_config};
    with_sessions(configs, [&](session& s, session& owner) -> asio::awaitable<void> {
        // A mutex checks its path once, when it is made: it says why then, and each acquisition
        // fails with the same error.
        log_capture mutex_log("zkr.mutex");
        const char* bad_paths[] = {"", "relative", "/", "/trailing/", "/a//b"};
        for (const char* path : bad_paths) {
            mutex bad(s, path);
            for (int attempt = 0; attempt < 2; ++attempt) {
                auto [ec, l] = co_await bad.async_lock(tuple);
                EXPECT_EQ(ec, errc::invalid_path) << path;
            }
        }
        EXPECT_EQ(mutex_log.count("cannot be used"), std::size(bad_paths)) << mutex_log.text();
        co_await s.async_create(std::string("/t"), std::string(), create_mode::persistent, tuple);
        co_await s.async_create(root, std::string(), create_mode::persistent, tuple);
        // A lock directory that is an ephemeral node cannot have children.
        const auto ephemeral = root + "/ephemeral";
        co_await s.async_create(ephemeral, std::string(), create_mode::ephemeral, tuple);
        mutex under_ephemeral(s, ephemeral);
        auto [eec, el] = co_await under_ephemeral.async_lock(tuple);
        EXPECT_EQ(eec, zk_errc::no_children_for_ephemerals);
        // A directory whose ACL forbids us to create.
        const auto guarded = root + "/guarded";
        co_await owner.async_create(guarded, std::string(), create_mode::persistent, tuple);
        mutex denied(s, guarded);
        auto [aec, al] = co_await denied.async_lock(tuple);
        EXPECT_EQ(aec, zk_errc::no_auth);
        EXPECT_EQ(list_children(shared_hosts(), guarded).size(), 0u);
        // A closed session.
        co_await s.async_close(asio::use_awaitable);
        mutex after_close(s, root + "/lock");
        auto [cec, cl] = co_await after_close.async_lock(tuple);
        EXPECT_EQ(cec, errc::session_closed);
        co_await owner.async_close(asio::use_awaitable);
    });
}

}  // namespace
}  // namespace zkr::test
