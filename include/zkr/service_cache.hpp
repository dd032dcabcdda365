// zkr::service_cache: the instances of one service, kept current (a zkr::children_cache of
// "<base>/<name>", the data of each instance read as JSON), with their changes as events.
// The same guarantees and costs as zkr::children_cache: 1 + N watches for N instances.
//
// A node under the service that is not a service instance (another layout, a half-written
// node) is left out of instances() and reported by its event with an empty `instance`.
#pragma once

#include <zkr/cache_event.hpp>
#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/service_instance.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zkr {

class service_discovery;
namespace detail {
struct service_cache_impl;
}  // namespace detail

/// One change of a service cache.
struct service_event {
    cache_event_type type = cache_event_type::initialized;
    /// The instance's id (empty for `initialized` and `resynced`).
    std::string id;
    /// The instance now (for `removed`, the last one held); empty for `initialized`,
    /// `resynced`, and a node that is not a service instance.
    std::optional<service_instance> instance;
};

/// A cache of one service's instances. Executor, lifetimes and thread safety as for
/// zkr::children_cache.
class ZKR_API service_cache {
  public:
    /// The instances of `name` under d's base path. Nothing is sent before async_start.
    service_cache(const service_discovery& d, std::string name);
    service_cache(service_cache&&) noexcept;
    service_cache& operator=(service_cache&&) noexcept;
    /// Closes the cache (close()).
    ~service_cache();

    const std::string& name() const noexcept;

    /// Loads the instances and follows them; completes once every instance has been read.
    /// Handler signature: void(error_code).
    /// Errors: errc::invalid_path (the name), and those of children_cache::async_start.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_start(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_start(impl, std::move(h)); });
    }

    /// Every instance now (enabled or not), sorted by id; null before the first snapshot and
    /// for a moved-from cache. Cheap (the JSON is read once per change); any thread.
    std::shared_ptr<const std::vector<service_instance>> instances() const;

    /// The next change. Handler signature: void(error_code, service_event).
    /// Errors and cancellation as for children_cache::async_wait_event.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_event(Token&& token = {}) {
        return detail::initiate<void(error_code, service_event)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_wait_event(impl, std::move(h)); });
    }

    /// As children_cache::close.
    void close() noexcept;

  private:
    friend class service_provider;
    using impl_ptr = std::shared_ptr<detail::service_cache_impl>;
    static void initiate_start(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_wait_event(const impl_ptr&,
                                    detail::handler<void(error_code, service_event)>);

    impl_ptr impl_;
};

}  // namespace zkr
