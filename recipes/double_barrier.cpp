// The double barrier, in Curator's layout and order of operations (see the header).
#include "access.hpp"
#include "contender.hpp"
#include "coroutines.hpp"
#include "path.hpp"

#include <zkr/double_barrier.hpp>
#include <zkr/session.hpp>
#include <zkr/watch.hpp>

#include <algorithm>

namespace zkr {
namespace detail {

struct double_barrier_state {
    session_ptr session;
    std::string path;
    int members = 0;
    std::string node;     ///< ours: "<path>/<uuid>"
    bool inside = false;  ///< driver strand
};

namespace {

namespace asio = boost::asio;

constexpr std::string_view ready_name = names::double_barrier_ready;

using state_ptr = std::shared_ptr<double_barrier_state>;

/// The members' node names, sorted (the "ready" node is not a member).
std::vector<std::string> members_of(std::vector<std::string> names) {
    names.erase(std::remove(names.begin(), names.end(), ready_name), names.end());
    std::sort(names.begin(), names.end());
    return names;
}

/// One round of enter: open (the "ready" node exists, or we complete the count and create it),
/// or else a watch on "ready" to wait with.
asio::awaitable<std::tuple<error_code, bool, zkr::watch>> look_for_ready(
    const double_barrier_state& b, const std::string& ready) {
    const auto& s = b.session;
    auto [ec, st, w] = co_await call<void(error_code, std::optional<stat>, zkr::watch)>(
        [&](auto h) { s->watch_exists(ready, std::move(h)); });
    if (ec || st) {
        co_return std::make_tuple(ec, !ec, std::move(w));
    }
    // Read what the server has committed, not what this server has seen so far: two members
    // arriving together must not both count one short.
    auto [sync_ec] =
        co_await call<void(error_code)>([&](auto h) { s->sync(b.path, std::move(h)); });
    auto [lec, kids] = co_await call<void(error_code, children)>(
        [&](auto h) { s->get_children(b.path, std::move(h)); });
    ec = sync_ec ? sync_ec : lec;
    if (!ec && static_cast<int>(members_of(std::move(kids.names)).size()) >= b.members) {
        auto [rec, node] = co_await call<void(error_code, created_node)>([&](auto h) {
            s->create(ready, std::string(), create_mode::persistent, std::move(h));
        });
        if (!rec || rec == zk_errc::node_exists) {
            co_return std::make_tuple(error_code{}, true, zkr::watch{});
        }
        ec = rec;
    }
    co_return std::make_tuple(ec, false, std::move(w));
}

asio::awaitable<std::tuple<error_code>> enter(state_ptr b) {
    const auto& s = b->session;
    if (b->inside) {
        co_return make_error_code(errc::invalid_argument);  // entered already
    }
    const auto ready = join_path(b->path, ready_name);
    if (auto ec = co_await ensure_path(s, b->path)) {
        co_return ec;
    }
    // Our node: a uuid name, so a node found after a lost answer is ours.
    if (auto ec = co_await create_for_sure(s, b->node, create_mode::ephemeral)) {
        co_return ec;
    }
    error_code result;
    for (;;) {
        if (co_await cancellation_requested()) {
            result = asio::error::operation_aborted;
            break;
        }
        auto [ec, open, w] = co_await retrying(s, [&] { return look_for_ready(*b, ready); });
        if (open) {
            b->inside = true;
            co_return error_code{};
        }
        if (is_session_lost(ec)) {
            co_return ec;  // our node ended with the session: nothing to remove
        }
        if (ec) {
            result = ec;
            break;
        }
        if (co_await cancellation_requested()) {
            result = asio::error::operation_aborted;
            break;
        }
        auto [wait_ec, event] = co_await w.async_wait(use_tuple);
        if (wait_ec == asio::error::operation_aborted || is_session_lost(wait_ec)) {
            result = wait_ec;
            break;
        }
    }
    co_await forget_cancellation();
    co_await remove_for_sure(s, b->node);  // not entered: nothing of ours stays
    co_return result;
}

asio::awaitable<std::tuple<error_code>> leave(state_ptr b) {
    const auto& s = b->session;
    if (!b->inside) {
        co_return make_error_code(errc::invalid_argument);  // not entered
    }
    const auto own = std::string(node_name(b->node));
    bool ours_there = true;
    for (;;) {
        if (co_await cancellation_requested()) {
            b->inside = ours_there;
            co_return asio::error::operation_aborted;
        }
        auto [lec, kids] = co_await call_retrying<void(error_code, children)>(
            s, [&](auto h) { s->get_children(b->path, std::move(h)); });
        if (lec && lec != zk_errc::no_node) {
            co_return lec;
        }
        const auto names = members_of(std::move(kids.names));
        const auto at = std::find(names.begin(), names.end(), own);
        ours_there = ours_there && at != names.end();  // gone with a session or an operator
        if (names.empty() || (names.size() == 1 && (!ours_there || *at == names.front()))) {
            if (ours_there) {
                co_await remove_for_sure(s, b->node);
            }
            break;
        }
        // The lowest waits for the highest; every other member leaves, then waits for the
        // lowest: one member woken per departure.
        const bool lowest = ours_there && at == names.begin();
        const auto watched = join_path(b->path, lowest ? names.back() : names.front());
        auto [eec, st, w] = co_await call<void(error_code, std::optional<stat>, zkr::watch)>(
            [&](auto h) { s->watch_exists(watched, std::move(h)); });
        if (!lowest && ours_there) {
            co_await remove_for_sure(s, b->node);
            ours_there = false;
        }
        if (is_retryable(eec)) {
            if (auto wait_ec = co_await wait_connected(s)) {
                co_return wait_ec;
            }
            continue;
        }
        if (eec) {
            co_return eec;
        }
        if (!st) {
            continue;
        }
        if (co_await cancellation_requested()) {
            b->inside = ours_there;
            co_return asio::error::operation_aborted;
        }
        auto [wait_ec, event] = co_await w.async_wait(use_tuple);
        if (wait_ec == asio::error::operation_aborted || is_session_lost(wait_ec)) {
            b->inside = ours_there;
            co_return wait_ec;
        }
    }
    b->inside = false;
    const auto ready = join_path(b->path, ready_name);
    auto [rec] = co_await call_retrying<void(error_code)>(
        s, [&](auto h) { s->remove(ready, -1, std::move(h)); });
    co_return rec == zk_errc::no_node ? error_code{} : rec;
}

template <class Body>
void start(const state_ptr& b, Body body, handler<void(error_code)> h) {
    if (validate_path(b->path) || b->path == "/" || validate_path(b->node)) {
        fail(std::move(h), b->session->completions(), make_error_code(errc::invalid_path));
        return;
    }
    if (b->members < 1) {
        fail(std::move(h), b->session->completions(), make_error_code(errc::invalid_argument));
        return;
    }
    spawn(b->session, body(b), std::move(h));
}

}  // namespace
}  // namespace detail

double_barrier::double_barrier(session& s, std::string path, int members)
    : double_barrier(detail::access::seam(s), std::move(path), members) {}

double_barrier::double_barrier(std::shared_ptr<detail::session_seam> s, std::string path,
                               int members)
    : impl_(std::make_shared<detail::double_barrier_state>()) {
    impl_->session = std::move(s);
    impl_->node = detail::join_path(path, detail::make_uuid());
    impl_->path = std::move(path);
    impl_->members = members;
}

const std::string& double_barrier::path() const noexcept {
    return detail::access::path_of(*this);
}

void double_barrier::initiate_enter(const impl_ptr& b, detail::handler<void(error_code)> h) {
    detail::start(b, &detail::enter, std::move(h));
}

void double_barrier::initiate_leave(const impl_ptr& b, detail::handler<void(error_code)> h) {
    detail::start(b, &detail::leave, std::move(h));
}

}  // namespace zkr
