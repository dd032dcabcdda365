// Metrics of locks, leases, elections and sessions, with no dependency: an observer that counts
// and times what it hears, and a snapshot any exporter can read.
//
//     auto m = std::make_shared<zkr::metrics>();
//     config.observer = m;                                  // every session that should count
//     ...
//     std::string page = zkr::to_prometheus_text(m->collect());   // or zkr/prometheus.hpp
//
// Families (times in seconds):
//   zkr_acquisitions_total{recipe,path}            locks, leases, leaderships granted
//   zkr_handoffs_total{recipe,path}                of those, granted after waiting for a holder
//   zkr_acquisition_failures_total{recipe,path,reason}
//   zkr_wait_seconds{recipe,path}                  histogram: asked to granted
//   zkr_hold_seconds{recipe,path}                  histogram: granted to released or lost
//   zkr_held{recipe,path}                          gauge: held now
//   zkr_losses_total{recipe,path,reason}           holds lost (not released by their holder)
//   zkr_revocation_requests_total{recipe,path}
//   zkr_session_transitions_total{state}           sessions entering each state
//   zkr_sessions{state}                            gauge: sessions connecting, connected, suspended
//   zkr_request_seconds{op}                        histogram: request round trips
//   zkr_request_errors_total{op,reason}
//
// Cardinality is bounded: `recipe`, `op` and `state` are fixed sets, `reason` is the name of a
// zkr::errc or zkr::zk_errc enumerator ("cancelled" for operation_aborted, "other" for any other
// error), and `path` takes at most metrics_options::max_paths distinct values: the paths seen
// after those share the value "other". Give each lock directory its own label only if their
// number is bounded; set max_paths to 0 to aggregate every path under "all".
#pragma once

#include <zkr/export.hpp>
#include <zkr/observer.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace zkr {

struct metrics_options {
    /// Distinct paths labelled as themselves; later ones are labelled "other" (0: all "all").
    std::size_t max_paths = 100;
    /// Upper bounds of the histograms' buckets, in seconds, ascending (+Inf is implied).
    std::vector<double> bucket_bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
};

enum class metric_type { counter, gauge, histogram };

/// One labelled time series of a family.
struct metric_series {
    std::vector<std::pair<std::string, std::string>> labels;
    double value = 0;  ///< counters and gauges
    /// Histograms: cumulative counts, one per bound of the family and a last one for +Inf.
    std::vector<std::uint64_t> cumulative_counts;
    std::uint64_t count = 0;  ///< histograms: observations
    double sum = 0;           ///< histograms: their sum
};

/// A metric and its series, as exporters expect them (Prometheus' data model).
struct metric_family {
    std::string name;
    std::string help;
    metric_type type = metric_type::counter;
    std::vector<double> bucket_bounds;  ///< histograms
    std::vector<metric_series> series;
};

/// Counts and times what sessions report (see the file comment). Thread-safe: share one among
/// sessions through session_config::observer, and collect() from any thread.
class ZKR_API metrics final : public observer {
  public:
    explicit metrics(metrics_options options = {});
    ~metrics() override;
    metrics(const metrics&) = delete;
    metrics& operator=(const metrics&) = delete;

    /// A consistent snapshot of every family, each with its series sorted by labels. Families
    /// with no series yet are included (empty), so that exporters can describe them.
    std::vector<metric_family> collect() const;

    void acquired(const lock_subject& subject, std::chrono::nanoseconds waited,
                  bool handed_off) noexcept override;
    void acquisition_failed(const lock_subject& subject, std::chrono::nanoseconds waited,
                            error_code ec) noexcept override;
    void hold_ended(const lock_subject& subject, std::chrono::nanoseconds held,
                    error_code reason) noexcept override;
    void revocation_requested(const lock_subject& subject) noexcept override;
    void session_state_changed(session_state from, session_state to) noexcept override;
    void request_completed(request_kind kind, std::chrono::nanoseconds round_trip,
                           error_code ec) noexcept override;

  private:
    struct state;
    std::unique_ptr<state> state_;
};

/// The label metrics give an error: its enumerator's name ("session_expired",
/// "lock_node_deleted", "max_hold_passed", ...), "cancelled" for operation_aborted, "other" for
/// errors of other categories, "" for success.
ZKR_API std::string_view reason_label(error_code ec) noexcept;

/// The families in Prometheus' text exposition format (version 0.0.4), as served on /metrics.
ZKR_API std::string to_prometheus_text(const std::vector<metric_family>& families);

}  // namespace zkr
