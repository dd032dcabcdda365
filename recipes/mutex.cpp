#include "access.hpp"
#include "lock_acquire.hpp"
#include "log.hpp"
#include "mutex_impl.hpp"
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

/// The impl of a mutex, its node data filled in, its queue request made and checked.
std::shared_ptr<const mutex_impl> make_mutex_impl(session_ptr s, std::string path,
                                                  std::string marker, mutex_options options) {
    if (options.node_data.empty()) {
        options.node_data = default_node_data();
    }
    acquire_request request{
        s, std::make_shared<const queue_spec>(queue_spec{path, marker, options.node_data})};
    request.channel = log::channels::mutex;
    request.fast_handoff = marker != names::write_marker;
    request.max_hold = options.max_hold;
    if (auto ec = check_queue_request(request)) {
        // Said once here; each acquisition then fails with the same error.
        ZKR_LOG(warning, log::channels::mutex,
                "a mutex on '" << path << "' cannot be used: " << ec.message());
    }
    return std::make_shared<const mutex_impl>(
        mutex_impl{std::move(s), std::move(path), std::move(options), std::move(request)});
}

/// The queue request of one acquisition or adoption on `m`.
acquire_request mutex_request(const mutex_impl& m, bool try_only) {
    auto request = m.request;
    request.try_only = try_only;
    return request;
}

}  // namespace detail

mutex::mutex(session& s, std::string path, mutex_options options)
    : mutex(detail::access::seam(s), std::move(path), std::string(names::lock_marker),
            std::move(options)) {}

mutex::mutex(std::shared_ptr<detail::session_seam> s, std::string path, std::string marker,
             mutex_options options)
    : impl_(detail::make_mutex_impl(std::move(s), std::move(path), std::move(marker),
                                    std::move(options))) {}

const std::string& mutex::path() const noexcept {
    return detail::access::path_of(*this);
}

mutex::executor_type mutex::get_executor() const noexcept {
    return impl_->session->executor();
}

void mutex::initiate_prepare(const impl_ptr& impl, detail::handler<void(error_code)> h) {
    detail::prepare_lock_dir(impl->session, impl->path, impl->request.queue->marker, std::move(h));
}

void mutex::initiate_adopt(const impl_ptr& impl, std::string node,
                           detail::handler<void(error_code, lock)> h) {
    detail::adopt_lock(detail::mutex_request(*impl, false), std::move(node), impl->options.on_loss,
                       std::move(h));
}

void mutex::initiate_lock(const impl_ptr& impl, bool try_only,
                          detail::handler<void(error_code, lock)> h) {
    detail::acquire_lock(detail::mutex_request(*impl, try_only), impl->options.on_loss,
                         std::move(h));
}

}  // namespace zkr
