// Service discovery in curator-x-discovery's layout: "<base>/<name>/<id>" nodes holding the
// instance as JSON. A registration is a persistent_node (it does the keeping: re-creation after
// a deletion or a renewal, deletion of only our node at the end); queries are one listing and
// the instances' data read together (pipelined), the whole round sent again after a connection
// loss.
#include "access.hpp"
#include "contender.hpp"
#include "coroutines.hpp"
#include "path.hpp"
#include "service_discovery_impl.hpp"

#include <zkr/service_discovery.hpp>
#include <zkr/session.hpp>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>

namespace zkr {
namespace detail {

/// What a service_registration holds: the node it keeps, and the session its operations
/// complete on.
struct registered_node {
    session_ptr session;
    persistent_node node;
};

namespace {

namespace asio = boost::asio;

using instances_result = std::tuple<error_code, std::vector<service_instance>>;
using instance_result = std::tuple<error_code, std::optional<service_instance>>;

/// The pipelined reads of one round: at most this many requests in flight (as children_cache).
constexpr std::size_t window = 256;

/// The instances of the service at `dir`, sorted by id, from one listing and the reads of its
/// children; a child that went meanwhile is skipped.
asio::awaitable<instances_result> read_instances(session_ptr s, std::string dir) {
    auto [ec, kids] = co_await call<void(error_code, children)>(
        [&](auto h) { s->get_children(dir, std::move(h)); });
    if (ec == zk_errc::no_node) {
        co_return instances_result{};
    }
    if (ec) {
        co_return instances_result{ec, {}};
    }
    auto& names = kids.names;
    std::sort(names.begin(), names.end());
    std::vector<service_instance> out;
    out.reserve(names.size());
    for (std::size_t first = 0; first < names.size(); first += window) {
        const auto count = std::min(window, names.size() - first);
        auto answers =
            co_await call_all<void(error_code, node_data)>(s, count, [&](std::size_t i, auto h) {
                s->get_data(join_path(dir, names[first + i]), std::move(h));
            });
        for (auto& [dec, got] : answers) {
            if (dec == zk_errc::no_node) {
                continue;
            }
            if (dec) {
                co_return instances_result{dec, {}};
            }
            auto instance = parse_instance(got.data);
            if (!instance) {
                co_return instances_result{make_error_code(errc::path_in_use), {}};
            }
            out.push_back(std::move(*instance));
        }
    }
    co_return instances_result{error_code{}, std::move(out)};
}

asio::awaitable<instance_result> read_instance(session_ptr s, std::string node) {
    auto [ec, got] = co_await call_retrying<void(error_code, node_data)>(
        s, [&](auto h) { s->get_data(node, std::move(h)); });
    if (ec == zk_errc::no_node) {
        co_return instance_result{};
    }
    if (ec) {
        co_return instance_result{ec, std::nullopt};
    }
    auto instance = parse_instance(got.data);
    if (!instance) {
        co_return instance_result{make_error_code(errc::path_in_use), std::nullopt};
    }
    co_return instance_result{error_code{}, std::move(instance)};
}

asio::awaitable<std::tuple<error_code, std::vector<std::string>>> read_names(session_ptr s,
                                                                             std::string base) {
    auto [ec, kids] = co_await call_retrying<void(error_code, children)>(
        s, [&](auto h) { s->get_children(base, std::move(h)); });
    if (ec == zk_errc::no_node) {
        co_return std::tuple<error_code, std::vector<std::string>>{};
    }
    std::sort(kids.names.begin(), kids.names.end());
    co_return std::make_tuple(ec, ec ? std::vector<std::string>{} : std::move(kids.names));
}

/// A read-modify-write of the `enabled` field, checked by the node's version: a write that
/// lost the race, or whose answer was lost, reads again (and finds the flag set, or sets it).
asio::awaitable<std::tuple<error_code>> write_enabled(session_ptr s, std::string node,
                                                      bool enabled) {
    for (;;) {
        auto [ec, got] = co_await call_retrying<void(error_code, node_data)>(
            s, [&](auto h) { s->get_data(node, std::move(h)); });
        if (ec) {
            co_return std::make_tuple(ec);
        }
        auto instance = parse_instance(got.data);
        if (!instance) {
            co_return std::make_tuple(make_error_code(errc::path_in_use));
        }
        if (instance->enabled == enabled) {
            co_return std::make_tuple(error_code{});
        }
        instance->enabled = enabled;
        auto [sec, written] = co_await call<void(error_code, zkr::stat)>(
            [&](auto h) { s->set_data(node, to_json(*instance), got.stat.version, std::move(h)); });
        if (sec == zk_errc::bad_version) {
            continue;  // changed meanwhile: read it again
        }
        if (is_retryable(sec)) {
            if (auto end = co_await wait_connected(s)) {
                co_return std::make_tuple(end);
            }
            continue;
        }
        co_return std::make_tuple(sec);
    }
}

/// Starts keeping the instance's node; on any error (cancellation included) closes it again,
/// so nothing is left behind.
template <class MakeRegistration>
asio::awaitable<std::tuple<error_code, service_registration>> register_instance(
    std::shared_ptr<registered_node> r, MakeRegistration make) {
    auto [ec] = co_await r->node.async_start(use_tuple);
    if (!ec) {
        co_return std::make_tuple(error_code{}, make(std::move(r)));
    }
    co_await forget_cancellation();
    co_await r->node.async_close(use_tuple);
    if (ec == zk_errc::no_children_for_ephemerals) {
        ec = make_error_code(errc::path_in_use);  // the service's node is someone's ephemeral
    }
    co_return std::make_tuple(ec, service_registration{});
}

persistent_node_mode mode_of(service_type type) {
    return type == service_type::dynamic ? persistent_node_mode::ephemeral
                                         : persistent_node_mode::persistent;
}

std::int64_t now_utc_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

/// Completes a registration's operation at once with `ec`: on the session's completions, or,
/// for a registration that holds nothing (and so has no session), on the handler's executor.
void complete_now(const std::shared_ptr<registered_node>& r, handler<void(error_code)> h,
                  error_code ec) {
    if (r) {
        fail(std::move(h), r->session->completions(), ec);
        return;
    }
    fail(std::move(h), asio::system_executor{}, ec);
}

}  // namespace detail

service_discovery::service_discovery(session& s, std::string base_path)
    : service_discovery(detail::access::seam(s), std::move(base_path)) {}

service_discovery::service_discovery(std::shared_ptr<detail::session_seam> s, std::string base_path)
    : impl_(std::make_shared<detail::service_discovery_impl>(
          detail::service_discovery_impl{std::move(s), std::move(base_path)})) {}

service_discovery::service_discovery(service_discovery&&) noexcept = default;
service_discovery& service_discovery::operator=(service_discovery&&) noexcept = default;
service_discovery::~service_discovery() = default;

const std::string& service_discovery::base_path() const noexcept {
    return detail::access::path_of(*this);
}

namespace {

/// "<base>/<name>" when both are valid, else empty.
std::string service_path(const std::string& base, const std::string& name) {
    if (detail::validate_path(base) || !detail::is_node_name(name)) {
        return {};
    }
    return detail::join_path(base, name);
}

}  // namespace

void service_discovery::initiate_register(
    const impl_ptr& d, service_instance instance,
    detail::handler<void(error_code, service_registration)> h) {
    const auto& s = d->session;
    auto ec = validate(instance);
    if (!ec && instance.type == service_type::dynamic_sequential) {
        ec = make_error_code(errc::invalid_argument);  // Curator's own, never written by zkr
    }
    const auto dir = service_path(d->path, instance.name);
    if (!ec && dir.empty()) {
        ec = make_error_code(errc::invalid_path);
    }
    if (!ec) {
        if (instance.id.empty()) {
            instance.id = detail::make_uuid();
        }
        if (instance.registration_time_utc == 0) {
            instance.registration_time_utc = detail::now_utc_ms();
        }
    }
    const auto path = detail::join_path(dir, instance.id);
    auto data = to_json(instance);
    if (!ec && detail::validate_path(path)) {
        ec = make_error_code(errc::invalid_path);
    }
    if (!ec) {
        ec = s->check_request_size(path, data.size());
    }
    if (ec) {
        detail::fail(std::move(h), s->completions(), ec);
        return;
    }
    auto node = std::make_shared<detail::registered_node>(
        detail::registered_node{s, detail::access::construct<persistent_node>(
                                       s, path, std::move(data),
                                       persistent_node_options{detail::mode_of(instance.type),
                                                               std::chrono::milliseconds{0}})});
    detail::spawn(s,
                  detail::register_instance(
                      std::move(node),
                      [instance = std::move(instance)](service_registration::node_ptr n) mutable {
                          return service_registration(std::move(n), std::move(instance));
                      }),
                  std::move(h));
}

void service_discovery::initiate_query(
    const impl_ptr& d, std::string name,
    detail::handler<void(error_code, std::vector<service_instance>)> h) {
    const auto& s = d->session;
    auto dir = service_path(d->path, name);
    if (dir.empty()) {
        detail::fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    detail::spawn(s, detail::retrying(s, [s, dir] { return detail::read_instances(s, dir); }),
                  std::move(h));
}

void service_discovery::initiate_query_instance(
    const impl_ptr& d, std::string name, std::string id,
    detail::handler<void(error_code, std::optional<service_instance>)> h) {
    const auto& s = d->session;
    const auto dir = service_path(d->path, name);
    if (dir.empty() || !detail::is_node_name(id)) {
        detail::fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    detail::spawn(s, detail::read_instance(s, detail::join_path(dir, id)), std::move(h));
}

void service_discovery::initiate_names(
    const impl_ptr& d, detail::handler<void(error_code, std::vector<std::string>)> h) {
    const auto& s = d->session;
    if (detail::validate_path(d->path)) {
        detail::fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    detail::spawn(s, detail::read_names(s, d->path), std::move(h));
}

void service_discovery::initiate_set_enabled(const impl_ptr& d, std::string name, std::string id,
                                             bool enabled, detail::handler<void(error_code)> h) {
    const auto& s = d->session;
    const auto dir = service_path(d->path, name);
    if (dir.empty() || !detail::is_node_name(id)) {
        detail::fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    detail::spawn(s, detail::write_enabled(s, detail::join_path(dir, id), enabled), std::move(h));
}

// ---- service_registration ----

service_registration::service_registration(node_ptr node, service_instance instance)
    : node_(std::move(node)), instance_(std::move(instance)) {}

std::string service_registration::node_path() const {
    return node_ ? node_->node.node_path() : std::string{};
}

service_registration::prepared_update service_registration::prepare_update(
    service_instance instance) {
    if (instance.name != instance_.name || instance.id != instance_.id) {
        return {make_error_code(errc::invalid_argument), {}};
    }
    if (instance.type != instance_.type) {
        // The node's kind (ephemeral or persistent) was chosen at registration.
        return {make_error_code(errc::invalid_argument), {}};
    }
    if (auto ec = validate(instance)) {
        return {ec, {}};
    }
    if (instance.registration_time_utc == 0) {
        instance.registration_time_utc = instance_.registration_time_utc;
    }
    auto data = to_json(instance);
    if (node_) {
        instance_ = std::move(instance);
    }
    return {error_code{}, std::move(data)};
}

void service_registration::initiate_wait_registered(const node_ptr& r,
                                                    detail::handler<void(error_code)> h) {
    if (!r) {
        detail::complete_now(r, std::move(h),
                             make_error_code(boost::asio::error::operation_aborted));
        return;
    }
    r->node.async_wait_created(std::move(h));
}

void service_registration::initiate_update(const node_ptr& r, const prepared_update& update,
                                           detail::handler<void(error_code)> h) {
    if (!r || update.error) {
        detail::complete_now(
            r, std::move(h),
            r ? update.error : make_error_code(boost::asio::error::operation_aborted));
        return;
    }
    r->node.async_set_data(update.data, std::move(h));
}

void service_registration::initiate_unregister(const node_ptr& r,
                                               detail::handler<void(error_code)> h) {
    if (!r) {
        detail::complete_now(r, std::move(h), error_code{});
        return;
    }
    r->node.async_close(std::move(h));
}

}  // namespace zkr
