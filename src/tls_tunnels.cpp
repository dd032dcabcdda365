#include "tls_tunnels.hpp"

#include "log.hpp"
#include "loopback_names.hpp"

#include <charconv>

namespace zkr::detail {
namespace {

constexpr const char* channel = log::channels::session;

/// One "host:port" entry of a valid connect string: the host without brackets, and the port.
std::pair<std::string, std::uint16_t> split_server(std::string_view entry) {
    const auto colon = entry.rfind(':');
    auto host = entry.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[') {
        host = host.substr(1, host.size() - 2);
    }
    std::uint16_t port = 0;
    const auto digits = entry.substr(colon + 1);
    std::from_chars(digits.data(), digits.data() + digits.size(), port);
    return {std::string(host), port};
}

}  // namespace

tls_tunnels::tls_tunnels(boost::asio::any_io_executor driver, const tls_config& config,
                         std::chrono::milliseconds session_timeout)
    : driver_(std::move(driver)), config_(config), session_timeout_(session_timeout) {
    if (config_.handshake_timeout.count() == 0) {
        config_.handshake_timeout = session_timeout / 3;
    }
    if (config.ca_file.empty() && config.ca_directory.empty() && !config.use_system_store) {
        context_error_ = "no CA to trust: give a CA file or directory, or use the system store";
        return;
    }
    if (config.certificate_file.empty() != config.key_file.empty()) {
        context_error_ = "a client certificate needs its key, and a key its certificate";
        return;
    }
    try {
        context_.emplace(make_tls_context(config));
    } catch (const std::exception& e) {
        context_error_ = e.what();
    }
}

tls_tunnels::~tls_tunnels() {
    close();
}

error_code tls_tunnels::config_error() const {
    if (!context_) {
        ZKR_LOG(error, channel, "the TLS settings cannot be used: " << context_error_);
        return make_error_code(errc::tls_config_invalid);
    }
    if (config_.handshake_timeout.count() <= 0 || config_.handshake_timeout >= session_timeout_) {
        return make_error_code(errc::invalid_argument);
    }
    return {};
}

void tls_tunnels::admit_only(tls_tunnel::client_check is_own_client) {
    std::lock_guard lock(shared_->mutex);
    shared_->is_own_client = std::move(is_own_client);
}

std::string tls_tunnels::route(std::string_view hosts) {
    if (!context_) {
        return {};  // nothing connects with these settings (config_error())
    }
    const auto chroot_at = std::min(hosts.find('/'), hosts.size());
    const auto chroot = hosts.substr(chroot_at);
    hosts = hosts.substr(0, chroot_at);
    std::lock_guard lock(mutex_);
    std::string routed;
    while (!hosts.empty()) {
        const auto comma = std::min(hosts.find(','), hosts.size());
        const auto entry = hosts.substr(0, comma);
        hosts = hosts.substr(std::min(comma + 1, hosts.size()));
        auto it = by_server_.find(entry);
        if (it == by_server_.end()) {
            auto [host, port] = split_server(entry);
            auto tunnel = std::make_unique<tls_tunnel>(
                driver_, *context_, config_, std::move(host), port,
                [shared = shared_](std::uint16_t peer) {
                    std::unique_lock check_lock(shared->mutex);
                    auto check = shared->is_own_client;
                    check_lock.unlock();
                    return check && check(peer);
                },
                [shared = shared_](tls_failure kind, const std::string& reason) {
                    shared->on_failure(kind, reason);
                });
            name_loopback_port(tunnel->local_port(), tunnel->server());
            it = by_server_.emplace(std::string(entry), std::move(tunnel)).first;
        }
        if (!routed.empty()) {
            routed += ',';
        }
        routed += "127.0.0.1:" + std::to_string(it->second->local_port());
    }
    routed += chroot;
    return routed;
}

error_code tls_tunnels::latest_failure() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->latest_failure;
}

void tls_tunnels::forget_failures() {
    std::lock_guard lock(shared_->mutex);
    shared_->latest_failure = {};
}

void tls_tunnels::shared_state::on_failure(tls_failure kind, const std::string& reason) {
    std::lock_guard lock(mutex);
    if (kind != tls_failure::connect_failed) {
        latest_failure = make_error_code(kind == tls_failure::certificate_rejected
                                             ? errc::tls_certificate_rejected
                                             : errc::tls_handshake_failed);
    }
    // The C client tries again at once: one warning per reason, not one per attempt.
    if (reason != latest_reason) {
        latest_reason = reason;
        ZKR_LOG(warning, channel, "TLS to " << reason);
    } else {
        ZKR_LOG(debug, channel, "TLS to " << reason);
    }
}

void tls_tunnels::close() {
    std::lock_guard lock(mutex_);
    for (auto& [server, tunnel] : by_server_) {
        forget_loopback_port(tunnel->local_port());
        tunnel->close();
    }
}

}  // namespace zkr::detail
