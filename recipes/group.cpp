// Group membership: ephemeral "<path>/<id>" nodes; members read from the listing and each
// member's data; changes followed with one children watch.
#include "access.hpp"
#include "lock_state.hpp"
#include "path.hpp"

#include <zkr/group.hpp>
#include <zkr/log.hpp>
#include <zkr/session.hpp>

#include <algorithm>

namespace zkr {
namespace detail {

struct member_group_state {
    session_ptr session;
    std::string path;
    // What async_wait_change reported last (driver strand).
    bool reported = false;
    std::vector<member> last;
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

/// One look at the group: its members, and with `wait_change` a watch for the next change (on
/// the listing, or on the group's node while there is none).
asio::awaitable<std::tuple<error_code, std::vector<member>, zkr::watch>> look_at_members(
    const session_ptr& s, const std::string& path, bool wait_change) {
    for (;;) {
        // A watch only when we may wait. A missing group has no members, and its creation is
        // a change (watched with exists).
        error_code ec;
        children kids;
        zkr::watch w;
        if (wait_change) {
            auto [wec, listed, watch] = co_await call<void(error_code, children, zkr::watch)>(
                [&](auto h) { s->watch_children(path, std::move(h)); });
            ec = wec;
            kids = std::move(listed);
            w = std::move(watch);
        } else {
            auto [lec, listed] = co_await call<void(error_code, children)>(
                [&](auto h) { s->get_children(path, std::move(h)); });
            ec = lec;
            kids = std::move(listed);
        }
        if (ec == zk_errc::no_node && !wait_change) {
            co_return std::make_tuple(error_code{}, std::vector<member>{}, zkr::watch{});
        }
        if (ec == zk_errc::no_node) {
            auto [eec, st, ewatch] =
                co_await call<void(error_code, std::optional<stat>, zkr::watch)>(
                    [&](auto h) { s->watch_exists(path, std::move(h)); });
            ec = eec;
            w = std::move(ewatch);
            if (!ec && st) {
                if (co_await cancellation_requested()) {
                    co_return std::make_tuple(make_error_code(asio::error::operation_aborted),
                                              std::vector<member>{}, zkr::watch{});
                }
                continue;  // created meanwhile: list it
            }
        }
        std::vector<member> now;
        if (!ec) {
            std::tie(ec, now) = co_await read_members(s, path, std::move(kids.names));
        }
        co_return std::make_tuple(ec, std::move(now), std::move(w));
    }
}

/// Lists the members, and with `wait_change` waits until they differ from the last report.
asio::awaitable<members_result> members(std::shared_ptr<member_group_state> g, bool wait_change) {
    const auto& s = g->session;
    for (;;) {
        if (co_await cancellation_requested()) {
            co_return members_result{asio::error::operation_aborted, {}};
        }
        auto [ec, now, w] =
            co_await retrying(s, [&] { return look_at_members(s, g->path, wait_change); });
        if (ec) {
            co_return members_result{ec, {}};
        }
        if (!wait_change || !g->reported || now != g->last) {
            if (wait_change) {
                g->reported = true;
                g->last = now;
            }
            co_return members_result{error_code{}, std::move(now)};
        }
        if (co_await cancellation_requested()) {  // asked while a request was in flight
            co_return members_result{asio::error::operation_aborted, {}};
        }
        auto [wait_ec, event] = co_await w.async_wait(use_tuple);
        if (wait_ec == asio::error::operation_aborted || is_session_lost(wait_ec)) {
            co_return members_result{wait_ec, {}};
        }
        // A join or leave, or a reconnection: look again.
    }
}

}  // namespace
}  // namespace detail

group::group(session& s, std::string path) : group(detail::access::seam(s), std::move(path)) {}

group::group(std::shared_ptr<detail::session_seam> s, std::string path)
    : impl_(std::make_shared<detail::member_group_state>(
          detail::member_group_state{std::move(s), std::move(path), false, {}})) {}

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
    detail::spawn(g->session, detail::members(g, wait_change), std::move(h));
}

}  // namespace zkr
