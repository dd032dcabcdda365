// The barrier: one persistent node; waiters watch it until it is gone.
#include "access.hpp"
#include "coroutines.hpp"
#include "path.hpp"

#include <zkr/barrier.hpp>
#include <zkr/session.hpp>
#include <zkr/watch.hpp>

namespace zkr {
namespace detail {

/// What a zkr::barrier is made of (its impl_).
struct barrier_impl {
    session_ptr session;
    std::string path;  ///< the barrier's node
};

namespace {

namespace asio = boost::asio;

asio::awaitable<std::tuple<error_code>> set_barrier(session_ptr s, std::string path) {
    if (auto ec = co_await ensure_path(s, std::string(parent_path(path)))) {
        co_return ec;
    }
    co_return co_await create_for_sure(s, path, create_mode::persistent);  // set when set: fine
}

asio::awaitable<std::tuple<error_code>> remove_barrier(session_ptr s, std::string path) {
    // Sent again after a lost answer, a removal that happened finds no node: removed either way.
    auto [ec] = co_await call_retrying<void(error_code)>(
        s, [&](auto h) { s->remove(path, -1, std::move(h)); });
    co_return ec == zk_errc::no_node ? error_code{} : ec;
}

asio::awaitable<std::tuple<error_code>> wait_barrier(session_ptr s, std::string path) {
    for (;;) {
        auto [ec, st, w] = co_await call_retrying<void(error_code, std::optional<stat>, watch)>(
            s, [&](auto h) { s->watch_exists(path, std::move(h)); });
        if (co_await cancellation_requested()) {
            co_return asio::error::operation_aborted;  // dropping `w` removes the watch
        }
        if (ec || !st) {
            co_return ec;  // not set: through at once
        }
        auto [wait_ec, event] = co_await w.async_wait(use_tuple);
        if (wait_ec == asio::error::operation_aborted || is_session_lost(wait_ec)) {
            co_return wait_ec;
        }
        // Deleted, or the connection dropped (the watch may have missed the deletion), or the
        // node's data changed: look again.
    }
}

template <class Body>
void start(const std::shared_ptr<session_seam>& s, const std::string& path, Body body,
           handler<void(error_code)> h) {
    if (validate_path(path) || path == "/") {
        fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    spawn(s, body(s, path), std::move(h));
}

}  // namespace
}  // namespace detail

barrier::barrier(session& s, std::string path)
    : barrier(detail::access::seam(s), std::move(path)) {}

barrier::barrier(std::shared_ptr<detail::session_seam> s, std::string path)
    : impl_(std::make_shared<const detail::barrier_impl>(
          detail::barrier_impl{std::move(s), std::move(path)})) {}

const std::string& barrier::path() const noexcept {
    return detail::access::path_of(*this);
}

void barrier::initiate_set(const impl_ptr& b, detail::handler<void(error_code)> h) {
    detail::start(b->session, b->path, &detail::set_barrier, std::move(h));
}

void barrier::initiate_remove(const impl_ptr& b, detail::handler<void(error_code)> h) {
    detail::start(b->session, b->path, &detail::remove_barrier, std::move(h));
}

void barrier::initiate_wait(const impl_ptr& b, detail::handler<void(error_code)> h) {
    detail::start(b->session, b->path, &detail::wait_barrier, std::move(h));
}

}  // namespace zkr
