// Choosing an instance (curator-x-discovery's ServiceProviderImpl): the cache's instances less
// the disabled, the filtered out and the down ones, then the strategy. Purely local.
#include "access.hpp"
#include "service_discovery_impl.hpp"

#include <zkr/service_cache.hpp>
#include <zkr/service_provider.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <random>

namespace zkr {
namespace detail {

struct service_provider_impl {
    using clock = std::chrono::steady_clock;

    service_provider_impl(instances_source s, provider_options o)
        : source(std::move(s)), options(std::move(o)), engine(std::random_device{}()) {}

    const instances_source source;
    const provider_options options;

    /// The instances neither disabled nor filtered out, by id (the filter runs outside the
    /// lock: it may take time, or call back into the provider).
    std::vector<service_instance> candidates() const {
        std::vector<service_instance> out;
        const auto all = source ? source() : nullptr;
        if (!all) {
            return out;
        }
        for (const auto& i : *all) {
            if (i.enabled && (!options.filter || options.filter(i))) {
                out.push_back(i);
            }
        }
        return out;
    }

    /// Drops the instances that are not down (under the lock).
    void drop_down(std::vector<service_instance>& v) {
        const auto t = now();
        forget_old_errors(t);
        std::erase_if(v, [&](const service_instance& i) {
            auto it = errors_.find(i.id);
            return it != errors_.end() && it->second.count >= options.down.error_threshold;
        });
    }

    std::optional<service_instance> choose(std::vector<service_instance> v) {
        std::lock_guard lock(mutex_);
        drop_down(v);
        if (v.empty()) {
            return std::nullopt;
        }
        switch (options.strategy) {
            case provider_strategy::random: {
                std::uniform_int_distribution<std::size_t> pick(0, v.size() - 1);
                return std::move(v[pick(engine)]);
            }
            case provider_strategy::sticky: {
                auto it = std::find_if(v.begin(), v.end(),
                                       [&](const service_instance& i) { return i.id == sticky_; });
                if (it != v.end()) {
                    return std::move(*it);
                }
                auto chosen = std::move(v[next_++ % v.size()]);
                sticky_ = chosen.id;
                return chosen;
            }
            case provider_strategy::round_robin:
                break;
        }
        return std::move(v[next_++ % v.size()]);
    }

    std::vector<service_instance> usable() {
        auto v = candidates();
        std::lock_guard lock(mutex_);
        drop_down(v);
        return v;
    }

    void note_error(const std::string& id) {
        std::lock_guard lock(mutex_);
        const auto t = now();
        forget_old_errors(t);
        // A new entry starts its window now; a known one counts on in its window.
        auto [it, added] = errors_.try_emplace(id, error_count{t, 0});
        ++it->second.count;
    }

  private:
    struct error_count {
        clock::time_point first;
        int count = 0;
    };

    clock::time_point now() const { return options.clock ? options.clock() : clock::now(); }

    void forget_old_errors(clock::time_point t) {
        std::erase_if(errors_,
                      [&](const auto& e) { return t - e.second.first >= options.down.timeout; });
    }

    std::mutex mutex_;
    std::mt19937_64 engine;
    std::size_t next_ = 0;
    std::string sticky_;
    std::map<std::string, error_count> errors_;
};

}  // namespace detail

service_provider::service_provider(const service_cache& cache, provider_options options)
    : service_provider([c = cache.impl_]() { return c ? detail::instances_of(*c) : nullptr; },
                       std::move(options)) {}

service_provider::service_provider(detail::instances_source source, provider_options options)
    : impl_(
          std::make_unique<detail::service_provider_impl>(std::move(source), std::move(options))) {}

service_provider::service_provider(service_provider&&) noexcept = default;
service_provider& service_provider::operator=(service_provider&&) noexcept = default;
service_provider::~service_provider() = default;

std::optional<service_instance> service_provider::get_instance() {
    return impl_ ? impl_->choose(impl_->candidates()) : std::nullopt;
}

std::vector<service_instance> service_provider::all_instances() const {
    return impl_ ? impl_->usable() : std::vector<service_instance>{};
}

void service_provider::note_error(const service_instance& instance) {
    if (impl_) {
        impl_->note_error(instance.id);
    }
}

}  // namespace zkr
