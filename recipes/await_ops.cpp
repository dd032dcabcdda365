#include "await_ops.hpp"

#include "log.hpp"
#include "path.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

namespace zkr::detail {
namespace {

error_code final_state_error(session_state s) {
    switch (s) {
        case session_state::expired:
            return make_error_code(zk_errc::session_expired);
        case session_state::auth_failed:
            return make_error_code(zk_errc::auth_failed);
        case session_state::closed:
            return make_error_code(errc::session_closed);
        default:
            return {};
    }
}

}  // namespace

boost::asio::awaitable<error_code> wait_connected(session_ptr s) {
    for (;;) {
        const auto now = s->state();
        if (now == session_state::connected) {
            co_return error_code{};
        }
        if (auto ec = final_state_error(now)) {
            co_return ec;
        }
        auto [ec, next] = co_await call<void(error_code, session_state)>(
            [&](auto h) { s->wait_state(now, std::move(h)); });
        if (ec && ec != errc::session_closed) {
            co_return ec;
        }
    }
}

boost::asio::awaitable<error_code> ensure_path(session_ptr s, std::string dir) {
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = dir.find('/', pos + 1);
        auto prefix = dir.substr(0, pos);
        for (;;) {
            auto [ec, node] = co_await call<void(error_code, created_node)>(
                [&](auto h) { s->create(prefix, {}, create_mode::container, std::move(h)); });
            if (!ec || ec == zk_errc::node_exists) {
                break;
            }
            if (!is_retryable(ec)) {
                co_return ec;
            }
            if (auto wait_ec = co_await wait_connected(s)) {
                co_return wait_ec;
            }
        }
    }
    co_return error_code{};
}

boost::asio::awaitable<error_code> remove_for_sure(session_ptr s, std::string path) {
    co_await boost::asio::this_coro::reset_cancellation_state();
    for (;;) {
        auto [ec] =
            co_await call<void(error_code)>([&](auto h) { s->remove(path, -1, std::move(h)); });
        if (!ec || ec == zk_errc::no_node || is_session_lost(ec)) {
            co_return error_code{};
        }
        if (!is_retryable(ec)) {
            co_return ec;
        }
        if (auto wait_ec = co_await wait_connected(s); is_session_lost(wait_ec)) {
            co_return error_code{};
        }
    }
}

void remove_in_background(const session_ptr& s, std::string path, const char* channel) {
    boost::asio::co_spawn(
        s->strand(),
        [](session_ptr s, std::string path, const char* channel) -> boost::asio::awaitable<void> {
            if (auto ec = co_await remove_for_sure(s, path)) {
                ZKR_LOG(error, channel, "could not delete " << path << ": " << ec.message());
            }
        }(s, std::move(path), channel),
        boost::asio::detached);
}

}  // namespace zkr::detail
