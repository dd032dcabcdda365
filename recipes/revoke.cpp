// Revocation: the request written into the holder's node, then, if forced, the wait for it to go
// and the deletion.
#include "access.hpp"
#include "await_ops.hpp"
#include "log.hpp"
#include "path.hpp"

#include <zkr/log.hpp>
#include <zkr/names.hpp>
#include <zkr/revoke.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

namespace zkr::detail {

namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
constexpr const char* channel = log::channels::mutex;

/// Waits until `node` is gone or `deadline` passes; true if it went.
asio::awaitable<std::tuple<error_code, bool>> gone_before(session_ptr s, std::string node,
                                                          asio::steady_timer& deadline) {
    for (;;) {
        auto [ec, st, w] = co_await call_retrying<void(error_code, std::optional<stat>, watch)>(
            s, [&](auto h) { s->watch_exists(node, std::move(h)); });
        if (ec || !st) {
            co_return std::make_tuple(ec, !ec);
        }
        auto first = co_await (w.async_wait(use_tuple) || deadline.async_wait(use_tuple));
        if (first.index() == 1) {
            co_return std::make_tuple(error_code{}, false);  // the grace period is over
        }
        // Deleted, changed (a second request, say) or a connection event: look again.
    }
}

asio::awaitable<std::tuple<error_code, revocation>> revoke(session_ptr s, std::string node,
                                                           revoke_options options) {
    asio::steady_timer deadline(s->strand(), options.grace);
    // An unconditional write: Curator's Revoker does the same, and the holder only compares the
    // data. The request stays in the node until it goes.
    const std::string request(names::revoke_request);
    auto [ec, st] = co_await call_retrying<void(error_code, stat)>(
        s, [&](auto h) { s->set_data(node, request, -1, std::move(h)); });
    if (ec || !options.force) {
        co_return std::make_tuple(ec, revocation::requested);
    }
    auto [wec, went] = co_await gone_before(s, node, deadline);
    if (wec || went) {
        co_return std::make_tuple(wec, went ? revocation::released : revocation::requested);
    }
    ZKR_LOG(warning, channel, "revocation of " << node << " forced after its grace period");
    auto [rec] = co_await call_retrying<void(error_code)>(
        s, [&](auto h) { s->remove(node, -1, std::move(h)); });
    if (rec == zk_errc::no_node) {
        co_return std::make_tuple(error_code{}, revocation::released);  // it went just before
    }
    co_return std::make_tuple(rec, rec ? revocation::requested : revocation::evicted);
}

}  // namespace

void revoke_impl(session& public_session, std::string node, revoke_options options,
                 handler<void(error_code, revocation)> h) {
    auto s = access::ops(public_session);
    if (validate_path(node) || node == "/") {
        fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    spawn(s, revoke(s, std::move(node), options), std::move(h));
}

}  // namespace zkr::detail
