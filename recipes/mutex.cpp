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

/// The queue request of a mutex (or of one side of a read-write lock).
acquire_request mutex_request(const session_ptr& s, const std::string& path,
                              const std::string& marker, const mutex_options& options,
                              bool try_only) {
    acquire_request request{s, path, marker, options.node_data, try_only, log::channels::mutex};
    request.fast_handoff = marker != names::write_marker;
    request.max_hold = options.max_hold;
    return request;
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
    detail::adopt_lock(detail::mutex_request(s, path, marker, options, false), std::move(node),
                       options.on_loss, std::move(h));
}

void mutex::lock_impl(const std::shared_ptr<detail::session_ops>& s, const std::string& path,
                      const std::string& marker, const mutex_options& options, bool try_only,
                      detail::handler<void(error_code, lock)> h) {
    detail::acquire_lock(detail::mutex_request(s, path, marker, options, try_only), options.on_loss,
                         std::move(h));
}

}  // namespace zkr
