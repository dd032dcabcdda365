// shared_mutex, semaphore and async_lock_all against a real server.
#include "test_support.hpp"

#include <zkr/multi_lock.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_mutex.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <signal.h>

#include <array>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

/// Starts an acquisition whose result lands in `out` (and `done`).
template <class Handle, class Op>
void start(Op&& op, Handle& out, bool& done) {
    std::forward<Op>(op)([&](error_code, Handle h) {
        out = std::move(h);
        done = true;
    });
}

TEST(SharedMutex, ReadersShareWritersExcludeAndWritersAreNotStarved) {
    const auto dir = fresh_root() + "/rw";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        shared_mutex rw(s, dir);
        auto r1 = co_await rw.async_lock_shared(asio::use_awaitable);
        auto r2 = co_await rw.async_lock_shared(asio::use_awaitable);  // readers share
        EXPECT_TRUE(r1.owns() && r2.owns());
        lock w;
        bool w_done = false;
        start(rw.async_lock(), w, w_done);
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 3; }));
        // A reader arriving after the waiting writer queues behind it (FIFO: no starvation).
        lock r3;
        bool r3_done = false;
        start(rw.async_lock_shared(), r3, r3_done);
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 4; }));
        auto busy = co_await rw.async_try_lock_shared(asio::use_awaitable);
        EXPECT_FALSE(busy.owns());
        co_await r1.async_release(asio::use_awaitable);
        co_await r2.async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return w_done; }));
        EXPECT_TRUE(w.owns());
        EXPECT_FALSE(r3_done);
        co_await w.async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return r3_done; }));
        EXPECT_TRUE(r3.owns());
        EXPECT_GT(r3.fencing_token(), w.fencing_token());
        co_await r3.async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(dir), 0u);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(SharedMutex, OneReleaseWakesExactlyThoseWhoCanProceed) {
    zk_server* server = shared_server();
    if (server == nullptr) {
        GTEST_FAIL() << "needs the project's own server (unset ZKR_TEST_HOSTS)";
    }
    const auto dir = fresh_root() + "/rw";
    with_sessions<5>([&](session& s, session& r1, session& r2, session& w2,
                         session& r3) -> asio::awaitable<void> {
        shared_mutex rw(s, dir);
        auto w1 = co_await rw.async_lock(asio::use_awaitable);
        const auto base = server->mntr_value("zk_watch_count");
        // Queue: W1 | R1 R2 W2 R3. R1 and R2 watch W1, and their own nodes (W1 is all that
        // blocks them: a fast hand-off); W2 watches R2; R3 watches W2 only. Each waiter has its
        // own session: the server counts one watch per node and connection.
        const std::array<session*, 4> sessions{&r1, &r2, &w2, &r3};
        std::vector<std::unique_ptr<shared_mutex>> locks;
        std::vector<lock> held(4);
        std::vector<bool> done(4, false);
        for (int i = 0; i < 4; ++i) {
            locks.push_back(std::make_unique<shared_mutex>(*sessions[i], dir));
            auto& m = i == 2 ? locks.back()->writer() : locks.back()->reader();
            m.async_lock([&, i](error_code, lock l) {
                held[i] = std::move(l);
                done[i] = true;
            });
            CO_REQUIRE(
                co_await eventually([&] { return children_count(dir) == std::size_t(i + 2); }));
        }
        CO_REQUIRE(
            co_await eventually([&] { return server->mntr_value("zk_watch_count") == base + 6; }));
        co_await w1.async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return done[0] && done[1]; }));
        EXPECT_TRUE(held[0].owns() && held[1].owns());
        // The writer behind them and the reader behind it keep waiting, each on one node (and
        // the two readers, holding now, keep the watches on their own nodes as loss watches).
        EXPECT_FALSE(done[2]);
        EXPECT_FALSE(done[3]);
        EXPECT_EQ(server->mntr_value("zk_watch_count"), base + 4);
        co_await held[0].async_release(asio::use_awaitable);
        co_await held[1].async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return done[2]; }));
        EXPECT_FALSE(done[3]);
        co_await held[2].async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return done[3]; }));
        co_await held[3].async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(dir), 0u);
        for (auto& other : sessions) {
            co_await other->async_close(asio::use_awaitable);
        }
        EXPECT_TRUE(co_await settled(s));  // nothing pending, no watch left
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(SharedMutex, ADowngradeLetsNoQueuedWriterIn) {
    const auto dir = fresh_root() + "/rw";
    with_sessions<2>([&](session& a, session& b) -> asio::awaitable<void> {
        shared_mutex rw(a, dir);
        shared_mutex other(b, dir);
        auto write = co_await rw.async_lock(asio::use_awaitable);
        const auto write_path = write.path();
        bool read_released = false;
        bool writer_in = false;
        lock queued_writer;
        other.async_lock([&](error_code ec, lock l) {
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_TRUE(read_released) << "a writer got in while the downgraded reader held";
            queued_writer = std::move(l);
            writer_in = true;
        });
        bool reader_in = false;
        lock queued_reader;
        other.async_lock_shared([&](error_code ec, lock l) {
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_FALSE(queued_writer.owns()) << "the reader overlapped the writer";
            queued_reader = std::move(l);
            reader_in = true;
        });
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 3; }));

        auto [dec, read] = co_await rw.async_downgrade(std::move(write), tuple);
        CO_REQUIRE(!dec);
        EXPECT_TRUE(read.owns());
        EXPECT_NE(read.path().find("__READ__"), std::string::npos) << read.path();
        EXPECT_EQ(read.path().substr(read.path().size() - 10),
                  write_path.substr(write_path.size() - 10))
            << "the read node takes the write node's sequence";
        EXPECT_FALSE(node_exists(shared_hosts(), write_path));
        // The queued writer listed again and now waits on our read node (it would hold the
        // lock already had it taken the write node's deletion for its turn).
        CO_REQUIRE(
            co_await eventually([&] { return server_watches_path(shared_hosts(), read.path()); }));
        EXPECT_FALSE(writer_in);
        EXPECT_FALSE(reader_in) << "FIFO: the reader is behind the queued writer";

        read_released = true;
        CO_REQUIRE(!std::get<0>(co_await read.async_release(tuple)));
        CO_REQUIRE(co_await eventually([&] { return writer_in; }));
        EXPECT_FALSE(reader_in);
        CO_REQUIRE(!std::get<0>(co_await queued_writer.async_release(tuple)));
        CO_REQUIRE(co_await eventually([&] { return reader_in; }));
        CO_REQUIRE(!std::get<0>(co_await queued_reader.async_release(tuple)));

        // Only a held write lock of this path downgrades; a refused one is handed back.
        auto plain = co_await rw.async_lock_shared(asio::use_awaitable);
        auto [nec, back] = co_await rw.async_downgrade(std::move(plain), tuple);
        EXPECT_EQ(nec, errc::not_owner);
        EXPECT_TRUE(back.owns()) << "handed back, still held";
        CO_REQUIRE(!std::get<0>(co_await back.async_release(tuple)));
        EXPECT_EQ(children_count(dir), 0u);
        EXPECT_TRUE(co_await settled(a));
        EXPECT_TRUE(co_await settled(b));
        co_await a.async_close(asio::use_awaitable);
        co_await b.async_close(asio::use_awaitable);
    });
}

TEST(Interop, AZkrWriterWaitsOutACuratorDowngrade) {
    // Curator 5.5 and later downgrade as zkr does: a read node named with the write node's
    // sequence number, then the write node deleted. Debian's Curator 5.4 predates that fix
    // (CURATOR-621) and lets queued writers in, so the peer's requests are played here as it
    // sends them, from a session of its own.
    const auto dir = fresh_root() + "/rw";
    with_sessions<2>([&](session& peer_session, session& s) -> asio::awaitable<void> {
        shared_mutex peer_lock(peer_session, dir);
        auto peer_write = co_await peer_lock.async_lock(asio::use_awaitable);
        shared_mutex rw(s, dir);
        bool acquired = false;
        bool peer_reading = false;
        lock writer;
        rw.async_lock([&](error_code ec, lock l) {
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_FALSE(peer_reading) << "the writer got in while the peer held its read lock";
            writer = std::move(l);
            acquired = true;
        });
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));
        const auto write_node = peer_write.path();
        const auto read_node = dir + "/_c_00000000-0000-4000-8000-000000000000-__READ__" +
                               write_node.substr(write_node.size() - 10);
        auto [cec, created] = co_await peer_session.async_create(read_node, std::string(),
                                                                 create_mode::ephemeral, tuple);
        CO_REQUIRE(!cec);
        peer_reading = true;
        CO_REQUIRE(!std::get<0>(co_await peer_write.async_release(tuple)));
        // The writer lists again and waits on the read node (no fast hand-off for writers).
        CO_REQUIRE(
            co_await eventually([&] { return server_watches_path(shared_hosts(), read_node); }));
        EXPECT_FALSE(acquired);
        peer_reading = false;
        CO_REQUIRE(!std::get<0>(co_await peer_session.async_remove(read_node, -1, tuple)));
        CO_REQUIRE(co_await eventually([&] { return acquired; }));
        CO_REQUIRE(!std::get<0>(co_await writer.async_release(tuple)));
        co_await peer_session.async_close(asio::use_awaitable);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Interop, ZkrAndCuratorReadWriteLocksShareOnePath) {
    const auto dir = fresh_root() + "/rw";
    record_file record;
    auto java_reader = peer("curator-lock", {dir, "20", record.path, "5"}, {"CURATOR_RECIPE=read"});
    auto java_writer =
        peer("curator-lock", {dir, "20", record.path, "5"}, {"CURATOR_RECIPE=write"});
    expect_ready(java_reader, "Curator reader");
    expect_ready(java_writer, "Curator writer");
    std::vector<child_process> workers;
    workers.push_back(zkr_worker("read", dir, 20, record.path, 5));
    workers.push_back(zkr_worker("read", dir, 20, record.path, 5));
    workers.push_back(zkr_worker("write", dir, 20, record.path, 5));
    EXPECT_TRUE(java_reader.exits_cleanly(120s));
    EXPECT_TRUE(java_writer.exits_cleanly(120s));
    for (auto& w : workers) {
        EXPECT_TRUE(w.exits_cleanly(120s));
    }
    EXPECT_EQ(check_record(record.path), 100u);
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
}

TEST(Semaphore, NeverMoreThanMaxHoldersAcrossProcesses) {
    const auto dir = fresh_root() + "/sem";
    record_file record;
    std::vector<child_process> workers;
    for (int i = 0; i < 5; ++i) {
        workers.push_back(zkr_worker("semaphore:2", dir, 20, record.path, 3));
    }
    for (auto& w : workers) {
        EXPECT_EQ(w.wait(120s), 0);
    }
    EXPECT_EQ(check_record(record.path, 2), 100u);
    EXPECT_TRUE(list_children(shared_hosts(), dir + "/leases").empty());
    EXPECT_TRUE(list_children(shared_hosts(), dir + "/locks").empty());
}

TEST(Semaphore, KilledHolderFreesItsLeaseAfterTheSessionTimeout) {
    const auto dir = fresh_root() + "/sem";
    record_file victim_record, record;
    auto victim = zkr_worker("semaphore:1", dir, 1, victim_record.path, 60000, 1500);
    std::string line;
    expect_ready(victim, "victim");
    ASSERT_TRUE(victim.read_line(line, 30s) && line.rfind("holding", 0) == 0) << line;
    auto next = zkr_worker("semaphore:1", dir, 1, record.path, 2);
    expect_ready(next, "next");
    const auto killed = std::chrono::steady_clock::now();
    victim.kill(SIGKILL);
    ASSERT_TRUE(next.read_line(line, 30s) && line.rfind("holding", 0) == 0) << line;
    EXPECT_LT(std::chrono::steady_clock::now() - killed, 1500ms + 1s);
    EXPECT_EQ(next.wait(30s), 0);
}

TEST(Semaphore, SeveralLeasesAllOrNothingAndCancellationLeavesNothing) {
    const auto dir = fresh_root() + "/sem";
    with_sessions([&](asio::io_context& ioc, session& s) -> asio::awaitable<void> {
        semaphore sem(s, dir, 3);
        auto two = co_await sem.async_acquire(2, asio::use_awaitable);
        EXPECT_TRUE(two.owns());
        EXPECT_EQ(two.size(), 2u);
        EXPECT_GT(two.fencing_token(), 0);
        auto none = co_await sem.async_try_acquire(2, asio::use_awaitable);  // 2 + 2 > 3
        EXPECT_FALSE(none.owns());
        // Its two lease nodes are removed in the background (over TLS, the removal leaves
        // through the tunnel only once this io_context runs again).
        EXPECT_TRUE(co_await eventually([&] { return children_count(dir + "/leases") == 2; }));
        auto one = co_await sem.async_try_acquire(asio::use_awaitable);  // 2 + 1 <= 3
        EXPECT_TRUE(one.owns());
        // A waiter for two more leases, timed out: it leaves neither leases nor queue nodes.
        asio::steady_timer timer(ioc, 200ms);
        auto r = co_await (sem.async_acquire(2, tuple) || timer.async_wait(tuple));
        EXPECT_EQ(r.index(), 1u);
        EXPECT_TRUE(co_await eventually([&] { return children_count(dir + "/leases") == 3; }));
        EXPECT_EQ(children_count(dir + "/locks"), 0u);
        // Release two: a waiter for two gets both at once.
        lease later;
        bool done = false;
        sem.async_acquire(2, [&](error_code, lease l) {
            later = std::move(l);
            done = true;
        });
        co_await pause_for(50ms);
        EXPECT_FALSE(done);
        co_await two.async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return done; }));
        EXPECT_EQ(later.size(), 2u);
        co_await later.async_release(asio::use_awaitable);
        co_await one.async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(dir + "/leases"), 0u);
        EXPECT_TRUE(co_await settled(s));  // nothing pending, no watch left
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Semaphore, ALeaseIsLostWithItsSession) {
    const auto dir = fresh_root() + "/sem";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        semaphore sem(s, dir, 2);
        auto l = co_await sem.async_acquire(asio::use_awaitable);
        error_code lost;
        l.async_wait_lost([&](error_code ec) { lost = ec; });
        expire_session(s, shared_hosts());
        CO_REQUIRE(co_await eventually([&] { return static_cast<bool>(lost); }));
        EXPECT_EQ(lost, zk_errc::session_expired);
        EXPECT_FALSE(l.owns());
    });
}

TEST(Semaphore, BadInputAndALimitMismatchAreClearErrors) {
    const auto dir = fresh_root() + "/sem";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        semaphore three(s, dir, 3);
        auto l = co_await three.async_acquire(asio::use_awaitable);
        semaphore four(s, dir, 4);
        auto [ec, none] = co_await four.async_acquire(tuple);
        EXPECT_EQ(ec, errc::semaphore_limit_mismatch);
        auto [too_many, none2] = co_await three.async_acquire(4, tuple);
        EXPECT_EQ(too_many, errc::invalid_argument);
        semaphore bad(s, "relative", 1);
        auto [bad_ec, none3] = co_await bad.async_acquire(tuple);
        EXPECT_EQ(bad_ec, errc::invalid_path);
        // A node of something else at the path: named as such, not as another maximum.
        const auto foreign = fresh_root() + "-config";
        create_node(shared_hosts(), foreign, "{\"replicas\": 3}");
        semaphore squatter(s, foreign, 2);
        auto [in_use, none4] = co_await squatter.async_acquire(tuple);
        EXPECT_EQ(in_use, errc::path_in_use) << in_use.message();
        delete_node(shared_hosts(), foreign);
        co_await l.async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(dir + "/leases"), 0u);
        EXPECT_EQ(children_count(dir + "/locks"), 0u);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(MultiLock, OppositeOrdersNeverDeadlock) {
    const auto root = fresh_root();
    with_sessions<2>(
        [&](asio::io_context& ioc, session& a, session& b) -> asio::awaitable<void> {
            int inside = 0, max_inside = 0, finished = 0;
            auto worker = [&](session& s, std::string first,
                              std::string second) -> asio::awaitable<void> {
                for (int i = 0; i < 25; ++i) {
                    std::vector<mutex> set{mutex(s, first), mutex(s, second)};
                    auto group = co_await async_lock_all(std::move(set), asio::use_awaitable);
                    EXPECT_EQ(group.size(), 2u);
                    max_inside = std::max(max_inside, ++inside);
                    co_await pause_for(1ms);
                    --inside;
                    co_await group.async_release(asio::use_awaitable);
                }
                ++finished;
            };
            asio::co_spawn(ioc, worker(a, root + "/A", root + "/B"), asio::detached);
            asio::co_spawn(ioc, worker(b, root + "/B", root + "/A"), asio::detached);
            CO_REQUIRE(co_await eventually([&] { return finished == 2; }, 30s));
            EXPECT_EQ(max_inside, 1);
            EXPECT_EQ(children_count(root + "/A"), 0u);
            EXPECT_EQ(children_count(root + "/B"), 0u);
            co_await a.async_close(asio::use_awaitable);
            co_await b.async_close(asio::use_awaitable);
        },
        40s);
}

TEST(MultiLock, PartialFailureOrTimeoutLeavesNothingHeld) {
    const auto root = fresh_root();
    with_sessions([&](asio::io_context& ioc, session& s) -> asio::awaitable<void> {
        mutex b(s, root + "/B");
        auto held_b = co_await b.async_lock(asio::use_awaitable);
        // A is free, B is held: a timeout while waiting for B releases A again.
        std::vector<mutex> set{mutex(s, root + "/A"), mutex(s, root + "/B")};
        asio::steady_timer timer(ioc, 200ms);
        auto r = co_await (async_lock_all(std::move(set), tuple) || timer.async_wait(tuple));
        EXPECT_EQ(r.index(), 1u);
        EXPECT_TRUE(co_await eventually([&] { return children_count(root + "/A") == 0; }));
        EXPECT_EQ(children_count(root + "/B"), 1u);
        // An invalid member fails the whole set after the valid one before it was taken.
        std::vector<mutex> bad{mutex(s, root + "/A"), mutex(s, root + "/A/../x")};
        auto [ec, g] = co_await async_lock_all(std::move(bad), tuple);
        EXPECT_EQ(ec, errc::invalid_path);
        EXPECT_FALSE(g.owns());
        EXPECT_EQ(children_count(root + "/A"), 0u);
        std::vector<mutex> twice{mutex(s, root + "/A"), mutex(s, root + "/A")};
        auto [tec, tg] = co_await async_lock_all(std::move(twice), tuple);
        EXPECT_EQ(tec, errc::invalid_argument);
        co_await held_b.async_release(asio::use_awaitable);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(MultiLock, GuardedWriteChecksEveryMemberAcrossSessions) {
    const auto root = fresh_root();
    with_sessions<2>([&](session& a, session& b) -> asio::awaitable<void> {
        // Members on two sessions: the transaction runs on the first and checks both nodes.
        std::vector<mutex> set{mutex(a, root + "/A"), mutex(b, root + "/B")};
        auto group = co_await async_lock_all(std::move(set), asio::use_awaitable);
        const auto data_path = root + "/data";
        co_await a.async_create(data_path, std::string("0"), create_mode::persistent, tuple);
        std::vector<op> write1{op::set_data(data_path, "1")};
        auto [ec1, r1] = co_await group.async_guarded_multi(std::move(write1), tuple);
        EXPECT_FALSE(ec1);
        EXPECT_EQ(r1.size(), 1u);
        delete_node(shared_hosts(), group.locks()[1].path());  // one member gone, unheard of
        std::vector<op> write2{op::set_data(data_path, "2")};
        auto [ec2, r2] = co_await group.async_guarded_multi(std::move(write2), tuple);
        EXPECT_EQ(ec2, errc::lock_lost);
        EXPECT_EQ(r2.size(), 1u);
        EXPECT_FALSE(group.owns());
        EXPECT_TRUE(group.locks()[0].owns());
        EXPECT_FALSE(group.locks()[1].owns());
        auto [gec, data] = co_await a.async_get_data(data_path, tuple);
        EXPECT_EQ(data.data, "1");
        // An empty group holds nothing to guard with.
        lock_group none;
        std::vector<op> write3{op::set_data(data_path, "3")};
        auto [ec3, r3] = co_await none.async_guarded_multi(std::move(write3), tuple);
        EXPECT_EQ(ec3, errc::not_owner);
        co_await group.async_release(tuple);
        co_await a.async_close(asio::use_awaitable);
        co_await b.async_close(asio::use_awaitable);
    });
}

}  // namespace
}  // namespace zkr::test
