// zkr::queue against a real server: FIFO order, the refusals, waiting and its cancellation,
// claims (completed with a result, released, lost with their session), 8 consumers sharing 200
// items, and what a put wakes and an item costs in requests (docs/queues.md).
#include "test_support.hpp"

#include <zkr/observer.hpp>
#include <zkr/queue.hpp>
#include <zkr/session.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

/// The requests a session sent from a moment on (an answer that comes after it to a request
/// sent before does not count), and its changes of state: a consumer that lost its connection
/// looks at the queue again when it is back, which is no herd.
struct wake_counter final : observer {
    using clock = std::chrono::steady_clock;
    void request_completed(request_kind, std::chrono::nanoseconds round_trip,
                           error_code) noexcept override {
        const auto sent = clock::now() - round_trip;
        requests += sent.time_since_epoch().count() >= since.load() ? 1 : 0;
    }
    void session_state_changed(session_state, session_state) noexcept override { ++state_changes; }
    /// Counts the requests sent from now on.
    void restart() {
        requests = 0;
        since = clock::now().time_since_epoch().count();
    }
    std::atomic<long> requests{0};
    std::atomic<clock::rep> since{0};
    std::atomic<long> state_changes{0};
};

TEST(Queue, ItemsComeOutInOrderInCuratorsLayout) {
    const auto path = fresh_root() + "/q";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        queue q(s, path);
        auto [pec, first] = co_await q.async_put("one", tuple);
        CO_REQUIRE(!pec);
        EXPECT_TRUE(first.starts_with("qn-")) << first;
        EXPECT_EQ(read_node(path + "/" + first)->data, "one") << "the item's bytes, as they are";
        std::vector<std::string> two_more{"two", "three"};
        auto [mec, more] = co_await q.async_put_many(std::move(two_more), tuple);
        CO_REQUIRE(!mec);
        CO_REQUIRE(more.size() == 2u);
        EXPECT_LT(first, more[0]);
        EXPECT_LT(more[0], more[1]);

        auto [sec, size] = co_await q.async_size(tuple);
        EXPECT_FALSE(sec);
        EXPECT_EQ(size, 3u);
        auto [kec, head] = co_await q.async_peek(tuple);
        EXPECT_FALSE(kec);
        CO_REQUIRE(head.has_value());
        EXPECT_EQ(head->data, "one");
        EXPECT_EQ(children_count(path), 3u) << "a peek leaves it";

        const std::vector<std::string> in_order{"one", "two", "three"};
        for (const auto& expected : in_order) {
            auto [tec, item] = co_await q.async_take(tuple);
            EXPECT_FALSE(tec) << tec.message();
            EXPECT_EQ(item.data, expected);
        }
        auto [eec, empty] = co_await q.async_peek(tuple);
        EXPECT_FALSE(eec);
        EXPECT_FALSE(empty.has_value());
        EXPECT_EQ(list_children(shared_hosts(), path).size(), 0u + children_count(path));
        for (const auto& child : list_children(shared_hosts(), path)) {
            EXPECT_FALSE(child.starts_with("qn-")) << child << " left";
        }
        EXPECT_TRUE(co_await settled(s));
    });
}

TEST(Queue, BadInputIsRefusedAndNothingWritten) {
    const auto path = fresh_root() + "/q";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        queue q(s, path);
        auto [pec, node] = co_await q.async_put("kept", tuple);
        CO_REQUIRE(!pec);
        // One item over the packet limit: the whole transaction refused before it is sent.
        std::vector<std::string> one_too_big{"small",
                                             std::string(s.config().max_packet_bytes, 'x')};
        auto [bec, none] = co_await q.async_put_many(std::move(one_too_big), tuple);
        EXPECT_EQ(bec, errc::request_too_large) << bec.message();
        auto [big_ec, big] =
            co_await q.async_put(std::string(s.config().max_packet_bytes, 'x'), tuple);
        EXPECT_EQ(big_ec, errc::request_too_large);
        auto [sec, size] = co_await q.async_size(tuple);
        EXPECT_EQ(size, 1u) << "all or none";

        queue bad(s, "no/slash");
        auto [iec, ignored] = co_await bad.async_put("x", tuple);
        EXPECT_EQ(iec, errc::invalid_path);
        queue ends_in_slash(s, path + "/");
        auto [tec, item] = co_await ends_in_slash.async_take(tuple);
        EXPECT_EQ(tec, errc::invalid_path);

        // A foreign child is skipped (Curator does the same), not taken, not deleted.
        create_node(shared_hosts(), path + "/foreign", "not an item");
        auto [take_ec, taken] = co_await q.async_take(tuple);
        EXPECT_FALSE(take_ec);
        EXPECT_EQ(taken.data, "kept");
        EXPECT_TRUE(node_exists(shared_hosts(), path + "/foreign"));
        auto [fsec, fsize] = co_await q.async_size(tuple);
        EXPECT_EQ(fsize, 0u);
        delete_node(shared_hosts(), path + "/foreign");
    });
}

TEST(Queue, ATakeWaitsAndAPutWakesIt) {
    const auto path = fresh_root() + "/q";
    with_sessions<2>([&](session& consumer, session& producer) -> asio::awaitable<void> {
        std::optional<queue_item> got;
        error_code got_ec;
        asio::co_spawn(
            co_await asio::this_coro::executor,
            [&]() -> asio::awaitable<void> {
                queue consumers(consumer, path);
                auto [ec, item] = co_await consumers.async_take(tuple);
                got_ec = ec;
                got = item;
            },
            asio::detached);
        CO_REQUIRE(co_await eventually([&] { return children_count(path + "/zkr-waiters") == 1; }));
        EXPECT_FALSE(got.has_value());
        queue producers(producer, path);
        auto [pec, node] = co_await producers.async_put("wake", tuple);
        CO_REQUIRE(!pec);
        CO_REQUIRE(co_await eventually([&] { return got.has_value(); }));
        EXPECT_FALSE(got_ec);
        EXPECT_EQ(got->data, "wake");
        EXPECT_EQ(got->node, node);
        CO_REQUIRE(co_await eventually([&] { return children_count(path + "/zkr-waiters") == 0; }));
        EXPECT_TRUE(co_await settled(consumer));
    });
}

TEST(Queue, ACancelledOrTimedOutTakeLeavesNoWaiterBehind) {
    const auto path = fresh_root() + "/q";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        queue q(s, path);
        asio::steady_timer deadline(co_await asio::this_coro::executor, 300ms);
        auto outcome = co_await (q.async_take(tuple) || deadline.async_wait(tuple));
        EXPECT_EQ(outcome.index(), 1u) << "the deadline passed first";
        CO_REQUIRE(co_await eventually([&] { return children_count(path + "/zkr-waiters") == 0; }));
        EXPECT_TRUE(co_await settled(s)) << "no watch left either";

        // Cancelled through a slot, as a claim.
        asio::cancellation_signal cancel;
        error_code claim_ec;
        bool done = false;
        q.async_claim(asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, queue_claim) {
            claim_ec = ec;
            done = true;
        }));
        CO_REQUIRE(co_await eventually([&] { return children_count(path + "/zkr-waiters") == 1; }));
        cancel.emit(asio::cancellation_type::terminal);
        CO_REQUIRE(co_await eventually([&] { return done; }));
        EXPECT_EQ(claim_ec, asio::error::operation_aborted);
        CO_REQUIRE(co_await eventually([&] { return children_count(path + "/zkr-waiters") == 0; }));
        EXPECT_TRUE(co_await settled(s));
    });
}

TEST(Queue, AClaimCompletesWithItsResultInOneTransaction) {
    const auto root = fresh_root();
    const auto path = root + "/q";
    create_node(shared_hosts(), root, {});
    with_sessions<2>([&](session& s, session& other) -> asio::awaitable<void> {
        queue q(s, path);
        auto [pec, node] = co_await q.async_put("job", tuple);
        CO_REQUIRE(!pec);
        auto [cec, claim] = co_await q.async_claim(tuple);
        CO_REQUIRE(!cec);
        EXPECT_TRUE(claim.owns());
        EXPECT_EQ(claim.item().data, "job");
        EXPECT_EQ(claim.item().node, node);
        EXPECT_EQ(claim.path(), path + "/zkr-claims/" + node);
        auto claim_node = read_node(claim.path());
        CO_REQUIRE(claim_node.has_value());
        EXPECT_EQ(claim_node->stat.czxid, claim.fencing_token());
        EXPECT_EQ(claim_node->stat.ephemeral_owner, s.session_id());

        // Another consumer skips the claimed item: it waits.
        asio::steady_timer deadline(co_await asio::this_coro::executor, 300ms);
        queue others(other, path);
        auto other_take = co_await (others.async_take(tuple) || deadline.async_wait(tuple));
        EXPECT_EQ(other_take.index(), 1u) << "a claimed item is nobody else's";

        std::vector<op> result{
            op::create(root + "/result", "done:" + std::to_string(claim.fencing_token()))};
        auto [xec, results] = co_await claim.async_complete(std::move(result), tuple);
        EXPECT_FALSE(xec) << xec.message();
        EXPECT_EQ(results.size(), 1u);
        EXPECT_FALSE(claim.owns());
        EXPECT_FALSE(node_exists(shared_hosts(), path + "/" + node));
        EXPECT_FALSE(node_exists(shared_hosts(), path + "/zkr-claims/" + node));
        EXPECT_TRUE(node_exists(shared_hosts(), root + "/result"));

        // Completed once: a second completion is refused, and writes nothing.
        std::vector<op> again_ops{op::create(root + "/again", {})};
        auto [again_ec, again] = co_await claim.async_complete(std::move(again_ops), tuple);
        EXPECT_EQ(again_ec, errc::claim_lost);
        EXPECT_FALSE(node_exists(shared_hosts(), root + "/again"));
        EXPECT_TRUE(co_await settled(s));
    });
}

TEST(Queue, AReleasedClaimGivesTheItemBack) {
    const auto path = fresh_root() + "/q";
    with_sessions<2>([&](session& s, session& other) -> asio::awaitable<void> {
        queue mine(s, path);
        auto [pec, node] = co_await mine.async_put("retry me", tuple);
        CO_REQUIRE(!pec);
        queue mine_to_claim(s, path);
        auto [cec, claim] = co_await mine_to_claim.async_claim(tuple);
        CO_REQUIRE(!cec);
        auto [rec] = co_await claim.async_release(tuple);
        EXPECT_FALSE(rec);
        EXPECT_FALSE(claim.owns());
        queue others(other, path);
        auto [tec, item] = co_await others.async_take(tuple);
        EXPECT_FALSE(tec);
        EXPECT_EQ(item.data, "retry me");

        // A claim dropped without a word goes back too.
        queue mine_again(s, path);
        auto [p2, n2] = co_await mine_again.async_put("dropped", tuple);
        {
            queue mine_to_drop(s, path);
            auto [c2, dropped] = co_await mine_to_drop.async_claim(tuple);
            CO_REQUIRE(!c2);
        }
        queue others_again(other, path);
        auto [t2, again] = co_await others_again.async_take(tuple);
        EXPECT_FALSE(t2);
        EXPECT_EQ(again.data, "dropped");
    });
}

TEST(Queue, AClaimLostWithItsSessionGoesToAnotherConsumerAndTheStaleCompletionIsRefused) {
    const auto root = fresh_root();
    const auto path = root + "/q";
    create_node(shared_hosts(), root, {});
    auto renewing = config_for(shared_hosts(), 1000ms);
    renewing.renew_after_expiry = true;
    const session_config configs[] = {renewing, config_for(shared_hosts())};
    with_sessions(
        configs,
        [&](session& stale, session& other) -> asio::awaitable<void> {
            queue others(other, path);
            auto [pec, node] = co_await others.async_put("once", tuple);
            CO_REQUIRE(!pec);
            queue stales(stale, path);
            auto [cec, claim] = co_await stales.async_claim(tuple);
            CO_REQUIRE(!cec);
            const auto first_token = claim.fencing_token();

            // The other consumer waits for the item while the claim holds it.
            std::optional<queue_claim> taken;
            asio::co_spawn(
                co_await asio::this_coro::executor,
                [&]() -> asio::awaitable<void> {
                    queue others_to_claim(other, path);
                    auto [ec, c] = co_await others_to_claim.async_claim(tuple);
                    EXPECT_FALSE(ec) << ec.message();
                    taken = std::move(c);
                },
                asio::detached);
            const auto old_id = stale.session_id();
            expire_session(stale, shared_hosts());
            CO_REQUIRE(co_await eventually([&] { return taken.has_value(); }, 20s));
            EXPECT_EQ(taken->item().data, "once");
            EXPECT_NE(taken->fencing_token(), first_token);
            CO_REQUIRE(co_await eventually([&] { return stale.session_id() != old_id; }, 20s));
            EXPECT_FALSE(claim.owns());

            // The renewed session could write; the claim made in the old one is refused here.
            std::vector<op> stale_ops{op::create(root + "/stale-result", {})};
            auto [stale_ec, stale_results] =
                co_await claim.async_complete(std::move(stale_ops), tuple);
            EXPECT_EQ(stale_ec, errc::claim_lost) << stale_ec.message();
            EXPECT_FALSE(node_exists(shared_hosts(), root + "/stale-result"));
            EXPECT_TRUE(node_exists(shared_hosts(), path + "/" + node)) << "the item stays";

            std::vector<op> result_ops{op::create(root + "/result", {})};
            auto [done_ec, done] = co_await taken->async_complete(std::move(result_ops), tuple);
            EXPECT_FALSE(done_ec) << done_ec.message();
            EXPECT_FALSE(node_exists(shared_hosts(), path + "/" + node));
        },
        60s);
}

TEST(Queue, EightConsumersOnEightSessionsTakeTwoHundredItemsEachOnce) {
    const auto root = fresh_root();
    const auto path = root + "/q";
    create_node(shared_hosts(), root, {});
    create_node(shared_hosts(), root + "/done", {});
    with_sessions_like<9>(
        config_for(shared_hosts()),
        [&](asio::io_context&, session& producer, auto&... consumers) -> asio::awaitable<void> {
            std::multiset<std::string> got;
            int failures = 0;
            asio::cancellation_signal stops[8];
            int stopped = 0;
            // Even consumers take (at most once), odd ones claim and complete (exactly once,
            // with a result node per item in the same transaction).
            auto consume = [&](session& s, int index) -> asio::awaitable<void> {
                queue q(s, path);
                for (;;) {
                    if (index % 2 == 0) {
                        auto [ec, item] = co_await q.async_take(
                            asio::bind_cancellation_slot(stops[index].slot(), tuple));
                        if (ec) {
                            failures += ec != asio::error::operation_aborted;
                            break;
                        }
                        got.insert(item.data);
                    } else {
                        auto [ec, claim] = co_await q.async_claim(
                            asio::bind_cancellation_slot(stops[index].slot(), tuple));
                        if (ec) {
                            failures += ec != asio::error::operation_aborted;
                            break;
                        }
                        std::vector<zkr::op> result_ops;
                        result_ops.push_back(
                            zkr::op::create(root + "/done/" + claim.item().node, std::string{}));
                        auto [xec, r] = co_await claim.async_complete(std::move(result_ops), tuple);
                        if (xec) {
                            ++failures;
                            continue;
                        }
                        got.insert(claim.item().data);
                    }
                }
                ++stopped;
            };
            const auto ex = co_await asio::this_coro::executor;
            int index = 0;
            (asio::co_spawn(ex, consume(consumers, index++), asio::detached), ...);
            for (int batch = 0; batch < 20; ++batch) {
                std::vector<std::string> items;
                for (int i = 0; i < 10; ++i) {
                    items.push_back("item-" + std::to_string(batch * 10 + i));
                }
                queue producers(producer, path);
                auto [pec, nodes] = co_await producers.async_put_many(items, tuple);
                EXPECT_FALSE(pec) << pec.message();
            }
            CO_REQUIRE(co_await eventually([&] { return got.size() >= 200; }, 60s));
            for (auto& stop : stops) {
                stop.emit(asio::cancellation_type::terminal);
            }
            CO_REQUIRE(co_await eventually([&] { return stopped == 8; }));
            EXPECT_EQ(failures, 0);
            EXPECT_EQ(got.size(), 200u);
            EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), 200u)
                << "each item exactly once";
            queue producers_view(producer, path);
            auto [sec, left] = co_await producers_view.async_size(tuple);
            EXPECT_EQ(left, 0u);
            CO_REQUIRE(
                co_await eventually([&] { return children_count(path + "/zkr-waiters") == 0; }));
        },
        90s);
}

/// What happens when one item is put while 8 consumers on 8 sessions wait: how many consumers
/// woke (sent a request) for it. A herd (each consumer watching the queue) wakes all 8.
TEST(Queue, OnePutWakesTheFirstWaiterAndItsSuccessorNotTheHerd) {
    const auto path = fresh_root() + "/q";
    std::vector<std::shared_ptr<wake_counter>> counters;
    std::vector<session_config> configs;
    for (int i = 0; i < 9; ++i) {
        counters.push_back(std::make_shared<wake_counter>());
        configs.push_back(config_for(shared_hosts()));
        configs.back().observer = counters.back();
    }
    std::vector<double> woken_per_put;
    detail::run_connected(
        configs,
        [&](asio::io_context&,
            std::vector<std::unique_ptr<session>>& sessions) -> asio::awaitable<void> {
            int taken = 0;
            const auto ex = co_await asio::this_coro::executor;
            for (int i = 1; i <= 8; ++i) {
                asio::co_spawn(
                    ex,
                    [&, i]() -> asio::awaitable<void> {
                        queue consumers(*sessions[i], path);
                        auto [ec, item] = co_await consumers.async_take(tuple);
                        EXPECT_FALSE(ec);
                        ++taken;
                    },
                    asio::detached);
            }
            const auto waiters = path + "/zkr-waiters";
            // Settled: everyone in line, and every waiter but the first watching its predecessor
            // (the server lists data watches only: the first one's watch on the queue does not
            // show; if the put comes before it is armed, the first one's look finds the item).
            auto lined_up = [&](std::size_t n) {
                std::size_t watches = 0;
                for (int i = 1; i <= 8; ++i) {
                    watches += server_watches(shared_hosts(), sessions[i]->session_id());
                }
                return children_count(waiters) == n && watches + 1 == n;
            };
            for (int put = 0; put < 4; ++put) {
                const auto waiting = static_cast<std::size_t>(8 - put);
                const bool in_line = co_await eventually([&] { return lined_up(waiting); });
                EXPECT_TRUE(in_line) << children_count(waiters) << " waiters";
                CO_REQUIRE(in_line);
                long changes_before = 0;
                for (const auto& c : counters) {
                    c->restart();
                    changes_before += c->state_changes;
                }
                queue producers(*sessions[0], path);
                auto [pec, node] = co_await producers.async_put("x", tuple);
                CO_REQUIRE(!pec);
                CO_REQUIRE(co_await eventually([&] { return taken == put + 1; }));
                CO_REQUIRE(co_await eventually([&] { return lined_up(waiting - 1); }));
                int woken = 0;
                long changes = -changes_before;
                for (int i = 1; i <= 8; ++i) {
                    woken += counters[i]->requests != 0 ? 1 : 0;
                }
                for (const auto& c : counters) {
                    changes += c->state_changes;
                }
                if (changes == 0) {
                    woken_per_put.push_back(woken);
                } else {
                    std::printf(
                        "a put with %ld connection changes meanwhile (a loaded machine): "
                        "%d woken, not counted\n",
                        changes, woken);
                }
            }
            // The rest: put what they wait for, so that they end.
            std::vector<std::string> rest(4, "y");
            queue producers_rest(*sessions[0], path);
            auto [mec, nodes] = co_await producers_rest.async_put_many(std::move(rest), tuple);
            CO_REQUIRE(!mec);
            CO_REQUIRE(co_await eventually([&] { return taken == 8; }));
        },
        60s);
    EXPECT_GE(woken_per_put.size(), 2U) << "connections changed under most puts";
    for (const auto w : woken_per_put) {
        std::printf("consumers woken by one put, 8 waiting on 8 sessions: %.0f\n", w);
        EXPECT_LE(w, 2.0) << "the first in line, and the next one when it leaves the line";
        EXPECT_GE(w, 1.0);
    }
}

/// Requests one consumer sends per item when items are there: take, and claim + complete.
TEST(Queue, RequestsPerItemForATakeAndForAClaimCompleted) {
    const auto path = fresh_root() + "/q";
    auto counter = std::make_shared<request_counter>();
    auto config = config_for(shared_hosts());
    config.observer = counter;
    const session_config configs[] = {config};
    with_sessions(configs, [&](session& s) -> asio::awaitable<void> {
        queue q(s, path);
        constexpr int items = 50;
        // The queue's directories made first: what is measured is the steady state.
        auto [warm_ec, warm_node] = co_await q.async_put("warm", tuple);
        auto [warm_take_ec, warm_item] = co_await q.async_take(tuple);
        CO_REQUIRE(!warm_ec && !warm_take_ec);
        auto put_before = counter->requests.load();
        for (int i = 0; i < items; ++i) {
            auto [pec, node] = co_await q.async_put("p", tuple);
            CO_REQUIRE(!pec);
        }
        const double per_put = static_cast<double>(counter->requests - put_before) / items;
        auto before = counter->requests.load();
        for (int i = 0; i < items; ++i) {
            auto [ec, item] = co_await q.async_take(tuple);
            CO_REQUIRE(!ec);
        }
        const double per_take = static_cast<double>(counter->requests - before) / items;
        std::vector<std::string> batch(items, "c");
        auto [mec, nodes] = co_await q.async_put_many(batch, tuple);
        CO_REQUIRE(!mec);
        before = counter->requests.load();
        for (int i = 0; i < items; ++i) {
            auto [ec, claim] = co_await q.async_claim(tuple);
            CO_REQUIRE(!ec);
            auto [xec, r] = co_await claim.async_complete({}, tuple);
            CO_REQUIRE(!xec);
        }
        const double per_claim = static_cast<double>(counter->requests - before) / items;
        std::printf("requests per item, one consumer: put %.2f, take %.2f, claim + complete %.2f\n",
                    per_put, per_take, per_claim);
        EXPECT_DOUBLE_EQ(per_put, 2.0) << "the children's version, then the create";
        EXPECT_DOUBLE_EQ(per_take, 4.0) << "two listings at once, the read, the transaction";
        EXPECT_DOUBLE_EQ(per_claim, 5.0) << "two listings, the claim, the read, the transaction";
    });
}

}  // namespace
}  // namespace zkr::test
