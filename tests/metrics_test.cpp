// zkr::metrics without a server: what it counts from observer events, how it bounds the path
// label, and the text it serves.
#include <zkr/metrics.hpp>
#include <zkr/session.hpp>

#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>

namespace zkr {
namespace {

using namespace std::chrono_literals;

const metric_family& family_named(const std::vector<metric_family>& all, std::string_view name) {
    const auto it = std::ranges::find(all, name, &metric_family::name);
    if (it == all.end()) {
        throw std::runtime_error("no family " + std::string(name));
    }
    return *it;
}

/// The series of `family` whose labels include every pair of `wanted`; throws if none.
const metric_series& series_with(const metric_family& family,
                                 std::vector<std::pair<std::string, std::string>> wanted) {
    for (const auto& s : family.series) {
        if (std::ranges::all_of(wanted, [&](const auto& label) {
                return std::ranges::find(s.labels, label) != s.labels.end();
            })) {
            return s;
        }
    }
    throw std::runtime_error("no such series in " + family.name);
}

TEST(Metrics, CountsAHoldFromAcquisitionToLoss) {
    metrics m;
    const lock_subject lock{"mutex", "/app/lock"};
    m.acquired(lock, 3ms, false);
    m.acquired(lock, 40ms, true);
    m.hold_ended(lock, 2ms, error_code{});
    m.revocation_requested(lock);
    m.hold_ended(lock, 700ms, make_error_code(zk_errc::session_expired));
    m.acquisition_failed(lock, 1s, make_error_code(boost::asio::error::operation_aborted));

    const auto all = m.collect();
    const std::vector<std::pair<std::string, std::string>> labels{{"recipe", "mutex"},
                                                                  {"path", "/app/lock"}};
    EXPECT_EQ(series_with(family_named(all, "zkr_acquisitions_total"), labels).value, 2);
    EXPECT_EQ(series_with(family_named(all, "zkr_handoffs_total"), labels).value, 1);
    EXPECT_EQ(series_with(family_named(all, "zkr_held"), labels).value, 0);
    EXPECT_EQ(series_with(family_named(all, "zkr_revocation_requests_total"), labels).value, 1);
    EXPECT_EQ(
        series_with(family_named(all, "zkr_losses_total"), {{"reason", "session_expired"}}).value,
        1);
    EXPECT_EQ(family_named(all, "zkr_losses_total").series.size(), 1U);  // a release is no loss
    EXPECT_EQ(
        series_with(family_named(all, "zkr_acquisition_failures_total"), {{"reason", "cancelled"}})
            .value,
        1);

    const auto& wait = family_named(all, "zkr_wait_seconds");
    const auto& waits = series_with(wait, labels);
    ASSERT_EQ(waits.cumulative_counts.size(), wait.bucket_bounds.size() + 1);
    EXPECT_EQ(waits.count, 2U);
    EXPECT_NEAR(waits.sum, 0.043, 1e-9);
    // 3 ms falls in the 0.005 bucket, 40 ms in the 0.05 one; cumulative counts never decrease.
    const auto bucket = [&](double bound) {
        const auto at = std::ranges::find(wait.bucket_bounds, bound) - wait.bucket_bounds.begin();
        return waits.cumulative_counts[static_cast<std::size_t>(at)];
    };
    EXPECT_EQ(bucket(0.0025), 0U);
    EXPECT_EQ(bucket(0.005), 1U);
    EXPECT_EQ(bucket(0.025), 1U);
    EXPECT_EQ(bucket(0.05), 2U);
    EXPECT_EQ(waits.cumulative_counts.back(), 2U);
    EXPECT_TRUE(std::ranges::is_sorted(waits.cumulative_counts));
}

TEST(Metrics, BoundsThePathLabel) {
    metrics m({.max_paths = 2});
    for (const auto* path : {"/a", "/b", "/c", "/d", "/a"}) {
        m.acquired({"mutex", path}, 1ms, false);
    }
    const auto all = m.collect();
    const auto& acquisitions = family_named(all, "zkr_acquisitions_total");
    ASSERT_EQ(acquisitions.series.size(), 3U);  // /a, /b, and "other" for /c and /d
    EXPECT_EQ(series_with(acquisitions, {{"path", "/a"}}).value, 2);
    EXPECT_EQ(series_with(acquisitions, {{"path", "other"}}).value, 2);

    metrics one_path({.max_paths = 0});
    one_path.acquired({"mutex", "/a"}, 1ms, false);
    one_path.acquired({"election", "/b"}, 1ms, false);
    const auto merged_all = one_path.collect();
    const auto& merged = family_named(merged_all, "zkr_acquisitions_total");
    EXPECT_EQ(series_with(merged, {{"recipe", "mutex"}, {"path", "all"}}).value, 1);
    EXPECT_EQ(series_with(merged, {{"recipe", "election"}, {"path", "all"}}).value, 1);
}

TEST(Metrics, CountsLiveSessionsByState) {
    metrics m;
    m.session_state_changed(session_state::not_started, session_state::connecting);
    m.session_state_changed(session_state::connecting, session_state::connected);
    m.session_state_changed(session_state::not_started, session_state::connecting);
    m.session_state_changed(session_state::connecting, session_state::connected);
    m.session_state_changed(session_state::connected, session_state::suspended);
    m.session_state_changed(session_state::suspended, session_state::expired);
    const auto all = m.collect();
    const auto& live = family_named(all, "zkr_sessions");
    EXPECT_EQ(series_with(live, {{"state", "connected"}}).value, 1);
    EXPECT_EQ(series_with(live, {{"state", "suspended"}}).value, 0);
    EXPECT_EQ(series_with(live, {{"state", "connecting"}}).value, 0);
    const auto& entered = family_named(all, "zkr_session_transitions_total");
    EXPECT_EQ(series_with(entered, {{"state", "connected"}}).value, 2);
    EXPECT_EQ(series_with(entered, {{"state", "expired"}}).value, 1);
}

TEST(Metrics, TimesRequestsAndCountsTheirErrors) {
    metrics m;
    m.request_completed(request_kind::create, 2ms, error_code{});
    m.request_completed(request_kind::create, 1ms, make_error_code(zk_errc::node_exists));
    m.request_completed(request_kind::sync, 1ms, make_error_code(zk_errc::connection_loss));
    const auto all = m.collect();
    EXPECT_EQ(series_with(family_named(all, "zkr_request_seconds"), {{"op", "create"}}).count, 2U);
    const auto& errors = family_named(all, "zkr_request_errors_total");
    EXPECT_EQ(series_with(errors, {{"op", "create"}, {"reason", "node_exists"}}).value, 1);
    EXPECT_EQ(series_with(errors, {{"op", "sync"}, {"reason", "connection_loss"}}).value, 1);
}

TEST(Metrics, NamesEveryReason) {
    EXPECT_EQ(reason_label(error_code{}), "");
    EXPECT_EQ(reason_label(make_error_code(errc::max_hold_passed)), "max_hold_passed");
    EXPECT_EQ(reason_label(make_error_code(errc::lock_node_deleted)), "lock_node_deleted");
    EXPECT_EQ(reason_label(make_error_code(zk_errc::session_expired)), "session_expired");
    EXPECT_EQ(reason_label(make_error_code(boost::asio::error::operation_aborted)), "cancelled");
    EXPECT_EQ(reason_label(make_error_code(boost::system::errc::io_error)), "other");
    for (int e = 1; e <= static_cast<int>(errc::tls_certificate_rejected); ++e) {  // the last one
        EXPECT_NE(reason_label(make_error_code(static_cast<errc>(e))), "other") << e;
    }
}

TEST(Metrics, ServesPrometheusText) {
    metrics m;
    m.acquired({"mutex", "/odd \"path\"\\x"}, 3ms, false);
    const auto text = to_prometheus_text(m.collect());
    EXPECT_NE(text.find("# TYPE zkr_acquisitions_total counter\n"), std::string::npos) << text;
    EXPECT_NE(text.find("# TYPE zkr_wait_seconds histogram\n"), std::string::npos);
    EXPECT_NE(
        text.find("zkr_acquisitions_total{recipe=\"mutex\",path=\"/odd \\\"path\\\"\\\\x\"} 1\n"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("zkr_wait_seconds_bucket{recipe=\"mutex\",path=\"/odd \\\"path\\\"\\\\x\","
                        "le=\"0.005\"} 1\n"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("le=\"+Inf\"} 1\n"), std::string::npos);
    EXPECT_NE(
        text.find("zkr_wait_seconds_count{recipe=\"mutex\",path=\"/odd \\\"path\\\"\\\\x\"} 1\n"),
        std::string::npos);
    EXPECT_NE(text.find("zkr_held{recipe=\"mutex\",path=\"/odd \\\"path\\\"\\\\x\"} 1\n"),
              std::string::npos);
}

}  // namespace
}  // namespace zkr
