// Every recipe's wait with its own node deleted underneath it (an operator, a bug elsewhere): no
// acquisition may complete without its node, or two holders could believe they hold.
#include "test_support.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/mutex.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_mutex.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <functional>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

/// The children of `dir` that `before` did not have.
std::vector<std::string> new_children(const std::string& dir,
                                      const std::vector<std::string>& before) {
    std::vector<std::string> out;
    for (auto& name : list_children(shared_hosts(), dir)) {
        if (std::find(before.begin(), before.end(), name) == before.end()) {
            out.push_back(name);
        }
    }
    return out;
}

/// A holder on one session; a waiter on another queues behind it (second in line: the fast
/// hand-off case); the waiter's node is deleted by hand; the holder releases. The waiter must
/// end with errc::lock_node_deleted, and nothing be left. `watches` is what the waiter has
/// armed once it waits: 2 for a fast hand-off's waiter (the node ahead and its own), else 1.
/// Reports the outcome: the error, whether the handle owns, and the handle (kept alive by the
/// test until its session ends).
using done_fn = std::function<void(error_code, bool, std::shared_ptr<void>)>;
using acquire_fn = std::function<void(session&, const std::string& dir, done_fn done)>;

/// A done_fn-calling handler for a handle of type Handle.
template <class Handle>
auto reporting(done_fn done) {
    return [done = std::move(done)](error_code ec, Handle h) {
        const bool owns = static_cast<bool>(h);
        done(ec, owns, std::make_shared<Handle>(std::move(h)));
    };
}

void waiter_loses_its_node(const std::string& dir, const acquire_fn& acquire, std::size_t watches) {
    with_sessions<2>([&](session& a, session& b) -> asio::awaitable<void> {
        bool holder_done = false, waiter_done = false, waiter_acquired = false;
        error_code holder_ec, waiter_ec;
        std::vector<std::shared_ptr<void>> handles;
        acquire(a, dir, [&](error_code ec, bool acquired, std::shared_ptr<void> h) {
            holder_ec = ec;
            holder_done = acquired;
            handles.push_back(std::move(h));
        });
        CO_REQUIRE(co_await eventually([&] { return holder_done; }));
        CO_REQUIRE(!holder_ec);
        const auto before = list_children(shared_hosts(), dir);
        acquire(b, dir, [&](error_code ec, bool acquired, std::shared_ptr<void> h) {
            waiter_ec = ec;
            waiter_acquired = acquired;
            waiter_done = true;
            handles.push_back(std::move(h));
        });
        CO_REQUIRE(co_await eventually([&] { return b.pending_operations() == watches; }));
        const auto mine = new_children(dir, before);
        CO_REQUIRE(mine.size() == 1u);
        delete_node(shared_hosts(), dir + "/" + mine[0]);
        // The holder lets go by closing its session.
        co_await a.async_close(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return waiter_done; }));
        EXPECT_FALSE(waiter_acquired);
        EXPECT_EQ(waiter_ec, errc::lock_node_deleted) << waiter_ec.message();
        EXPECT_TRUE(co_await eventually([&] { return children_count(dir) == 0u; }));
        co_await b.async_close(asio::use_awaitable);
        handles.clear();
    });
}

TEST(DeletedNode, MutexWaiter) {
    waiter_loses_its_node(
        fresh_root() + "/lock",
        [](session& s, const std::string& dir, done_fn done) {
            mutex(s, dir).async_lock(reporting<lock>(std::move(done)));
        },
        2);
}

TEST(DeletedNode, WriterAndReaderWaiters) {
    for (const bool reader : {false, true}) {
        waiter_loses_its_node(
            fresh_root() + "/rw",
            [reader, first = true](session& s, const std::string& dir, done_fn done) mutable {
                shared_mutex m(s, dir);
                if (first || !reader) {
                    m.async_lock(reporting<lock>(std::move(done)));  // the holder writes
                } else {
                    m.async_lock_shared(reporting<lock>(std::move(done)));
                }
                first = false;
            },
            reader ? 2 : 1);  // a writer lists again after each hand-off
    }
}

TEST(DeletedNode, ElectionCandidate) {
    waiter_loses_its_node(
        fresh_root() + "/election",
        [](session& s, const std::string& dir, done_fn done) {
            leader_election(s, dir, "candidate")
                .async_campaign(reporting<leadership>(std::move(done)));
        },
        1);  // an elected candidate reads its node back
}

TEST(DeletedNode, SemaphoreLeaseIsMadeAgainAndGrantedOnlyWithItsNode) {
    const auto path = fresh_root() + "/semaphore";
    const auto leases = path + "/leases";
    with_sessions<2>([&](session& a, session& b) -> asio::awaitable<void> {
        semaphore sa(a, path, 1);
        auto held = co_await sa.async_acquire(1, asio::use_awaitable);
        CO_REQUIRE(held.owns());
        const auto before = list_children(shared_hosts(), leases);
        semaphore sb(b, path, 1);
        bool done = false;
        lease granted;
        sb.async_acquire(1, [&](error_code ec, lease l) {
            EXPECT_FALSE(ec) << ec.message();
            granted = std::move(l);
            done = true;
        });
        CO_REQUIRE(co_await eventually([&] { return new_children(leases, before).size() == 1u; }));
        const auto first = new_children(leases, before)[0];
        delete_node(shared_hosts(), leases + "/" + first);
        // The waiter makes its lease node again (a new name) and keeps waiting: one holder.
        CO_REQUIRE(co_await eventually([&] {
            auto now = new_children(leases, before);
            return now.size() == 1u && now[0] != first;
        }));
        EXPECT_FALSE(done);
        co_await held.async_release(asio::use_awaitable);
        CO_REQUIRE(co_await eventually([&] { return done; }));
        EXPECT_TRUE(granted.owns());
        const auto now = list_children(shared_hosts(), leases);
        EXPECT_EQ(now.size(), 1u);  // its node, and only its node
        co_await granted.async_release(asio::use_awaitable);
        co_await b.async_close(asio::use_awaitable);
        co_await a.async_close(asio::use_awaitable);
    });
}

}  // namespace
}  // namespace zkr::test
