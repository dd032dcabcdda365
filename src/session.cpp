// The public session: forwards to session_impl.
#include "access.hpp"
#include "session_impl.hpp"

#include "path.hpp"

namespace zkr {

namespace detail {
const char* session_state_name(session_state s) noexcept;
}

namespace {

/// The session's requests run their handlers inline on the driver strand (for the recipes);
/// a user's handler is posted to its own executor instead, never run inside a C-client call.
template <class... Args>
detail::handler<void(error_code, Args...)> to_user(const std::shared_ptr<detail::session_impl>& s,
                                                   detail::handler<void(error_code, Args...)> h) {
    using signature = void(error_code, Args...);
    return detail::adapt<signature, signature>(
        std::move(h), s->completions(), [](auto& pending, error_code ec, auto&&... values) {
            pending.complete(ec, std::forward<decltype(values)>(values)...);
        });
}

/// Runs `start(handler)` for a valid `path`; else fails the handler with invalid_path. Paths
/// are checked here, at the public boundary: the session trusts its internal callers.
template <class... Args, class Start>
void checked(const std::shared_ptr<detail::session_impl>& s, const std::string& path,
             detail::handler<void(error_code, Args...)> h, Start start) {
    if (auto ec = detail::validate_path(path)) {
        detail::fail(std::move(h), s->completions(), ec);
        return;
    }
    start(to_user(s, std::move(h)));
}

}  // namespace

const char* to_string(session_state s) noexcept {
    return detail::session_state_name(s);
}

session::session(executor_type ex, session_config config)
    : impl_(std::make_shared<detail::session_impl>(std::move(ex), std::move(config))) {}

session::session(session&&) noexcept = default;

session& session::operator=(session&& other) noexcept {
    if (this != &other) {
        if (impl_) {
            impl_->close_detached();
        }
        impl_ = std::move(other.impl_);
    }
    return *this;
}

session::~session() {
    if (impl_) {
        impl_->close_detached();
    }
}

detail::session_ptr detail::access::seam(const session& s) {
    return get_impl(s);
}

session::executor_type session::get_executor() const noexcept {
    return impl_->executor();
}
const session_config& session::config() const noexcept {
    return impl_->config();
}
session_state session::state() const noexcept {
    return impl_->state();
}
std::int64_t session::session_id() const noexcept {
    return impl_->session_id();
}
std::uint64_t session::generation() const noexcept {
    return impl_->generation();
}
client_id session::id() const noexcept {
    return impl_->id();
}
std::chrono::milliseconds session::negotiated_timeout() const noexcept {
    return impl_->negotiated_timeout();
}
std::size_t session::pending_operations() const noexcept {
    return impl_->pending_operations();
}
error_code session::set_servers(const std::string& hosts) {
    return impl_->set_servers(hosts);
}

void session::initiate_connect(const impl_ptr& s, detail::handler<void(error_code)> h) {
    s->connect(std::move(h));
}
void session::initiate_close(const impl_ptr& s, detail::handler<void(error_code)> h) {
    s->close(std::move(h));
}
void session::initiate_wait_state(const impl_ptr& s, session_state seen,
                                  detail::handler<void(error_code, session_state)> h) {
    s->wait_state(seen, std::move(h));
}
namespace {

bool has_ttl(create_mode m) noexcept {
    return m == create_mode::persistent_with_ttl ||
           m == create_mode::persistent_sequential_with_ttl;
}

}  // namespace

void session::initiate_create(const impl_ptr& s, std::string p, std::string d, create_mode m,
                              detail::handler<void(error_code, created_node)> h) {
    if (has_ttl(m)) {
        detail::fail(std::move(h), s->completions(), make_error_code(errc::invalid_argument));
        return;
    }
    checked(s, p, std::move(h),
            [&](auto user) { s->create(std::move(p), std::move(d), m, std::move(user)); });
}

void session::initiate_create_ttl(const impl_ptr& s, std::string p, std::string d, create_mode m,
                                  std::chrono::milliseconds ttl,
                                  detail::handler<void(error_code, created_node)> h) {
    constexpr std::int64_t max_ttl_ms = (std::int64_t{1} << 40) - 1;  // the server's limit
    if (!has_ttl(m) || ttl.count() < 1 || ttl.count() > max_ttl_ms) {
        detail::fail(std::move(h), s->completions(), make_error_code(errc::invalid_argument));
        return;
    }
    // A server without extended types answers "unimplemented": say what it means.
    auto named = detail::adapt<void(error_code, created_node), void(error_code, created_node)>(
        std::move(h), s->completions(), [](auto& pending, error_code ec, created_node node) {
            pending.complete(
                ec == zk_errc::unimplemented ? make_error_code(errc::ttl_disabled) : ec,
                std::move(node));
        });
    checked(s, p, std::move(named), [&](auto user) {
        s->create(std::move(p), std::move(d), m, std::move(user), ttl.count());
    });
}
void session::initiate_remove(const impl_ptr& s, std::string p, int v,
                              detail::handler<void(error_code)> h) {
    checked(s, p, std::move(h), [&](auto user) { s->remove(std::move(p), v, std::move(user)); });
}
void session::initiate_get_data(const impl_ptr& s, std::string p,
                                detail::handler<void(error_code, node_data)> h) {
    checked(s, p, std::move(h), [&](auto user) { s->get_data(std::move(p), std::move(user)); });
}
void session::initiate_watch_data(const impl_ptr& s, std::string p,
                                  detail::handler<void(error_code, node_data, watch)> h) {
    checked(s, p, std::move(h), [&](auto user) { s->watch_data(std::move(p), std::move(user)); });
}
void session::initiate_exists(const impl_ptr& s, std::string p,
                              detail::handler<void(error_code, std::optional<stat>)> h) {
    checked(s, p, std::move(h), [&](auto user) { s->exists(std::move(p), std::move(user)); });
}
void session::initiate_watch_exists(
    const impl_ptr& s, std::string p,
    detail::handler<void(error_code, std::optional<stat>, watch)> h) {
    checked(s, p, std::move(h), [&](auto user) { s->watch_exists(std::move(p), std::move(user)); });
}
void session::initiate_get_children(const impl_ptr& s, std::string p,
                                    detail::handler<void(error_code, children)> h) {
    checked(s, p, std::move(h), [&](auto user) { s->get_children(std::move(p), std::move(user)); });
}
void session::initiate_watch_children(const impl_ptr& s, std::string p,
                                      detail::handler<void(error_code, children, watch)> h) {
    checked(s, p, std::move(h),
            [&](auto user) { s->watch_children(std::move(p), std::move(user)); });
}
void session::initiate_set_data(const impl_ptr& s, std::string p, std::string d, int v,
                                detail::handler<void(error_code, stat)> h) {
    checked(s, p, std::move(h),
            [&](auto user) { s->set_data(std::move(p), std::move(d), v, std::move(user)); });
}
void session::initiate_multi(const impl_ptr& s, std::vector<op> ops,
                             detail::handler<void(error_code, std::vector<op_result>)> h) {
    if (auto ec = detail::validate_ops(ops)) {
        detail::fail(std::move(h), s->completions(), ec);
        return;
    }
    s->multi(std::move(ops), to_user(s, std::move(h)));
}
void session::initiate_sync(const impl_ptr& s, std::string p, detail::handler<void(error_code)> h) {
    checked(s, p, std::move(h), [&](auto user) { s->sync(std::move(p), std::move(user)); });
}

}  // namespace zkr
