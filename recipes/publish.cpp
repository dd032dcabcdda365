// A leader's publication (leadership::async_publish): a write of the whole value into our own
// election node, which the server applies only while that node exists.
//
// A set_data without a version: sent again after a disconnection it writes the same value once
// more, so it may be retried like a read. A versioned write would not make that safer (a
// revocation request written into the node moves its version too) and would fail for a reason
// that says nothing about leadership.
#include "lock_state.hpp"
#include "log.hpp"
#include "on_held.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/names.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace zkr {
namespace detail {

namespace asio = boost::asio;

void lock_state::publish(std::string data, handler<void(error_code)> h) {
    // Our own node holding the revocation request would ask us, and any Curator holder
    // watching, to let go.
    if (data == names::revoke_request) {
        fail(std::move(h), session_->completions(), make_error_code(errc::invalid_argument));
        return;
    }
    if (auto ec = session_->check_request_size(path_, data.size())) {
        fail(std::move(h), session_->completions(), ec);
        return;
    }
    spawn(session_, write_data(shared_from_this(), std::move(data)), std::move(h));
}

asio::awaitable<std::tuple<error_code>> lock_state::write_data(std::shared_ptr<lock_state> self,
                                                               std::string data) {
    using namespace asio::experimental::awaitable_operators;
    const auto& s = self->session_;
    for (;;) {
        if (self->released_) {
            co_return std::make_tuple(make_error_code(errc::not_owner));
        }
        if (!self->owned_.load()) {
            co_return std::make_tuple(make_error_code(errc::lock_lost));
        }
        auto [ec, st] = co_await call<void(error_code, stat)>(
            [&](auto h) { s->set_data(self->path_, data, -1, std::move(h)); });
        if (ec == zk_errc::no_node) {
            self->node_missing();
            co_return std::make_tuple(make_error_code(errc::lock_lost));
        }
        if (is_session_lost(ec)) {
            co_return std::make_tuple(make_error_code(errc::lock_lost));
        }
        if (!is_retryable(ec)) {
            co_return std::make_tuple(ec);
        }
        if (co_await cancellation_requested()) {
            co_return std::make_tuple(make_error_code(asio::error::operation_aborted));
        }
        // Disconnected: send it again once the connection is back, unless leadership is lost
        // first (the local deadline, expiry, or at once with loss_policy::on_suspend). Session
        // events lose it without the own-node watch: none is armed for this wait.
        ZKR_LOG(debug, self->channel_,
                "publication to " << self->path_ << " waits for the connection: " << ec.message());
        auto connected = wait_connected(s);
        auto lost = call<void(error_code)>([&](auto h) { self->wait_lost(std::move(h), false); });
        auto woke = co_await (std::move(connected) || std::move(lost));
        if (co_await cancellation_requested()) {
            co_return std::make_tuple(make_error_code(asio::error::operation_aborted));
        }
        if (woke.index() == 0 && std::get<0>(woke)) {
            co_return std::make_tuple(make_error_code(errc::lock_lost));  // the session ended
        }
        // Connected, or lost: the checks above tell which.
    }
}

}  // namespace detail

void leadership::initiate_publish(const std::shared_ptr<detail::lock_state>& state,
                                  std::string data, detail::handler<void(error_code)> h) {
    detail::on_held(state, std::move(h),
                    [&](auto& s, auto h) { s.publish(std::move(data), std::move(h)); });
}

}  // namespace zkr
