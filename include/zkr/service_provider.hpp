// zkr::service_provider: chooses an instance of a service for each call, from a
// zkr::service_cache (curator-x-discovery's ServiceProvider): a strategy (round robin, random,
// sticky), an instance filter, and a down-instance policy (an instance the caller reports as
// failing is skipped for a while). Disabled instances (enabled=false) are always skipped.
//
// Purely local: choosing sends nothing; the cache keeps the instances current.
#pragma once

#include <zkr/export.hpp>
#include <zkr/service_instance.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace zkr {

class service_cache;
namespace detail {
struct access;
struct service_provider_impl;
/// Where a provider gets the instances to choose from, now (null: none).
using instances_source = std::function<std::shared_ptr<const std::vector<service_instance>>()>;
}  // namespace detail

enum class provider_strategy {
    round_robin,  ///< each instance in turn (by id)
    random,       ///< uniformly at random
    /// the instance chosen last, while it is still usable; then another, in turn
    sticky,
};

/// Curator's DownInstancePolicy: an instance reported failing `error_threshold` times is skipped
/// until `timeout` has passed since the first of those errors; then its errors are forgotten
/// (as Curator's DownInstanceManager counts them: from the first error, for `timeout`).
struct down_instance_policy {
    std::chrono::milliseconds timeout{30'000};
    int error_threshold = 2;
};

struct provider_options {
    provider_strategy strategy = provider_strategy::round_robin;
    /// Instances for which this is false are skipped (null: none).
    std::function<bool(const service_instance&)> filter;
    down_instance_policy down;
    /// The clock of the down-instance policy (null: std::chrono::steady_clock::now); tests
    /// give their own.
    std::function<std::chrono::steady_clock::time_point()> clock;
};

/// Chooses instances (see the file comment). Thread safety: any member from any thread.
class ZKR_API service_provider {
  public:
    /// Chooses among `cache`'s instances; it shares the cache's copy, so the cache object may
    /// go first (the copy then stays as it was).
    explicit service_provider(const service_cache& cache, provider_options options = {});
    service_provider(service_provider&&) noexcept;
    service_provider& operator=(service_provider&&) noexcept;
    ~service_provider();

    /// An instance to call; empty when none is usable (none registered, all disabled, filtered
    /// out or down). The filter runs on the calling thread, outside the provider's lock.
    std::optional<service_instance> get_instance();

    /// Every usable instance now, sorted by id.
    std::vector<service_instance> all_instances() const;

    /// Reports that a call to `instance` failed (matched by id), for the down-instance policy.
    void note_error(const service_instance& instance);

  private:
    friend struct detail::access;
    service_provider(detail::instances_source source, provider_options options);

    std::unique_ptr<detail::service_provider_impl> impl_;
};

}  // namespace zkr
