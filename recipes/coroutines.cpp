#include "coroutines.hpp"

#include "log.hpp"
#include "path.hpp"
#include "recycling.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>

#include <optional>

namespace zkr::detail {

boost::asio::awaitable<bool> cancellation_requested() {
    const auto state = co_await boost::asio::this_coro::cancellation_state;
    co_return state.cancelled() != boost::asio::cancellation_type::none;
}

boost::asio::awaitable<error_code> wait_connected(session_ptr s) {
    co_return co_await wait_connected(s, s->generation());
}

boost::asio::awaitable<error_code> wait_connected(session_ptr s, std::uint64_t generation) {
    for (;;) {
        if (co_await cancellation_requested()) {
            co_return make_error_code(boost::asio::error::operation_aborted);
        }
        if (auto ec = ended_since(*s, generation)) {
            co_return ec;
        }
        const auto now = s->state();
        if (now == session_state::connected) {
            co_return error_code{};
        }
        auto [ec, next] = co_await call<void(error_code, session_state)>(
            [&](auto h) { s->wait_state(now, std::move(h)); });
        if (ec && ec != errc::session_closed) {
            co_return ec;
        }
        if (next == session_state::expired) {
            // The state we waited in ended with the session; a renewing one has moved on to
            // its next generation already, which is not ours.
            co_return make_error_code(zk_errc::session_expired);
        }
    }
}

boost::asio::awaitable<std::tuple<error_code, std::vector<acquired_node>>> find_own_nodes(
    session_ptr s, std::string dir, std::string prefix) {
    std::vector<acquired_node> ours;
    auto [sync_ec] = co_await call<void(error_code)>([&](auto h) { s->sync(dir, std::move(h)); });
    if (sync_ec && sync_ec != zk_errc::no_node) {
        co_return std::make_tuple(sync_ec, std::move(ours));
    }
    auto [list_ec, kids] = co_await call<void(error_code, children)>(
        [&](auto h) { s->get_children(dir, std::move(h)); });
    if (list_ec) {
        co_return std::make_tuple(list_ec == zk_errc::no_node ? error_code{} : list_ec,
                                  std::move(ours));
    }
    for (const auto& name : kids.names) {
        if (!name.starts_with(prefix)) {
            continue;
        }
        auto path = join_path(dir, name);
        auto [ec, st] = co_await call<void(error_code, std::optional<stat>)>(
            [&](auto h) { s->exists(path, std::move(h)); });
        if (ec) {
            co_return std::make_tuple(ec, std::move(ours));
        }
        if (st && st->ephemeral_owner == s->session_id()) {
            ours.push_back(acquired_node{std::move(path), *st});
        }
    }
    co_return std::make_tuple(error_code{}, std::move(ours));
}

boost::asio::awaitable<error_code> create_for_sure(session_ptr s, std::string path,
                                                   create_mode mode) {
    auto [ec, node] = co_await call_retrying<void(error_code, created_node)>(
        s, [&](auto h) { s->create(path, {}, mode, std::move(h)); });
    co_return ec == zk_errc::node_exists ? error_code{} : ec;
}

boost::asio::awaitable<error_code> ensure_path(session_ptr s, std::string dir) {
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        if (auto ec = co_await create_for_sure(s, dir.substr(0, pos), create_mode::container)) {
            co_return ec;
        }
    }
    co_return error_code{};
}

std::optional<error_code> removal_settled(error_code ec) {
    if (!ec || ec == zk_errc::no_node || is_session_lost(ec)) {
        return error_code{};
    }
    if (!is_retryable(ec)) {
        return ec;
    }
    return std::nullopt;
}

boost::asio::awaitable<error_code> remove_for_sure(session_ptr s, std::string path) {
    co_await forget_cancellation();
    for (;;) {
        auto [ec] =
            co_await call<void(error_code)>([&](auto h) { s->remove(path, -1, std::move(h)); });
        if (auto settled = removal_settled(ec)) {
            co_return *settled;
        }
        if (auto wait_ec = co_await wait_connected(s); is_session_lost(wait_ec)) {
            co_return error_code{};
        }
    }
}

void remove_for_sure_after(const session_ptr& s, const std::string& path,
                           std::function<void(error_code)> done) {
    boost::asio::co_spawn(s->strand(), remove_for_sure(s, path),
                          [done = std::move(done)](std::exception_ptr e, error_code ec) {
                              done(e ? make_error_code(zk_errc::system_error) : ec);
                          });
}

void remove_in_background(const session_ptr& s, std::string path, const char* channel) {
    auto kept = std::make_shared<const std::string>(std::move(path));
    remove_for_sure(s, *kept, [kept, channel](error_code ec) {
        if (ec) {
            ZKR_LOG(error, channel, "could not delete " << *kept << ": " << ec.message());
        }
    });
}

}  // namespace zkr::detail
