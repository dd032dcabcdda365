// zkr::metrics: counts and times what sessions report, for collect() to snapshot.
//
// One mutex guards everything: an event costs a map lookup under it, next to a ZooKeeper round
// trip of a few hundred microseconds at least, and collect() reads a consistent state.
#include <zkr/metrics.hpp>
#include <zkr/session.hpp>

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

namespace zkr {
namespace {

constexpr std::size_t state_count = static_cast<std::size_t>(session_state::closed) + 1;
constexpr std::size_t request_kind_count = static_cast<std::size_t>(request_kind::sync) + 1;

double seconds(std::chrono::nanoseconds d) {
    return std::chrono::duration<double>(d).count();
}

/// Counts per bucket (not cumulative: collect() sums them), the last one for +Inf.
struct histogram {
    std::vector<std::uint64_t> counts;
    std::uint64_t count = 0;
    double sum = 0;

    void add(double value, const std::vector<double>& bounds) {
        if (counts.empty()) {
            counts.resize(bounds.size() + 1);
        }
        const auto at = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
        ++counts[static_cast<std::size_t>(at)];
        ++count;
        sum += value;
    }

    void fill(metric_series& out, std::size_t bound_count) const {
        out.cumulative_counts.assign(bound_count + 1, 0);
        std::uint64_t running = 0;
        for (std::size_t i = 0; i < counts.size(); ++i) {
            running += counts[i];
            out.cumulative_counts[i] = running;
        }
        out.count = count;
        out.sum = sum;
    }
};

/// Everything counted for one (recipe, path).
struct lock_series {
    std::uint64_t acquisitions = 0;
    std::uint64_t handoffs = 0;
    std::uint64_t revocations = 0;
    std::int64_t held = 0;
    histogram wait;
    histogram hold;
    std::map<std::string, std::uint64_t> failures;  // by reason
    std::map<std::string, std::uint64_t> losses;    // by reason
};

using labels = std::vector<std::pair<std::string, std::string>>;

metric_family family(std::string name, std::string help, metric_type type) {
    metric_family f;
    f.name = std::move(name);
    f.help = std::move(help);
    f.type = type;
    return f;
}

metric_series counted(labels l, double value) {
    metric_series s;
    s.labels = std::move(l);
    s.value = value;
    return s;
}

}  // namespace

struct metrics::state {
    explicit state(metrics_options o) : options(std::move(o)) {}

    /// The series of a subject, its path label bounded by options.max_paths. Under `mutex`.
    lock_series& series_of(const lock_subject& subject) {
        return locks[std::make_pair(std::string(subject.recipe), path_label(subject.path))];
    }

    std::string path_label(std::string_view path) {
        if (options.max_paths == 0) {
            return "all";
        }
        std::string p(path);
        if (paths.contains(p)) {
            return p;
        }
        if (paths.size() < options.max_paths) {
            paths.insert(p);
            return p;
        }
        return "other";
    }

    const metrics_options options;
    mutable std::mutex mutex;
    std::set<std::string> paths;
    std::map<std::pair<std::string, std::string>, lock_series> locks;
    std::array<std::uint64_t, state_count> transitions{};
    std::array<std::int64_t, state_count> sessions{};
    std::array<histogram, request_kind_count> requests;
    std::map<std::pair<request_kind, std::string>, std::uint64_t> request_errors;
};

metrics::metrics(metrics_options options) : state_(std::make_unique<state>(std::move(options))) {}
metrics::~metrics() = default;

void metrics::acquired(const lock_subject& subject, std::chrono::nanoseconds waited,
                       bool handed_off) noexcept {
    std::lock_guard lock(state_->mutex);
    auto& s = state_->series_of(subject);
    ++s.acquisitions;
    s.handoffs += handed_off ? 1 : 0;
    ++s.held;
    s.wait.add(seconds(waited), state_->options.bucket_bounds);
}

void metrics::acquisition_failed(const lock_subject& subject, std::chrono::nanoseconds,
                                 error_code ec) noexcept {
    std::lock_guard lock(state_->mutex);
    ++state_->series_of(subject).failures[std::string(reason_label(ec))];
}

void metrics::hold_ended(const lock_subject& subject, std::chrono::nanoseconds held,
                         error_code reason) noexcept {
    std::lock_guard lock(state_->mutex);
    auto& s = state_->series_of(subject);
    --s.held;
    s.hold.add(seconds(held), state_->options.bucket_bounds);
    if (reason) {
        ++s.losses[std::string(reason_label(reason))];
    }
}

void metrics::revocation_requested(const lock_subject& subject) noexcept {
    std::lock_guard lock(state_->mutex);
    ++state_->series_of(subject).revocations;
}

void metrics::session_state_changed(session_state from, session_state to) noexcept {
    // The gauge counts live sessions: not_started is not counted, the final states end them.
    const auto live = [](session_state s) {
        return s == session_state::connecting || s == session_state::connected ||
               s == session_state::suspended;
    };
    std::lock_guard lock(state_->mutex);
    ++state_->transitions[static_cast<std::size_t>(to)];
    if (live(from)) {
        --state_->sessions[static_cast<std::size_t>(from)];
    }
    if (live(to)) {
        ++state_->sessions[static_cast<std::size_t>(to)];
    }
}

void metrics::request_completed(request_kind kind, std::chrono::nanoseconds round_trip,
                                error_code ec) noexcept {
    std::lock_guard lock(state_->mutex);
    state_->requests[static_cast<std::size_t>(kind)].add(seconds(round_trip),
                                                         state_->options.bucket_bounds);
    if (ec) {
        ++state_->request_errors[std::make_pair(kind, std::string(reason_label(ec)))];
    }
}

std::vector<metric_family> metrics::collect() const {
    const auto& bounds = state_->options.bucket_bounds;
    auto acquisitions = family("zkr_acquisitions_total", "Locks, leases and leaderships granted.",
                               metric_type::counter);
    auto handoffs =
        family("zkr_handoffs_total", "Acquisitions granted after waiting for a holder to let go.",
               metric_type::counter);
    auto failures =
        family("zkr_acquisition_failures_total",
               "Acquisitions that ended without the lock, by reason.", metric_type::counter);
    auto wait = family("zkr_wait_seconds", "Time from asking for a lock to holding it.",
                       metric_type::histogram);
    auto hold = family("zkr_hold_seconds", "Time a lock was held, until released or lost.",
                       metric_type::histogram);
    auto held = family("zkr_held", "Locks held now.", metric_type::gauge);
    auto losses = family("zkr_losses_total", "Holds lost rather than released, by reason.",
                         metric_type::counter);
    auto revocations = family("zkr_revocation_requests_total",
                              "Revocation requests received by holders.", metric_type::counter);
    auto transitions = family("zkr_session_transitions_total", "Sessions entering each state.",
                              metric_type::counter);
    auto sessions = family("zkr_sessions", "Live sessions in each state.", metric_type::gauge);
    auto requests =
        family("zkr_request_seconds", "ZooKeeper request round trips.", metric_type::histogram);
    auto request_errors =
        family("zkr_request_errors_total", "ZooKeeper requests that failed.", metric_type::counter);
    wait.bucket_bounds = hold.bucket_bounds = requests.bucket_bounds = bounds;

    std::lock_guard lock(state_->mutex);
    for (const auto& [key, s] : state_->locks) {
        const labels subject{{"recipe", key.first}, {"path", key.second}};
        acquisitions.series.push_back(counted(subject, static_cast<double>(s.acquisitions)));
        handoffs.series.push_back(counted(subject, static_cast<double>(s.handoffs)));
        held.series.push_back(counted(subject, static_cast<double>(s.held)));
        revocations.series.push_back(counted(subject, static_cast<double>(s.revocations)));
        for (auto [h, f] : {std::tie(s.wait, wait), std::tie(s.hold, hold)}) {
            auto series = counted(subject, 0);
            h.fill(series, bounds.size());
            f.series.push_back(std::move(series));
        }
        for (auto [by_reason, f] : {std::tie(s.failures, failures), std::tie(s.losses, losses)}) {
            for (const auto& [reason, n] : by_reason) {
                auto l = subject;
                l.emplace_back("reason", reason);
                f.series.push_back(counted(std::move(l), static_cast<double>(n)));
            }
        }
    }
    for (std::size_t i = 0; i < state_count; ++i) {
        const labels l{{"state", to_string(static_cast<session_state>(i))}};
        if (state_->transitions[i] != 0) {
            transitions.series.push_back(counted(l, static_cast<double>(state_->transitions[i])));
        }
        if (i >= static_cast<std::size_t>(session_state::connecting) &&
            i <= static_cast<std::size_t>(session_state::suspended)) {
            sessions.series.push_back(counted(l, static_cast<double>(state_->sessions[i])));
        }
    }
    for (std::size_t i = 0; i < request_kind_count; ++i) {
        const auto& h = state_->requests[i];
        if (h.count != 0) {
            auto series =
                counted({{"op", std::string(to_string(static_cast<request_kind>(i)))}}, 0);
            h.fill(series, bounds.size());
            requests.series.push_back(std::move(series));
        }
    }
    for (const auto& [key, n] : state_->request_errors) {
        request_errors.series.push_back(
            counted({{"op", std::string(to_string(key.first))}, {"reason", key.second}},
                    static_cast<double>(n)));
    }
    return {std::move(acquisitions), std::move(handoffs),    std::move(failures),
            std::move(wait),         std::move(hold),        std::move(held),
            std::move(losses),       std::move(revocations), std::move(transitions),
            std::move(sessions),     std::move(requests),    std::move(request_errors)};
}

}  // namespace zkr
