// What operators of locks need beyond acquiring them, against a real server: sequencers that a
// resource checks, and holds bounded by max_hold.
#include "test_support.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/lock_queue.hpp>
#include <zkr/mutex.hpp>
#include <zkr/revoke.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/sequencer.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_mutex.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

/// Runs `body` with two connected sessions (a holder's and another client's), then closes them.
void with_two_sessions(std::function<asio::awaitable<void>(session&, session&)> body) {
    with_sessions<2>([&](session& a, session& b) -> asio::awaitable<void> {
        co_await body(a, b);
        co_await a.async_close(asio::use_awaitable);
        co_await b.async_close(asio::use_awaitable);
    });
}

TEST(Sequencer, ValidWhileHeldStaleOnceReleasedOrReplaced) {
    const auto dir = fresh_root() + "/lock";
    with_two_sessions([&](session& holder, session& resource) -> asio::awaitable<void> {
        mutex m(holder, dir);
        auto held = co_await m.async_lock(asio::use_awaitable);
        const auto seq = held.sequencer();
        EXPECT_EQ(seq.node, held.path());
        EXPECT_EQ(seq.token, held.fencing_token());
        // The resource gets the text form and checks it over its own session.
        auto parsed = sequencer::parse(seq.to_string());
        CO_REQUIRE(parsed.has_value());
        auto [valid] = co_await async_check(resource, *parsed, tuple);
        EXPECT_FALSE(valid) << valid.message();
        co_await held.async_release(asio::use_awaitable);
        auto [released] = co_await async_check(resource, *parsed, tuple);
        EXPECT_EQ(released, errc::lock_lost);
        // A node of the same path created since (persistent, another czxid) holds nothing.
        create_node(shared_hosts(), seq.node, "impostor");
        auto [replaced] = co_await async_check(resource, *parsed, tuple);
        EXPECT_EQ(replaced, errc::not_a_lock_node);
        delete_node(shared_hosts(), seq.node);
        sequencer bad{"no/slash", 1};
        auto [malformed] = co_await async_check(resource, bad, tuple);
        EXPECT_EQ(malformed, errc::invalid_path);
    });
}

/// Awaits `acquisition` and keeps its lock in `out`: an acquisition left waiting while the
/// test goes on.
asio::awaitable<void> later(asio::awaitable<lock> acquisition, std::optional<lock>& out) {
    out = co_await std::move(acquisition);
}

TEST(Sequencer, ValidOnlyWhileItsNodeHolds) {
    // A sequencer is a claim that its node holds the lock: a waiter's node, a persistent node,
    // the lock directory, a reader behind a writer are all refused, whatever their czxid.
    const auto dir = fresh_root() + "/lock";
    with_two_sessions([&](session& holder, session& other) -> asio::awaitable<void> {
        mutex m(holder, dir);
        auto held = co_await m.async_lock(asio::use_awaitable);
        mutex waiting(other, dir);
        std::optional<lock> next;
        co_spawn(other.get_executor(), later(waiting.async_lock(asio::use_awaitable), next),
                 asio::detached);
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));
        auto queue = co_await async_read_queue(other, dir, asio::use_awaitable);
        CO_REQUIRE(queue.size() == 2);
        const sequencer waiter{dir + "/" + queue[1].node, queue[1].czxid};
        auto [waits] = co_await async_check(other, waiter, tuple);
        EXPECT_EQ(waits, errc::lock_lost) << waits.message();
        auto [holds] = co_await async_check(other, held.sequencer(), tuple);
        EXPECT_FALSE(holds) << holds.message();

        // Nodes that are no contender at all: vouched for by nothing.
        const auto plain = dir + "-config";  // beside the lock directory
        create_node(shared_hosts(), plain, "x");
        auto st = co_await other.async_exists(plain, asio::use_awaitable);
        CO_REQUIRE(st.has_value());
        // Named: g++ 12 destroys a braced temporary in a co_await expression twice.
        const sequencer persistent_seq{plain, st->czxid};
        auto [persistent] = co_await async_check(other, persistent_seq, tuple);
        EXPECT_EQ(persistent, errc::not_a_lock_node);
        auto dir_stat = co_await other.async_exists(dir, asio::use_awaitable);
        CO_REQUIRE(dir_stat.has_value());
        const sequencer dir_seq{dir, dir_stat->czxid};
        auto [directory] = co_await async_check(other, dir_seq, tuple);
        EXPECT_EQ(directory, errc::not_a_lock_node);
        // Named like a lock node, but persistent (a forgery, or someone's leftover).
        std::string forged;
        create_node(shared_hosts(), dir + "/_c_0-lock-", "", true, &forged);
        auto fst = co_await other.async_exists(forged, asio::use_awaitable);
        CO_REQUIRE(fst.has_value());
        const sequencer forged_seq{forged, fst->czxid};
        auto [fake] = co_await async_check(other, forged_seq, tuple);
        EXPECT_EQ(fake, errc::not_a_lock_node);
        delete_node(shared_hosts(), forged);

        co_await held.async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return next.has_value(); }));
        auto [now_holds] = co_await async_check(other, waiter, tuple);
        EXPECT_FALSE(now_holds) << now_holds.message();  // the waiter's turn came
        co_await next->async_release(asio::use_awaitable);
        delete_node(shared_hosts(), plain);
    });
}

TEST(Sequencer, AReaderHoldsUnlessAWriterIsAheadAndALeaseWithinTheMaximum) {
    const auto dir = fresh_root() + "/rw";
    const auto sem_path = fresh_root() + "/sem";
    with_two_sessions([&](session& a, session& b) -> asio::awaitable<void> {
        shared_mutex rw_a(a, dir);
        shared_mutex rw_b(b, dir);
        auto writer = co_await rw_a.writer().async_lock(asio::use_awaitable);
        std::optional<lock> read;
        co_spawn(b.get_executor(), later(rw_b.reader().async_lock(asio::use_awaitable), read),
                 asio::detached);
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));
        auto queue = co_await async_read_queue(b, dir, asio::use_awaitable);
        CO_REQUIRE(queue.size() == 2);
        const sequencer blocked{dir + "/" + queue[1].node, queue[1].czxid};
        auto [behind] = co_await async_check(b, blocked, tuple);
        EXPECT_EQ(behind, errc::lock_lost);
        co_await writer.async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return read.has_value(); }));
        auto [reads] = co_await async_check(a, read->sequencer(), tuple);
        EXPECT_FALSE(reads) << reads.message();
        co_await read->async_release(asio::use_awaitable);

        semaphore sem(a, sem_path, 1);
        auto granted = co_await sem.async_acquire(asio::use_awaitable);
        const auto lease_seq = granted.locks().front().sequencer();
        auto [leased] = co_await async_check(b, lease_seq, tuple);
        EXPECT_FALSE(leased) << leased.message();
        co_await granted.async_release(asio::use_awaitable);
        auto [returned] = co_await async_check(b, lease_seq, tuple);
        EXPECT_EQ(returned, errc::lock_lost);
    });
}

TEST(Revocation, TouchesNothingButMutexAndReadWriteLockNodes) {
    // zkr never writes into or deletes a node that is not a revocable lock node: configuration
    // nodes, an election's leader (whose data is what `zkr leader` prints).
    const auto root = fresh_root();
    with_two_sessions([&](session& owner, session& revoker) -> asio::awaitable<void> {
        revoke_options forced;
        forced.force = true;
        forced.grace = 100ms;
        const auto plain = root + "/config";
        // fresh_root's parent too: run alone, this test is the first to write under it.
        create_node(shared_hosts(), root.substr(0, root.rfind('/')), "");
        create_node(shared_hosts(), root, "");
        create_node(shared_hosts(), root + "/dir", "");
        create_node(shared_hosts(), plain, "keep me");
        std::string sequential;
        create_node(shared_hosts(), root + "/dir/_c_0-lock-", "keep me too", true, &sequential);
        for (const auto& target : {plain, sequential, root + "/dir"}) {
            for (const auto& how : {revoke_options{}, forced}) {
                auto [ec, outcome] = co_await async_revoke(revoker, target, how, tuple);
                EXPECT_EQ(ec, errc::not_a_lock_node) << target << ": " << ec.message();
            }
        }
        auto data = co_await revoker.async_get_data(plain, asio::use_awaitable);
        EXPECT_EQ(data.data, "keep me");
        EXPECT_EQ(data.stat.version, 0);
        auto seq_data = co_await revoker.async_get_data(sequential, asio::use_awaitable);
        EXPECT_EQ(seq_data.data, "keep me too");

        leader_election election(owner, root + "/election", "node-1");
        auto leading = co_await election.async_campaign(asio::use_awaitable);
        for (const auto& how : {revoke_options{}, forced}) {
            auto [ec, outcome] = co_await async_revoke(revoker, leading.path(), how, tuple);
            EXPECT_EQ(ec, errc::not_revocable) << ec.message();
        }
        auto leader_data = co_await revoker.async_get_data(leading.path(), asio::use_awaitable);
        EXPECT_EQ(leader_data.data, "node-1");
        EXPECT_TRUE(leading.is_leader());
        co_await leading.async_resign(asio::use_awaitable);
        delete_node(shared_hosts(), plain);
        delete_node(shared_hosts(), sequential);
        delete_node(shared_hosts(), root + "/dir");
    });
}

TEST(MaxHold, TheHolderIsToldAndTheNextWaiterGoesAhead) {
    const auto dir = fresh_root() + "/lock";
    with_two_sessions([&](session& a, session& b) -> asio::awaitable<void> {
        mutex_options bounded;
        bounded.max_hold = 500ms;
        mutex first(a, dir, bounded);
        mutex second(b, dir);
        auto held = co_await first.async_lock(asio::use_awaitable);
        const auto node = held.path();
        // The waiter gets the lock once the bounded hold ends; the holder hears why it ended.
        auto next = co_await second.async_lock(asio::use_awaitable);
        EXPECT_TRUE(next.owns());
        auto [lost] = co_await held.async_wait_lost(tuple);
        EXPECT_EQ(lost, errc::max_hold_passed);
        EXPECT_FALSE(held.owns());
        EXPECT_FALSE(node_exists(shared_hosts(), node));
        EXPECT_GT(next.fencing_token(), held.fencing_token());
        // Released before max_hold: nothing is taken back later.
        co_await next.async_release(asio::use_awaitable);
        auto quick = co_await first.async_lock(asio::use_awaitable);
        co_await quick.async_release(asio::use_awaitable);
        auto [after] = co_await quick.async_wait_lost(tuple);
        EXPECT_EQ(after, errc::not_owner);
    });
}

TEST(MaxHold, BoundsAnAdoptedLock) {
    const auto dir = fresh_root() + "/lock";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        mutex_options bounded;
        bounded.max_hold = 300ms;
        mutex m(s, dir, bounded);
        co_await m.async_prepare(asio::use_awaitable);
        // A lock node of this session's, as a process that resumes its session finds it.
        auto [cec, created] =
            co_await s.async_create(dir + "/_c_00000000-0000-0000-0000-000000000000-lock-",
                                    std::string(), create_mode::ephemeral_sequential, tuple);
        CO_REQUIRE(!cec);
        auto adopted = co_await m.async_adopt(created.path, asio::use_awaitable);
        EXPECT_TRUE(adopted.owns());
        auto [lost] = co_await adopted.async_wait_lost(tuple);
        EXPECT_EQ(lost, errc::max_hold_passed);
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 0; }));
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(MaxHold, BoundsALeaseToo) {
    const auto dir = fresh_root() + "/sem";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        semaphore_options bounded;
        bounded.max_hold = 300ms;
        semaphore sem(s, dir, 1, bounded);
        auto lease = co_await sem.async_acquire(asio::use_awaitable);
        auto [lost] = co_await lease.async_wait_lost(tuple);
        EXPECT_EQ(lost, errc::max_hold_passed);
        CO_REQUIRE(co_await eventually([&] { return children_count(dir + "/leases") == 0; }));
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(MaxHold, NonPositiveBoundsAreRefusedBeforeAnyNode) {
    const auto dir = fresh_root();
    with_sessions([&](session& s) -> asio::awaitable<void> {
        for (auto bad : {0ms, -5ms}) {
            mutex_options options;
            options.max_hold = bad;
            mutex m(s, dir + "/lock", options);
            auto [ec, held] = co_await m.async_lock(tuple);
            EXPECT_EQ(ec, errc::invalid_argument) << bad.count() << ": " << ec.message();
            EXPECT_FALSE(held.owns());
            auto [adopt_ec, adopted] = co_await m.async_adopt(dir + "/lock/_c_x-lock-1", tuple);
            EXPECT_EQ(adopt_ec, errc::invalid_argument) << adopt_ec.message();
            semaphore_options lease_options;
            lease_options.max_hold = bad;
            semaphore sem(s, dir + "/sem", 1, lease_options);
            auto [sec, lease] = co_await sem.async_acquire(tuple);
            EXPECT_EQ(sec, errc::invalid_argument) << bad.count() << ": " << sec.message();
            EXPECT_FALSE(lease.owns());
        }
        // Refused before any request: not even the directories were created.
        EXPECT_FALSE(node_exists(shared_hosts(), dir));
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(MaxHold, AHugeBoundMeansPracticallyNever) {
    const auto dir = fresh_root();
    with_sessions([&](asio::io_context& ioc, session& s) -> asio::awaitable<void> {
        mutex_options options;
        options.max_hold = std::chrono::milliseconds::max();  // ~292 million years
        mutex m(s, dir + "/lock", options);
        auto held = co_await m.async_lock(asio::use_awaitable);
        semaphore_options lease_options;
        lease_options.max_hold = std::chrono::hours(24 * 365 * 300);  // past the clock's range
        semaphore sem(s, dir + "/sem", 1, lease_options);
        auto lease = co_await sem.async_acquire(asio::use_awaitable);
        // An overflowing deadline would be in the past: both would be taken back at once.
        asio::steady_timer timer(ioc, 1s);
        auto outcome = co_await (held.async_wait_lost(tuple) || lease.async_wait_lost(tuple) ||
                                 timer.async_wait(tuple));
        EXPECT_EQ(outcome.index(), 2u) << "a hold was taken back";
        EXPECT_TRUE(held.owns());
        EXPECT_TRUE(lease.owns());
        co_await held.async_release(asio::use_awaitable);
        co_await lease.async_release(asio::use_awaitable);
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Revocation, TheHolderIsAskedAndLetsGo) {
    const auto dir = fresh_root() + "/lock";
    with_two_sessions([&](session& holder, session& revoker) -> asio::awaitable<void> {
        mutex m(holder, dir);
        auto held = co_await m.async_lock(asio::use_awaitable);
        EXPECT_FALSE(held.revocation_requested());
        auto [rec, how] = co_await async_revoke(revoker, held.path(), {}, tuple);
        EXPECT_FALSE(rec) << rec.message();
        EXPECT_EQ(how, revocation::requested);
        // Asked before the holder started listening: it hears of it all the same.
        auto [asked] = co_await held.async_wait_revocation(tuple);
        EXPECT_FALSE(asked) << asked.message();
        EXPECT_TRUE(held.revocation_requested());
        EXPECT_TRUE(held.owns());  // asking takes nothing away
        co_await held.async_release(asio::use_awaitable);
        auto [gone, none] = co_await async_revoke(revoker, held.path(), {}, tuple);
        EXPECT_EQ(gone, zk_errc::no_node);
    });
}

TEST(Revocation, ALeaseIsAskedThroughAnyOfItsNodesAndHasASequencer) {
    const auto dir = fresh_root() + "/sem";
    with_two_sessions([&](session& holder, session& revoker) -> asio::awaitable<void> {
        semaphore sem(holder, dir, 2);
        auto held = co_await sem.async_acquire(2, asio::use_awaitable);
        CO_REQUIRE(held.size() == 2u);
        const auto seq = held.sequencer();
        EXPECT_EQ(seq.node, held.locks().front().path());
        EXPECT_EQ(seq.token, held.fencing_token());
        auto [valid] = co_await async_check(revoker, seq, tuple);
        EXPECT_FALSE(valid) << valid.message();
        EXPECT_FALSE(held.revocation_requested());
        bool asked = false;
        error_code asked_ec;
        held.async_wait_revocation([&](error_code ec) {
            asked_ec = ec;
            asked = true;
        });
        // The second lease node is asked: the lease as a whole hears of it.
        auto [rec, how] = co_await async_revoke(revoker, held.locks().back().path(), {}, tuple);
        EXPECT_FALSE(rec) << rec.message();
        CO_REQUIRE(co_await eventually([&] { return asked; }));
        EXPECT_FALSE(asked_ec) << asked_ec.message();
        EXPECT_TRUE(held.revocation_requested());
        EXPECT_TRUE(held.owns());
        co_await held.async_release(asio::use_awaitable);
        auto [released] = co_await async_check(revoker, seq, tuple);
        EXPECT_EQ(released, errc::lock_lost);
        // An empty lease: no sequencer, and nothing to wait for.
        lease none;
        EXPECT_TRUE(none.sequencer().node.empty());
        auto [empty_ec] = co_await none.async_wait_revocation(tuple);
        EXPECT_EQ(empty_ec, errc::not_owner);
    });
}

TEST(Revocation, ForcedAfterGraceEvictsAndTheLateWriteIsRefused) {
    const auto root = fresh_root();
    const auto dir = root + "/lock";
    with_two_sessions([&](session& holder, session& other) -> asio::awaitable<void> {
        mutex m(holder, dir);
        mutex next_in_line(other, dir);
        auto held = co_await m.async_lock(asio::use_awaitable);
        const auto data_path = root + "/data";
        co_await holder.async_create(data_path, std::string("0"), create_mode::persistent, tuple);
        // The holder ignores the request: after the grace period its node is deleted.
        revoke_options forced;
        forced.force = true;
        forced.grace = 300ms;
        auto [rec, how] = co_await async_revoke(other, held.path(), forced, tuple);
        EXPECT_FALSE(rec) << rec.message();
        EXPECT_EQ(how, revocation::evicted);
        auto next = co_await next_in_line.async_lock(asio::use_awaitable);
        EXPECT_GT(next.fencing_token(), held.fencing_token());
        // The evicted holder writes late, not having heard yet: ZooKeeper refuses the guarded
        // write (and a resource that keeps the highest token refuses a fenced one: the next
        // holder's token is higher, as checked above).
        std::vector<op> late{op::set_data(data_path, "late")};
        auto [wec, results] = co_await held.async_guarded_multi(std::move(late), tuple);
        EXPECT_EQ(wec, errc::lock_lost);
        auto [gec, data] = co_await holder.async_get_data(data_path, tuple);
        EXPECT_EQ(data.data, "0");
        auto [lost] = co_await held.async_wait_lost(tuple);
        EXPECT_EQ(lost, errc::lock_node_deleted);
        co_await next.async_release(asio::use_awaitable);
    });
}

TEST(Revocation, ForcedButReleasedWithinGrace) {
    const auto dir = fresh_root() + "/lock";
    with_two_sessions([&](session& holder, session& revoker) -> asio::awaitable<void> {
        mutex m(holder, dir);
        auto held = co_await m.async_lock(asio::use_awaitable);
        // The holder lets go as soon as it is asked.
        held.async_wait_revocation([&held](error_code ec) {
            if (!ec) {
                held.async_release([](error_code) {});
            }
        });
        revoke_options forced;
        forced.force = true;
        forced.grace = 20s;
        auto [rec, how] = co_await async_revoke(revoker, held.path(), forced, tuple);
        EXPECT_FALSE(rec) << rec.message();
        EXPECT_EQ(how, revocation::released);
    });
}

TEST(Revocation, CuratorAndZkrAskEachOther) {
    const auto dir = fresh_root() + "/lock";
    with_sessions(
        {config_for_peer_tests(shared_hosts())},
        [&](session& s) -> asio::awaitable<void> {
            // zkr asks a Curator holder made revocable: it lets go.
            auto java = peer("curator-coordination", {"revocable-lock", dir});
            CO_REQUIRE(java.expect_line("locked", peer_start_limit));
            auto [qec, queue] = co_await async_list_queue(s, dir, tuple);
            CO_REQUIRE(!qec && queue.size() == 1 && queue.front().holds);
            auto [rec, how] = co_await async_revoke(s, dir + "/" + queue.front().node, {}, tuple);
            EXPECT_FALSE(rec) << rec.message();
            EXPECT_EQ(how, revocation::requested);
            CO_REQUIRE(java.expect_line("revoke-requested", peer_start_limit));
            CO_REQUIRE(java.expect_line("released", peer_start_limit));
            EXPECT_TRUE(java.exits_cleanly(peer_start_limit));
            // Curator's Revoker asks a zkr holder: it hears of it.
            mutex m(s, dir);
            auto held = co_await m.async_lock(asio::use_awaitable);
            auto revoker = peer("curator-coordination", {"revoke", held.path()});
            CO_REQUIRE(revoker.expect_line("done", peer_start_limit));
            auto [asked] = co_await held.async_wait_revocation(tuple);
            EXPECT_FALSE(asked) << asked.message();
            EXPECT_TRUE(revoker.exits_cleanly(peer_start_limit));
            co_await held.async_release(asio::use_awaitable);
            co_await s.async_close(asio::use_awaitable);
        },
        180s);
}

}  // namespace
}  // namespace zkr::test
