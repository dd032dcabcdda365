#include "access.hpp"
#include "lock_state.hpp"
#include "path.hpp"

#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include <unistd.h>

namespace zkr {
namespace detail {

std::string default_node_data() {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0) {
        host[0] = '\0';
    }
    return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace detail

mutex::mutex(session& s, std::string path, mutex_options options)
    : session_(detail::access::ops(s)), path_(std::move(path)), options_(std::move(options)) {
    if (options_.node_data.empty()) {
        options_.node_data = detail::default_node_data();
    }
}

mutex::mutex(std::shared_ptr<detail::session_ops> s, std::string path, std::string marker,
             mutex_options options)
    : session_(std::move(s)),
      path_(std::move(path)),
      marker_(std::move(marker)),
      options_(std::move(options)) {
    if (options_.node_data.empty()) {
        options_.node_data = detail::default_node_data();
    }
}

mutex::executor_type mutex::get_executor() const noexcept {
    return session_->executor();
}

void mutex::prepare_impl(const std::shared_ptr<detail::session_ops>& s, const std::string& path,
                         const std::string& marker, detail::handler<void(error_code)> h) {
    detail::prepare_lock_dir(s, path, marker, std::move(h));
}

void mutex::adopt_impl(const std::shared_ptr<detail::session_ops>& s, const std::string& path,
                       const std::string& marker, const mutex_options& options, std::string node,
                       detail::handler<void(error_code, lock)> h) {
    if (detail::validate_path(node) || detail::parent_path(node) != path ||
        detail::node_name(node).find(marker) == std::string_view::npos) {
        detail::fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    auto max_hold = options.max_hold;
    if (auto ec = detail::check_max_hold(max_hold)) {  // before the node is looked up
        detail::fail(std::move(h), s->completions(), ec);
        return;
    }
    detail::acquire_request request{
        s, path, marker, options.node_data, false, log::channels::mutex};
    request.fast_handoff = marker != names::write_marker;
    request.max_hold = max_hold;
    // The lock reaches the caller one hop after acquire_lock's handler (through spawn): its
    // max_hold clock starts after that delivery, not acquire_lock's.
    request.starts_hold_clock = false;
    detail::spawn(
        s,
        [](detail::session_ptr s, detail::acquire_request request, std::string node,
           loss_policy policy) -> boost::asio::awaitable<std::tuple<error_code, lock>> {
            auto [ec, st] = co_await detail::call<void(error_code, std::optional<zkr::stat>)>(
                [&](auto h) { s->exists(node, std::move(h)); });
            if (!ec && (!st || st->ephemeral_owner != s->session_id())) {
                ec = make_error_code(errc::not_owner);
            }
            if (!ec && s->holds_node(node)) {
                ec = make_error_code(errc::already_held);
            }
            if (ec) {
                co_return std::make_tuple(ec, lock{});
            }
            // Claimed until the adopted lock's own state is registered (acquire_lock).
            auto claim = std::make_shared<detail::node_claim>(node);
            s->add_listener(claim);
            request.existing = detail::acquired_node{node, *st};
            co_return co_await detail::call<void(error_code, lock)>(
                [&](auto h) { detail::acquire_lock(std::move(request), policy, std::move(h)); });
        }(s, std::move(request), std::move(node), options.on_loss),
        detail::adapt<void(error_code, lock), void(error_code, lock)>(
            std::move(h), s->completions(), [](auto& pending, error_code ec, lock l) {
                auto state = detail::access::state_of(l);
                pending.complete(ec, std::move(l));
                if (state) {
                    state->start_hold_clock();
                }
            }));
}

void mutex::lock_impl(const std::shared_ptr<detail::session_ops>& s, const std::string& path,
                      const std::string& marker, const mutex_options& options, bool try_only,
                      detail::handler<void(error_code, lock)> h) {
    detail::acquire_request request{
        s, path, marker, options.node_data, try_only, log::channels::mutex};
    request.fast_handoff = marker != names::write_marker;
    request.max_hold = options.max_hold;
    detail::acquire_lock(std::move(request), options.on_loss, std::move(h));
}

}  // namespace zkr
