// zkr::metrics against a real server: what a session's observer hears of locks, leases,
// elections, losses, session states and requests.
#include "test_support.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/metrics.hpp>
#include <zkr/mutex.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using label_list = std::vector<std::pair<std::string, std::string>>;

/// The value of the series of `name` whose labels include `wanted` (0 if there is none), or its
/// count for a histogram.
double value_of(const metrics& m, std::string_view name, const label_list& wanted) {
    for (const auto& f : m.collect()) {
        if (f.name != name) {
            continue;
        }
        for (const auto& s : f.series) {
            if (std::ranges::all_of(wanted, [&](const auto& l) {
                    return std::ranges::find(s.labels, l) != s.labels.end();
                })) {
                return f.type == metric_type::histogram ? static_cast<double>(s.count) : s.value;
            }
        }
    }
    return 0;
}

session_config observed_by(const std::shared_ptr<metrics>& m) {
    auto config = config_for(shared_hosts());
    config.observer = m;
    return config;
}

TEST(Metrics, CountLocksHandOffsAndLosses) {
    const auto dir = fresh_root() + "/lock";
    auto m = std::make_shared<metrics>();
    const label_list lock{{"recipe", "mutex"}, {"path", dir}};
    with_sessions(
        {observed_by(m), observed_by(m), config_for(shared_hosts())},  // `other`: not observed
        [&](asio::io_context& ioc, session& a, session& b,
            session& other) -> asio::awaitable<void> {
            EXPECT_EQ(value_of(*m, "zkr_sessions", {{"state", "connected"}}), 2);

            mutex first(a, dir);
            mutex second(b, dir);
            auto held = co_await first.async_lock(asio::use_awaitable);
            EXPECT_EQ(value_of(*m, "zkr_held", lock), 1);
            // b waits behind a, and gets the lock when a lets go: a hand-off.
            auto waiting =
                asio::co_spawn(ioc, second.async_lock(asio::use_awaitable), asio::use_future);
            CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));
            co_await held.async_release(asio::use_awaitable);
            CO_REQUIRE(co_await eventually(
                [&] { return waiting.wait_for(0s) == std::future_status::ready; }));
            auto next = waiting.get();
            EXPECT_EQ(value_of(*m, "zkr_acquisitions_total", lock), 2);
            EXPECT_EQ(value_of(*m, "zkr_handoffs_total", lock), 1);
            EXPECT_EQ(value_of(*m, "zkr_held", lock), 1);
            EXPECT_EQ(value_of(*m, "zkr_hold_seconds", lock), 1);  // a's hold ended
            EXPECT_EQ(value_of(*m, "zkr_wait_seconds", lock), 2);

            // Someone deletes b's node: a loss, with its reason.
            co_await other.async_remove(next.path(), -1, asio::use_awaitable);
            auto [lost] = co_await next.async_wait_lost(tuple);
            EXPECT_EQ(lost, errc::lock_node_deleted);
            CO_REQUIRE(co_await eventually([&] {
                return value_of(*m, "zkr_losses_total", {{"reason", "lock_node_deleted"}}) == 1;
            }));
            EXPECT_EQ(value_of(*m, "zkr_held", lock), 0);
            EXPECT_EQ(value_of(*m, "zkr_hold_seconds", lock), 2);

            // A try_lock that finds the lock busy is no failure; a cancelled wait is.
            auto again = co_await first.async_lock(asio::use_awaitable);
            auto [busy_ec, busy] = co_await second.async_try_lock(tuple);
            EXPECT_FALSE(busy_ec);
            EXPECT_FALSE(busy.owns());
            asio::steady_timer timer(ioc, 50ms);
            auto raced =
                co_await (second.async_lock(tuple) || timer.async_wait(asio::use_awaitable));
            EXPECT_EQ(raced.index(), 1U);  // the timer won: the acquisition was cancelled
            EXPECT_EQ(value_of(*m, "zkr_acquisition_failures_total", lock), 1);
            co_await again.async_release(asio::use_awaitable);

            // Every request was timed; none of the unobserved session's.
            EXPECT_GE(value_of(*m, "zkr_request_seconds", {{"op", "create"}}), 4);
            EXPECT_GE(value_of(*m, "zkr_request_seconds", {{"op", "remove"}}), 2);
            co_await a.async_close(asio::use_awaitable);
            co_await b.async_close(asio::use_awaitable);
            co_await other.async_close(asio::use_awaitable);
        });
    EXPECT_EQ(value_of(*m, "zkr_sessions", {{"state", "connected"}}), 0);
    EXPECT_EQ(value_of(*m, "zkr_session_transitions_total", {{"state", "closed"}}), 2);
}

TEST(Metrics, CountLeasesAndLeadershipsUnderTheirOwnNames) {
    const auto root = fresh_root();
    auto m = std::make_shared<metrics>();
    with_sessions({observed_by(m)}, [&](session& s) -> asio::awaitable<void> {
        semaphore sem(s, root + "/sem", 2);
        auto lease = co_await sem.async_acquire(2, asio::use_awaitable);
        co_await lease.async_release(asio::use_awaitable);
        leader_election election(s, root + "/election", "me");
        auto leading = co_await election.async_campaign(asio::use_awaitable);
        co_await leading.async_resign(asio::use_awaitable);
        co_await s.async_close(asio::use_awaitable);
    });
    // One per lease node; the semaphore's turn in its queue is not a lock of its own.
    EXPECT_EQ(
        value_of(*m, "zkr_acquisitions_total", {{"recipe", "semaphore"}, {"path", root + "/sem"}}),
        2);
    EXPECT_EQ(value_of(*m, "zkr_acquisitions_total", {{"recipe", "mutex"}}), 0);
    EXPECT_EQ(value_of(*m, "zkr_acquisitions_total",
                       {{"recipe", "election"}, {"path", root + "/election"}}),
              1);
    EXPECT_EQ(value_of(*m, "zkr_held", {{"recipe", "semaphore"}}), 0);
    EXPECT_EQ(value_of(*m, "zkr_held", {{"recipe", "election"}}), 0);
}

#ifdef ZKR_PROMETHEUS_EXAMPLE
// The prometheus-cpp adapter, scraped from outside while four sessions contend for a lock.
TEST(Metrics, PrometheusExampleServesAContendedRun) {
    child_process example({ZKR_PROMETHEUS_EXAMPLE, shared_hosts(), "127.0.0.1:0", "6"}, true);
    std::string line;
    ASSERT_TRUE(example.read_line(line)) << "the example did not start";
    const auto port = port_in(line);
    ASSERT_NE(port, 0) << line;
    const std::string lock = "{recipe=\"mutex\",path=\"/zkr/examples/metrics/lock\"}";
    const auto acquisitions = "zkr_acquisitions_total" + lock;
    double first = 0;
    ASSERT_TRUE(wait_until([&] {
        first = sample_in(http_get(port), acquisitions).value_or(0);
        return first > 0;
    })) << http_get(port);
    const auto page = http_get(port);
    EXPECT_NE(page.find("# TYPE zkr_wait_seconds histogram"), std::string::npos) << page;
    EXPECT_NE(page.find("zkr_wait_seconds_bucket{"), std::string::npos) << page;
    EXPECT_TRUE(sample_in(page, "zkr_sessions{state=\"connected\"}").has_value()) << page;
    // Scraped again while the run goes on: the counts grow, hand-offs among them.
    EXPECT_TRUE(wait_until([&] {
        const auto now = http_get(port);
        return sample_in(now, acquisitions).value_or(0) > first &&
               sample_in(now, "zkr_handoffs_total" + lock).value_or(0) > 0;
    }));
    EXPECT_EQ(example.wait(), 0);  // its own verdict: the metrics count every cycle
}
#endif

}  // namespace
}  // namespace zkr::test
