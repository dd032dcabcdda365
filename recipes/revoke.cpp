// Revocation: the request written into the holder's node, then, if forced, the wait for it to go
// and the deletion.
#include "access.hpp"
#include "coroutines.hpp"
#include "lock_node.hpp"
#include "log.hpp"
#include "path.hpp"
#include "revoke_node.hpp"

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

/// The node, if revocation may write into it: a mutex's or a read-write lock's contender, or
/// a semaphore's lease (its holder hears through any of its nodes: lock_group).
asio::awaitable<std::tuple<error_code, stat>> revocable(session_ptr s, const std::string& node) {
    auto [ec, found] = co_await inspect_lock_node(s, node, false);
    if (!ec && found.role != names::kinds::lock && found.role != names::kinds::read &&
        found.role != names::kinds::write && found.role != lease_role) {
        // An election's latch (its data is the leader's published value), a turn in a
        // semaphore's queue (no holder hears there).
        ec = make_error_code(errc::not_revocable);
    }
    co_return std::make_tuple(ec, found.stat);
}

asio::awaitable<std::tuple<error_code, revocation>> revoke(session_ptr s, std::string node,
                                                           revoke_options options) {
    asio::steady_timer deadline(s->strand(), options.grace);
    // Curator's Revoker writes unconditionally and the holder only compares the data. zkr writes
    // only into the node it looked at (its version), so that nothing it did not check is touched.
    // The request stays in the node until it goes.
    const std::string request(names::revoke_request);
    std::int64_t czxid = 0;
    for (;;) {
        auto [ec, st] = co_await revocable(s, node);
        if (ec) {
            co_return std::make_tuple(ec, revocation::requested);
        }
        czxid = st.czxid;
        const auto version = st.version;
        auto [wec, written] = co_await call_retrying<void(error_code, stat)>(
            s, [&](auto h) { s->set_data(node, request, version, std::move(h)); });
        if (wec != zk_errc::bad_version) {  // changed meanwhile (another request): look again
            if (wec || !options.force) {
                co_return std::make_tuple(wec, revocation::requested);
            }
            break;
        }
    }
    auto [wec, went] = co_await gone_before(s, node, deadline);
    if (wec || went) {
        co_return std::make_tuple(wec, went ? revocation::released : revocation::requested);
    }
    ZKR_LOG(warning, channel, "revocation of " << node << " forced after its grace period");
    for (;;) {
        // Only the node that was asked: the same creation, whatever was written into it since.
        auto [ec, st] = co_await call_retrying<void(error_code, std::optional<stat>)>(
            s, [&](auto h) { s->exists(node, std::move(h)); });
        if (!ec && (!st || st->czxid != czxid)) {
            co_return std::make_tuple(error_code{}, revocation::released);  // it went just before
        }
        if (ec) {
            co_return std::make_tuple(ec, revocation::requested);
        }
        const auto version = st->version;
        bool answer_lost = false;  // a delete of ours may have been applied
        auto rec = co_await retrying(s, [&]() -> asio::awaitable<error_code> {
            auto [ec] = co_await call<void(error_code)>(
                [&](auto h) { s->remove(node, version, std::move(h)); });
            answer_lost = answer_lost || is_retryable(ec);
            co_return ec;
        });
        if (rec == zk_errc::no_node) {
            // Gone: by itself, or by a delete of ours whose answer was lost. The holder cannot
            // have been told in the second case: say evicted, the case to plan for.
            co_return std::make_tuple(error_code{},
                                      answer_lost ? revocation::evicted : revocation::released);
        }
        if (rec != zk_errc::bad_version) {
            co_return std::make_tuple(rec, rec ? revocation::requested : revocation::evicted);
        }
    }
}

}  // namespace

void revoke_node(const session_ptr& s, std::string node, revoke_options options,
                 handler<void(error_code, revocation)> h) {
    if (validate_path(node) || node == "/") {
        fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    spawn(s, revoke(s, std::move(node), options), std::move(h));
}

void initiate_revoke(session& s, std::string node, revoke_options options,
                     handler<void(error_code, revocation)> h) {
    revoke_node(access::seam(s), std::move(node), options, std::move(h));
}

}  // namespace zkr::detail
