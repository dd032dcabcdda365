// Group membership: ephemeral "<path>/<id>" nodes; members read from the listing and each
// member's data; changes followed with a children_cache of the group.
#include "access.hpp"
#include "lock_state.hpp"
#include "path.hpp"

#include <zkr/children_cache.hpp>
#include <zkr/group.hpp>
#include <zkr/log.hpp>
#include <zkr/session.hpp>

#include <algorithm>
#include <optional>

namespace zkr {
namespace detail {

struct member_group_state {
    session_ptr session;
    std::string path;
    // What async_wait_change reported last, and the cache it follows the group with, started
    // by the first wait (driver strand).
    bool reported = false;
    std::vector<member> last;
    std::optional<children_cache> cache;
};

namespace {

namespace asio = boost::asio;

using members_result = std::tuple<error_code, std::vector<member>>;

/// Joins: creates our ephemeral node. A create whose answer was lost is sent again; finding the
/// node then means it is ours if our session owns it.
asio::awaitable<std::tuple<error_code, zkr::lock>> join(session_ptr s, std::string dir,
                                                        std::string node, std::string data) {
    if (auto ec = co_await ensure_path(s, dir)) {
        co_return std::make_tuple(ec, zkr::lock{});
    }
    auto create_member = [&]() -> asio::awaitable<std::tuple<error_code, created_node>> {
        for (;;) {
            auto [ec, created] = co_await call<void(error_code, created_node)>(
                [&](auto h) { s->create(node, data, create_mode::ephemeral, std::move(h)); });
            if (ec == zk_errc::node_exists) {
                auto [eec, st] = co_await call<void(error_code, std::optional<stat>)>(
                    [&](auto h) { s->exists(node, std::move(h)); });
                if (!eec && st && st->ephemeral_owner == s->session_id()) {
                    if (s->holds_node(node)) {
                        // Joined already under this id: not a create of ours whose answer was
                        // lost.
                        co_return std::make_tuple(make_error_code(errc::already_held),
                                                  created_node{});
                    }
                    ec = {};
                    created = created_node{node, *st};
                } else if (!eec && !st) {
                    continue;  // its member just left: try again
                } else if (!is_retryable(eec)) {
                    ec = eec ? eec : ec;
                }
            }
            co_return std::make_tuple(ec, std::move(created));
        }
    };
    auto [ec, created] = co_await retrying(s, create_member);
    if (ec) {
        co_return std::make_tuple(ec, zkr::lock{});
    }
    auto state = std::make_shared<lock_state>(s, acquired_node{created.path, created.stat},
                                              loss_policy::on_expiry, log::channels::group);
    state->start();
    co_return std::make_tuple(error_code{}, zkr::lock(std::move(state)));
}

/// The members in `names`, by id, with their data; members that left meanwhile are skipped.
asio::awaitable<members_result> read_members(const session_ptr& s, const std::string& dir,
                                             std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    std::vector<member> out;
    out.reserve(names.size());
    for (auto& name : names) {
        const auto node = join_path(dir, name);
        auto [ec, got] = co_await call<void(error_code, node_data)>(
            [&](auto h) { s->get_data(node, std::move(h)); });
        if (ec == zk_errc::no_node) {
            continue;
        }
        if (ec) {
            co_return members_result{ec, {}};
        }
        out.push_back(member{std::move(name), std::move(got.data)});
    }
    co_return members_result{error_code{}, std::move(out)};
}

/// The members: a listing and each member's data. A group that does not exist has none.
asio::awaitable<members_result> list_members(const session_ptr& s, const std::string& path) {
    auto [ec, kids] = co_await call<void(error_code, children)>(
        [&](auto h) { s->get_children(path, std::move(h)); });
    if (ec == zk_errc::no_node) {
        co_return members_result{error_code{}, {}};
    }
    if (ec) {
        co_return members_result{ec, {}};
    }
    co_return co_await read_members(s, path, std::move(kids.names));
}

std::vector<member> members_of(const children_cache::snapshot& snap) {
    std::vector<member> out;
    out.reserve(snap.size());
    for (const auto& [name, node] : snap) {  // by name: a map
        out.push_back(member{name, node.data});
    }
    return out;
}

/// Waits until the members, as the group's cache holds them, differ from the last report.
asio::awaitable<members_result> wait_change(std::shared_ptr<member_group_state> g) {
    // Whatever ends this wait with an error (cancellation included) drops the cache: closed,
    // its watches removed; the next wait starts another.
    auto fail = [&](error_code ec) {
        g->cache.reset();
        return members_result{ec, {}};
    };
    if (co_await cancellation_requested()) {
        co_return fail(asio::error::operation_aborted);
    }
    if (!g->cache) {
        g->cache.emplace(access::construct<children_cache>(g->session, g->path));
        auto [sec] = co_await g->cache->async_start(use_tuple);
        if (sec) {
            co_return fail(sec);
        }
    }
    for (;;) {
        if (auto snap = g->cache->current()) {
            auto now = members_of(*snap);
            if (!g->reported || now != g->last) {
                g->reported = true;
                g->last = now;
                co_return members_result{error_code{}, std::move(now)};
            }
        }
        if (co_await cancellation_requested()) {
            co_return fail(asio::error::operation_aborted);
        }
        auto [ec, event] = co_await g->cache->async_wait_event(use_tuple);
        if (ec) {
            co_return fail(ec);
        }
        // A member added, updated or removed, or the cache resynced: compare again.
    }
}

/// Lists the members, retrying through connection losses.
asio::awaitable<members_result> members(std::shared_ptr<member_group_state> g) {
    const auto& s = g->session;
    if (co_await cancellation_requested()) {
        co_return members_result{asio::error::operation_aborted, {}};
    }
    co_return co_await retrying(s, [&] { return list_members(s, g->path); });
}

}  // namespace
}  // namespace detail

group::group(session& s, std::string path) : group(detail::access::seam(s), std::move(path)) {}

group::group(std::shared_ptr<detail::session_seam> s, std::string path)
    : impl_(std::make_shared<detail::member_group_state>(
          detail::member_group_state{std::move(s), std::move(path), false, {}, std::nullopt})) {}

const std::string& group::path() const noexcept {
    return detail::access::path_of(*this);
}

void group::initiate_join(const impl_ptr& g, std::string id, std::string data,
                          detail::handler<void(error_code, lock)> h) {
    const auto& s = g->session;
    const auto node = detail::join_path(g->path, id);
    // The id must be one node name: "a/b" would join somewhere else.
    if (detail::validate_path(g->path) || g->path == "/" || id.empty() ||
        id.find('/') != std::string::npos || detail::validate_path(node)) {
        detail::fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    if (auto ec = s->check_request_size(node, data.size())) {
        detail::fail(std::move(h), s->completions(), ec);
        return;
    }
    detail::spawn(s, detail::join(s, g->path, node, std::move(data)), std::move(h));
}

void group::initiate_members(const impl_ptr& g, bool wait_change,
                             detail::handler<void(error_code, std::vector<member>)> h) {
    if (detail::validate_path(g->path)) {
        detail::fail(std::move(h), g->session->completions(), make_error_code(errc::invalid_path));
        return;
    }
    if (wait_change) {
        detail::spawn(g->session, detail::wait_change(g), std::move(h));
    } else {
        detail::spawn(g->session, detail::members(g), std::move(h));
    }
}

namespace {
/// "<dir>/<id>" when the id is one node name; otherwise empty (an invalid path, refused by the
/// start).
std::string member_path(const std::string& dir, const std::string& id) {
    if (dir == "/" || id.empty() || id.find('/') != std::string::npos) {
        return {};
    }
    return detail::join_path(dir, id);
}
}  // namespace

group_member::group_member(const group& g, std::string id, std::string data)
    : node_(detail::access::construct<persistent_node>(
          detail::access::get_impl(g)->session, member_path(g.path(), id), std::move(data),
          persistent_node_options{persistent_node_mode::ephemeral, {}})) {}

}  // namespace zkr
