#include "lock_state.hpp"

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
    : session_(s.impl()), path_(std::move(path)), options_(std::move(options)) {
    if (options_.node_data.empty()) {
        options_.node_data = detail::default_node_data();
    }
}

mutex::mutex(std::shared_ptr<detail::session_impl> s, std::string path, std::string marker,
             mutex_options options)
    : session_(std::move(s)),
      path_(std::move(path)),
      marker_(std::move(marker)),
      options_(std::move(options)) {
    if (options_.node_data.empty()) {
        options_.node_data = detail::default_node_data();
    }
}

void mutex::prepare_impl(const std::shared_ptr<detail::session_impl>& s, const std::string& path,
                         const std::string& marker, detail::handler<void(error_code)> h) {
    detail::prepare_lock_dir(s, path, marker, std::move(h));
}

void mutex::lock_impl(const std::shared_ptr<detail::session_impl>& s, const std::string& path,
                      const std::string& marker, const mutex_options& options, bool try_only,
                      detail::handler<void(error_code, lock)> h) {
    detail::acquire_lock({s, path, marker, options.node_data, try_only, log::channels::mutex},
                         options.on_loss, std::move(h));
}

}  // namespace zkr
