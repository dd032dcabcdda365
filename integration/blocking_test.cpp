// zkr::blocking: the recipes from plain threads, against the real server.
#include "test_support.hpp"

#include <zkr/blocking.hpp>
#include <zkr/log.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace zkr::test {
namespace {

using namespace std::chrono_literals;

session_config blocking_config(std::chrono::milliseconds session_timeout = 4000ms) {
    return config_for(shared_hosts(), session_timeout);
}

TEST(Blocking, ThreadsTakeTurnsAndLeaveNoNode) {
    const auto dir = fresh_root() + "/lock";
    blocking::client zk(blocking_config());
    blocking::mutex m(zk, dir);
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};
    std::atomic<int> sections{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 10; ++i) {
                auto lk = m.lock();
                if (!lk.owns() || inside.fetch_add(1) != 0) {
                    ++overlaps;
                }
                ++sections;
                inside.fetch_sub(1);
                EXPECT_FALSE(blocking::release(lk));
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(overlaps.load(), 0);
    EXPECT_EQ(sections.load(), 40);
    EXPECT_EQ(list_children(shared_hosts(), dir).size(), 0u);
}

TEST(Blocking, TryLockAndTimeoutDoNotWaitForAHolder) {
    const auto dir = fresh_root() + "/lock";
    blocking::client holder_zk(blocking_config());
    blocking::client waiter_zk(blocking_config());
    blocking::mutex held(holder_zk, dir);
    blocking::mutex m(waiter_zk, dir);
    auto holder = held.lock();
    ASSERT_TRUE(holder.owns());

    error_code ec;
    auto busy = m.try_lock(ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(busy.owns());

    const auto start = std::chrono::steady_clock::now();
    auto late = m.try_lock_for(300ms, ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(late.owns());
    EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
    // The waiter's node went with its timeout: only the holder's is left.
    EXPECT_EQ(list_children(shared_hosts(), dir).size(), 1u);

    // Released from another thread while we wait: acquired within the timeout.
    std::thread releaser([&] { EXPECT_FALSE(blocking::release(holder)); });
    auto taken = m.try_lock_for(30s, ec);
    releaser.join();
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_TRUE(taken.owns());
    EXPECT_GT(taken.fencing_token(), 0);
}

TEST(Blocking, ALockLostWhileAThreadHoldsItIsReported) {
    const auto dir = fresh_root() + "/lock";
    blocking::client zk(blocking_config());
    blocking::mutex m(zk, dir);
    auto lk = m.lock();
    ASSERT_TRUE(lk.owns());
    EXPECT_FALSE(blocking::wait_lost_for(lk, 100ms)) << "still held";

    std::atomic<bool> told{false};
    error_code told_reason;
    lk.async_wait_lost([&](error_code reason) {
        told_reason = reason;
        told = true;
    });
    error_code reason;
    std::thread holder([&] { reason = blocking::wait_lost(lk); });
    expire_session(zk.session(), shared_hosts());
    if (HasFatalFailure()) {
        (void)blocking::release(lk);  // the session may stand: end the holder's wait, not hang
        holder.join();
        return;
    }
    holder.join();
    EXPECT_EQ(reason, zk_errc::session_expired) << reason.message();
    EXPECT_TRUE(wait_until([&] { return told.load(); }));
    EXPECT_EQ(told_reason, zk_errc::session_expired) << told_reason.message();
    EXPECT_FALSE(lk.owns());

    error_code ec;
    auto again = m.lock(ec);
    EXPECT_EQ(ec, zk_errc::session_expired) << ec.message();
    EXPECT_THROW((void)m.lock(), boost::system::system_error);
}

TEST(Blocking, AClientThatCannotConnectThrows) {
    auto config = blocking_config();
    config.hosts = "127.0.0.1:1";
    config.connect_timeout = 200ms;
    try {
        blocking::client zk(config);
        ADD_FAILURE() << "connected to a port where nothing listens";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), errc::connect_timeout) << e.what();
    }
}

TEST(Blocking, PrepareCreatesTheDirectoryAhead) {
    const auto dir = fresh_root() + "/deep/er/lock";
    blocking::client zk(blocking_config());
    blocking::mutex m(zk, dir);
    m.prepare();
    EXPECT_TRUE(node_exists(shared_hosts(), dir));
    m.prepare();  // idempotent
    blocking::mutex bad(zk, "no-slash");
    error_code ec;
    bad.prepare(ec);
    EXPECT_EQ(ec, errc::invalid_path);
    EXPECT_FALSE(node_exists(shared_hosts(), "/no-slash"));
    EXPECT_TRUE(m.lock().owns());
}

TEST(Blocking, LeadersAreToldWhenTheyLeadAndWhenTheyStop) {
    const auto dir = fresh_root() + "/election";
    blocking::client first_zk(blocking_config());
    blocking::client second_zk(blocking_config());
    std::atomic<std::int64_t> first_token{0};
    std::atomic<std::int64_t> second_token{0};
    std::atomic<int> first_lost{0};
    error_code first_reason;
    std::mutex node_mutex;
    std::string first_path;
    auto first_node = [&] {
        std::lock_guard guard(node_mutex);
        return first_path;
    };

    auto first = std::make_unique<blocking::leader>(
        first_zk, dir, "first",
        blocking::leader_callbacks{[&](const leadership& l) {
                                       std::lock_guard guard(node_mutex);
                                       first_path = l.path();
                                       first_token = l.fencing_token();
                                   },
                                   [&](error_code reason) {
                                       first_reason = reason;
                                       ++first_lost;
                                   }});
    ASSERT_TRUE(first->wait_until_leader(10s));
    // is_leader() turns true before on_elected is called.
    EXPECT_TRUE(wait_until([&] { return first_token.load() != 0; }));
    EXPECT_EQ(first->fencing_token(), first_token.load());

    blocking::leader second(
        second_zk, dir, "second",
        blocking::leader_callbacks{[&](const leadership& l) { second_token = l.fencing_token(); },
                                   {}});
    EXPECT_FALSE(second.wait_until_leader(200ms));

    // Deposed from outside: told, and back in line behind the second, who leads.
    delete_node(shared_hosts(), first_node());
    ASSERT_TRUE(second.wait_until_leader(10s));
    EXPECT_TRUE(wait_until([&] { return first_lost.load() == 1; }));
    EXPECT_EQ(first_reason, errc::lock_node_deleted) << first_reason.message();
    EXPECT_TRUE(wait_until([&] { return second_token.load() > first_token.load(); }));
    EXPECT_TRUE(wait_until([&] { return list_children(shared_hosts(), dir).size() == 2; }))
        << "the deposed leader campaigns again";

    // The second steps down: the first leads again, with a newer token.
    second.stop();
    EXPECT_FALSE(second.is_leader());
    ASSERT_TRUE(first->wait_until_leader(10s));
    EXPECT_TRUE(wait_until([&] { return first_token.load() > second_token.load(); }));
    EXPECT_EQ(first->fencing_token(), first_token.load());
    first.reset();
    EXPECT_EQ(list_children(shared_hosts(), dir).size(), 0u);
}

TEST(Blocking, ABlockingCallFromACallbackFailsInsteadOfHanging) {
    const auto dir = fresh_root();
    blocking::client zk(blocking_config());
    blocking::mutex m(zk, dir + "/lock");
    std::atomic<bool> called{false};
    error_code inside;
    blocking::leader l(zk, dir + "/election", "me",
                       blocking::leader_callbacks{[&](const leadership&) {
                                                      auto lk = m.lock(inside);
                                                      called = true;
                                                  },
                                                  {}});
    ASSERT_TRUE(wait_until([&] { return called.load(); }));
    EXPECT_EQ(inside, errc::deadlock) << inside.message();
}

TEST(Blocking, RecipesMayOutliveTheirSessionObject) {
    const auto dir = fresh_root() + "/lock";
    run([&](boost::asio::io_context& ioc) -> boost::asio::awaitable<void> {
        auto s = std::make_unique<session>(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(*s);
        mutex m(*s, dir);
        s.reset();  // closes the session
        auto [ec, l] = co_await m.async_lock(boost::asio::as_tuple(boost::asio::use_awaitable));
        EXPECT_EQ(ec, errc::session_closed) << ec.message();
        EXPECT_FALSE(l.owns());
    });
}

TEST(Blocking, ReadWriteLocksAndSemaphoresBlockLikeTheMutex) {
    const auto root = fresh_root();
    blocking::client zk(blocking_config());
    blocking::client other(blocking_config());
    blocking::shared_mutex rw(zk, root + "/rw");
    blocking::shared_mutex rw_other(other, root + "/rw");
    auto r1 = rw.reader().lock();
    auto r2 = rw_other.reader().lock();  // readers share
    EXPECT_TRUE(r1.owns());
    EXPECT_TRUE(r2.owns());
    error_code ec;
    auto w = rw_other.writer().try_lock_for(200ms, ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(w.owns());
    EXPECT_FALSE(blocking::release(r1));
    EXPECT_FALSE(blocking::release(r2));
    w = rw_other.writer().try_lock(ec);
    EXPECT_TRUE(w.owns());
    EXPECT_FALSE(rw.reader().try_lock(ec).owns());  // a writer excludes readers
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(blocking::release(w));
    EXPECT_EQ(list_children(shared_hosts(), root + "/rw").size(), 0u);

    blocking::semaphore sem(zk, root + "/sem", 2);
    blocking::semaphore sem_other(other, root + "/sem", 2);
    auto both = sem.acquire(2);
    EXPECT_EQ(both.size(), 2u);
    EXPECT_TRUE(both.owns());
    EXPECT_FALSE(sem_other.try_acquire(1, ec).owns());
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(sem_other.try_acquire_for(200ms, 1, ec).owns());
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_FALSE(blocking::wait_lost_for(both, 10ms)) << "still held";
    EXPECT_FALSE(blocking::release(both));
    auto one = sem_other.acquire();
    EXPECT_TRUE(one.owns());
    EXPECT_FALSE(sem.acquire(3, ec).owns());
    EXPECT_EQ(ec, errc::invalid_argument) << ec.message();
    EXPECT_THROW(sem.acquire(0), boost::system::system_error);
    EXPECT_FALSE(blocking::release(one));
    EXPECT_EQ(blocking::release(one), errc::not_owner);
    EXPECT_EQ(list_children(shared_hosts(), root + "/sem/leases").size(), 0u);
}

TEST(Blocking, EveryCallAfterTheClientIsGoneFailsWithSessionClosed) {
    const auto dir = fresh_root() + "/lock";
    auto zk = std::make_unique<blocking::client>(blocking_config());
    blocking::mutex m(*zk, dir);
    auto held = m.lock();
    ASSERT_TRUE(held.owns());
    zk.reset();  // closes the session, stops the client's thread, frees its io_context
    EXPECT_FALSE(held.owns());
    error_code ec;
    EXPECT_FALSE(m.try_lock(ec).owns());
    EXPECT_EQ(ec, errc::session_closed) << ec.message();
    ec = {};
    EXPECT_FALSE(m.lock(ec).owns());
    EXPECT_EQ(ec, errc::session_closed) << ec.message();
    ec = {};
    EXPECT_FALSE(m.try_lock_for(10ms, ec).owns());
    EXPECT_EQ(ec, errc::session_closed) << ec.message();
    ec = {};
    m.prepare(ec);
    EXPECT_EQ(ec, errc::session_closed) << ec.message();
    EXPECT_THROW(m.try_lock(), boost::system::system_error);
    EXPECT_EQ(blocking::release(held), errc::session_closed);
    EXPECT_EQ(blocking::wait_lost(held), errc::session_closed);
    EXPECT_EQ(blocking::wait_lost_for(held, 10ms), errc::session_closed);
    EXPECT_EQ(list_children(shared_hosts(), dir).size(), 0u);
}

TEST(Blocking, ALeaderMayOutliveItsClient) {
    const auto dir = fresh_root() + "/election";
    auto zk = std::make_unique<blocking::client>(blocking_config());
    std::atomic<bool> elected{false};
    auto l = std::make_unique<blocking::leader>(
        *zk, dir, "me", blocking::leader_callbacks{[&](const leadership&) { elected = true; }, {}});
    ASSERT_TRUE(l->wait_until_leader(10s));
    zk.reset();
    EXPECT_FALSE(l->is_leader());
    EXPECT_FALSE(l->wait_until_leader(10ms));
    l->stop();
    l.reset();
    EXPECT_TRUE(elected.load());
    EXPECT_EQ(list_children(shared_hosts(), dir).size(), 0u);
}

TEST(Logging, AProgramWithNoSinksPrintsNothingOnANormalLockCycle) {
    const auto probe = std::string(ZKR_LOG_PROBE) + " " + shared_hosts() + " " + fresh_root();
    auto [status, output] = run_shell(probe);
    EXPECT_EQ(status, 0) << output;
    EXPECT_EQ(output, "");
    // With zkr's level at debug and a sink, the records show, with their channels.
    auto [debug_status, debug_output] = run_shell(probe + "/debug debug");
    EXPECT_EQ(debug_status, 0) << debug_output;
    for (const char* channel : {log::channels::session, log::channels::client}) {
        EXPECT_NE(debug_output.find(std::string("[") + channel + "]"), std::string::npos)
            << channel << " missing from:\n"
            << debug_output;
    }
}

}  // namespace
}  // namespace zkr::test
