// Resumable sessions: a process that restarts within the session timeout joins its session again
// (session_config::resume) and takes its locks back by node path (mutex::async_adopt).
#include "tcp_proxy.hpp"
#include "test_support.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/mutex.hpp>
#include <zkr/names.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_mutex.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

/// The process that "dies": its session runs through a proxy that the test cuts, so the server
/// keeps the session (no close request reaches it) while the process is gone.
session_config through(const tcp_proxy& proxy) {
    return config_for(proxy.address(), 10s);
}

session_config resuming(const session& dead) {
    auto config = config_for(shared_hosts(), 10s);
    config.resume = dead.id();
    return config;
}

/// A node of `s` in `dir` with `marker`, as a process that resumed its session finds it.
asio::awaitable<std::string> own_node(session& s, std::string dir, std::string_view marker) {
    const auto prefix = dir + "/" + std::string(names::protection_prefix) +
                        "00000000-0000-4000-8000-000000000000" + std::string(marker);
    auto [ec, created] =
        co_await s.async_create(prefix, std::string(), create_mode::ephemeral_sequential, tuple);
    EXPECT_FALSE(ec) << ec.message();
    co_return created.path;
}

TEST(Resume, ReadWriteElectionAndLeaseNodesAreAdoptedToo) {
    const auto root = fresh_root();
    with_sessions([&](session& s) -> asio::awaitable<void> {
        // Named paths: no temporary in a co_await expression (g++ 12).
        const auto rw_dir = root + "/rw", election_dir = root + "/election",
                   leases_dir = root + "/sem/leases";
        shared_mutex rw(s, rw_dir);
        co_await rw.async_prepare(asio::use_awaitable);
        // Read and write nodes go to their own side.
        const auto read_node = co_await own_node(s, rw_dir, names::read_marker);
        auto [rec, reader] = co_await rw.async_adopt(read_node, tuple);
        EXPECT_FALSE(rec) << rec.message();
        EXPECT_TRUE(reader.owns());
        auto [again, twice] = co_await rw.async_adopt(read_node, tuple);
        EXPECT_EQ(again, errc::already_held) << again.message();
        co_await reader.async_release(asio::use_awaitable);
        const auto write_node = co_await own_node(s, rw_dir, names::write_marker);
        auto [wec, writer] = co_await rw.async_adopt(write_node, tuple);
        EXPECT_FALSE(wec) << wec.message();
        EXPECT_TRUE(writer.owns());
        EXPECT_EQ(writer.path(), write_node);
        co_await writer.async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(root + "/rw"), 0u);

        leader_election e(s, election_dir, "me");
        co_await e.async_prepare(asio::use_awaitable);
        const auto latch_node = co_await own_node(s, election_dir, names::latch_marker);
        auto [eec, leading] = co_await e.async_adopt(latch_node, tuple);
        EXPECT_FALSE(eec) << eec.message();
        EXPECT_TRUE(leading.is_leader());
        EXPECT_EQ(leading.path(), latch_node);
        auto [wrong_kind, l] = co_await e.async_adopt(write_node, tuple);
        EXPECT_EQ(wrong_kind, errc::invalid_path) << wrong_kind.message();
        co_await leading.async_resign(asio::use_awaitable);
        EXPECT_EQ(children_count(root + "/election"), 0u);

        semaphore sem(s, root + "/sem", 2);
        co_await s.async_create(root + "/sem", std::string("2"), create_mode::persistent, tuple);
        co_await s.async_create(root + "/sem/leases", std::string(), create_mode::persistent,
                                tuple);
        const auto first = co_await own_node(s, leases_dir, names::lease_marker);
        const auto second = co_await own_node(s, leases_dir, names::lease_marker);
        std::vector<std::string> both{first, second}, one{first}, none,
            twice_listed{second, second};
        auto [empty_ec, no_lease] = co_await sem.async_adopt(none, tuple);
        EXPECT_EQ(empty_ec, errc::invalid_argument) << empty_ec.message();
        auto [dup_ec, dup] = co_await sem.async_adopt(twice_listed, tuple);
        EXPECT_EQ(dup_ec, errc::already_held) << dup_ec.message();
        auto [sec, leases] = co_await sem.async_adopt(both, tuple);
        EXPECT_FALSE(sec) << sec.message();
        EXPECT_EQ(leases.size(), 2u);
        EXPECT_TRUE(leases.owns());
        auto [held_ec, held] = co_await sem.async_adopt(one, tuple);
        EXPECT_EQ(held_ec, errc::already_held) << held_ec.message();
        co_await leases.async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(root + "/sem/leases"), 0u);
        auto [gone_ec, gone] = co_await sem.async_adopt(one, tuple);
        EXPECT_EQ(gone_ec, errc::not_owner) << gone_ec.message();
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Resume, ANodeThisProcessHoldsCannotBeAdoptedAgain) {
    const auto dir = fresh_root() + "/lock";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        mutex m(s, dir);
        auto held = co_await m.async_lock(asio::use_awaitable);
        const auto node = held.path();
        auto [ec, twice] = co_await m.async_adopt(node, tuple);
        EXPECT_EQ(ec, errc::already_held) << ec.message();
        EXPECT_FALSE(twice.owns());
        // Adopted once (the node of a handle dropped without releasing would be gone): a
        // second adoption of the adopted node is refused too.
        auto [cec, created] =
            co_await s.async_create(dir + "/_c_00000000-0000-0000-0000-000000000000-lock-",
                                    std::string(), create_mode::ephemeral_sequential, tuple);
        CO_REQUIRE(!cec);
        co_await held.async_release(asio::use_awaitable);
        auto [first_ec, adopted] = co_await m.async_adopt(created.path, tuple);
        EXPECT_FALSE(first_ec) << first_ec.message();
        EXPECT_TRUE(adopted.owns());
        auto [again_ec, again] = co_await m.async_adopt(created.path, tuple);
        EXPECT_EQ(again_ec, errc::already_held) << again_ec.message();
        EXPECT_FALSE(again.owns());
        EXPECT_TRUE(adopted.owns());
        co_await adopted.async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(dir), 0u);
        // Released: the node is gone, and so is the refusal's reason.
        auto [gone, l] = co_await m.async_adopt(created.path, tuple);
        EXPECT_EQ(gone, errc::not_owner) << gone.message();
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Resume, ANodeThisProcessWaitsWithCannotBeAdopted) {
    // Adopted while its own acquisition waits with it, a node would lead twice in this process
    // once the holder ahead lets go.
    const auto dir = fresh_root() + "/lock";
    with_sessions<2>([&](session& other, session& s) -> asio::awaitable<void> {
        mutex held_by_other(other, dir);
        auto held = co_await held_by_other.async_lock(asio::use_awaitable);
        mutex m(s, dir);
        lock waiting;
        bool acquired = false;
        m.async_lock([&](error_code ec, lock l) {
            EXPECT_FALSE(ec) << ec.message();
            waiting = std::move(l);
            acquired = true;
        });
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));
        auto [lec, kids] = co_await s.async_get_children(dir, tuple);
        CO_REQUIRE(!lec);
        std::string ours;
        for (const auto& name : kids.names) {
            if (dir + "/" + name != held.path()) {
                ours = dir + "/" + name;
            }
        }
        auto [ec, adopted] = co_await m.async_adopt(ours, tuple);
        EXPECT_EQ(ec, errc::already_held) << ec.message();
        EXPECT_FALSE(adopted.owns());
        co_await held.async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return acquired; }));
        EXPECT_TRUE(waiting.owns());
        EXPECT_EQ(waiting.path(), ours);
        co_await waiting.async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(dir), 0u);
    });
}

TEST(Resume, AHeldLockIsTakenBackWithItsTokenAfterARestart) {
    const auto dir = fresh_root() + "/lock";
    tcp_proxy proxy(shared_hosts());
    with_sessions(
        {through(proxy), config_for(shared_hosts())},
        [&](asio::io_context& ioc, session& first, session& other) -> asio::awaitable<void> {
            mutex first_mutex(first, dir);  // named: no temporary in a co_await expression (g++ 12)
            auto held = co_await first_mutex.async_lock(asio::use_awaitable);
            const auto node = held.path();
            const auto token = held.fencing_token();
            bool contender_acquired = false;
            lock contender;
            mutex(other, dir).async_lock([&](error_code ec, lock l) {
                EXPECT_FALSE(ec) << ec.message();
                contender = std::move(l);
                contender_acquired = true;
            });
            CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));

            proxy.cut();  // the first process is gone; its session lives on in the server
            session second(ioc.get_executor(), resuming(first));
            co_await connect(second);
            EXPECT_EQ(second.session_id(), first.session_id());
            mutex again(second, dir);
            auto [aec, adopted] = co_await again.async_adopt(node, tuple);
            CO_REQUIRE(!aec);
            EXPECT_TRUE(adopted.owns());
            EXPECT_EQ(adopted.path(), node);
            EXPECT_EQ(adopted.fencing_token(), token);
            EXPECT_FALSE(contender_acquired) << "the lock never changed hands";
            EXPECT_EQ(children_count(dir), 2u);

            // Nodes that are not ours, or not of this mutex, are refused.
            mutex elsewhere(second, dir + "x");
            auto [wrong_dir, l1] = co_await elsewhere.async_adopt(node, tuple);
            EXPECT_EQ(wrong_dir, errc::invalid_path);
            CO_REQUIRE(!std::get<0>(co_await adopted.async_release(tuple)));
            CO_REQUIRE(co_await eventually([&] { return contender_acquired; }));
            auto [theirs, l2] = co_await again.async_adopt(contender.path(), tuple);
            EXPECT_EQ(theirs, errc::not_owner) << theirs.message();
            auto [gone, l3] = co_await again.async_adopt(node, tuple);
            EXPECT_EQ(gone, errc::not_owner) << "released: " << gone.message();
            CO_REQUIRE(!std::get<0>(co_await contender.async_release(tuple)));
            EXPECT_TRUE(co_await settled(second));
            co_await second.async_close(asio::use_awaitable);
            co_await other.async_close(asio::use_awaitable);
        },
        60s);
}

TEST(Resume, AQueuedNodeTakenBackWaitsForItsTurn) {
    const auto dir = fresh_root() + "/lock";
    tcp_proxy proxy(shared_hosts());
    with_sessions(
        {config_for(shared_hosts()), through(proxy)},
        [&](asio::io_context& ioc, session& holder_session,
            session& first) -> asio::awaitable<void> {
            mutex holder_mutex(holder_session, dir);
            auto holder = co_await holder_mutex.async_lock(asio::use_awaitable);
            mutex(first, dir).async_lock([](error_code, lock) {});  // queued when the process dies
            CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));
            auto kids = list_children(shared_hosts(), dir);
            const auto holder_name = holder.path().substr(dir.size() + 1);
            const auto queued = dir + "/" + (kids[0] == holder_name ? kids[1] : kids[0]);

            proxy.cut();
            session second(ioc.get_executor(), resuming(first));
            co_await connect(second);
            bool acquired = false;
            lock adopted;
            mutex(second, dir).async_adopt(queued, [&](error_code ec, lock l) {
                EXPECT_FALSE(ec) << ec.message();
                adopted = std::move(l);
                acquired = true;
            });
            // Waiting: watching the holder's node and its own.
            CO_REQUIRE(co_await eventually(
                [&] { return server_watches(shared_hosts(), second.session_id()) == 2u; }));
            EXPECT_FALSE(acquired) << "the holder still holds";
            CO_REQUIRE(!std::get<0>(co_await holder.async_release(tuple)));
            CO_REQUIRE(co_await eventually([&] { return acquired; }));
            EXPECT_TRUE(adopted.owns());
            EXPECT_EQ(adopted.path(), queued);
            EXPECT_GT(adopted.fencing_token(), holder.fencing_token());
            CO_REQUIRE(!std::get<0>(co_await adopted.async_release(tuple)));
            EXPECT_EQ(children_count(dir), 0u);
            co_await second.async_close(asio::use_awaitable);
            co_await holder_session.async_close(asio::use_awaitable);
        },
        60s);
}

}  // namespace
}  // namespace zkr::test
