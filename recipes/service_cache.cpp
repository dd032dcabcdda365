// A service's instances, kept current: a children_cache of "<base>/<name>" whose children's data
// is read as JSON once per change of its snapshot (not once per call of instances()), and whose
// events carry the instance parsed.
#include "access.hpp"
#include "coroutines.hpp"
#include "path.hpp"
#include "service_discovery_impl.hpp"

#include <zkr/children_cache.hpp>
#include <zkr/service_cache.hpp>
#include <zkr/service_discovery.hpp>

#include <mutex>

namespace zkr {
namespace detail {

struct service_cache_impl {
    service_cache_impl(session_ptr s, std::string n, std::string dir)
        : session(s), name(std::move(n)), cache(access::construct<children_cache>(s, dir)) {}

    const session_ptr session;
    const std::string name;
    children_cache cache;

    /// The instances of the cache's snapshot now; parsed again only when the snapshot changed.
    /// After close() the last ones stay.
    std::shared_ptr<const std::vector<service_instance>> instances() const {
        auto snap = cache.current();
        std::lock_guard lock(mutex_);
        if (snap && snap != parsed_from_) {
            auto out = std::make_shared<std::vector<service_instance>>();
            out->reserve(snap->size());
            for (const auto& [id, node] : *snap) {  // by id: a map
                if (auto instance = parse_instance(node.data)) {
                    out->push_back(std::move(*instance));
                }
            }
            parsed_from_ = std::move(snap);
            parsed_ = std::move(out);
        }
        return parsed_;
    }

  private:
    mutable std::mutex mutex_;
    mutable std::shared_ptr<const children_cache::snapshot> parsed_from_;
    mutable std::shared_ptr<const std::vector<service_instance>> parsed_;
};

std::shared_ptr<const std::vector<service_instance>> instances_of(const service_cache_impl& c) {
    return c.instances();
}

namespace {

namespace asio = boost::asio;

service_event to_service_event(cache_event e) {
    service_event out;
    out.type = e.type;
    if (e.type == cache_event_type::initialized || e.type == cache_event_type::resynced) {
        return out;
    }
    out.id = std::string(node_name(e.path));
    if (e.node) {
        out.instance = parse_instance(e.node->data);
    }
    return out;
}

asio::awaitable<std::tuple<error_code, service_event>> next_event(
    std::shared_ptr<service_cache_impl> c) {
    auto [ec, event] = co_await c->cache.async_wait_event(use_tuple);
    if (ec) {
        co_return std::make_tuple(ec, service_event{});
    }
    co_return std::make_tuple(error_code{}, to_service_event(std::move(event)));
}

/// "<base>/<name>" when the name is one node name; else empty (refused by the start).
std::string service_dir(const std::string& base, const std::string& name) {
    return is_node_name(name) ? join_path(base, name) : std::string{};
}

}  // namespace
}  // namespace detail

service_cache::service_cache(const service_discovery& d, std::string name) {
    const auto& discovery = detail::access::get_impl(d);
    auto dir = detail::service_dir(d.base_path(), name);
    impl_ = std::make_shared<detail::service_cache_impl>(discovery->session, std::move(name),
                                                         std::move(dir));
}

service_cache::service_cache(service_cache&&) noexcept = default;

service_cache& service_cache::operator=(service_cache&& other) noexcept {
    if (this != &other) {
        close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

service_cache::~service_cache() {
    close();
}

const std::string& service_cache::name() const noexcept {
    static const std::string none;
    return impl_ ? impl_->name : none;
}

std::shared_ptr<const std::vector<service_instance>> service_cache::instances() const {
    return impl_ ? impl_->instances() : nullptr;
}

void service_cache::close() noexcept {
    if (impl_) {
        impl_->cache.close();
    }
}

void service_cache::initiate_start(const impl_ptr& c, detail::handler<void(error_code)> h) {
    c->cache.async_start(std::move(h));
}

void service_cache::initiate_wait_event(const impl_ptr& c,
                                        detail::handler<void(error_code, service_event)> h) {
    detail::spawn(c->session, detail::next_event(c), std::move(h));
}

}  // namespace zkr
