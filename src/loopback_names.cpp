#include "loopback_names.hpp"

#include <atomic>
#include <charconv>
#include <map>
#include <mutex>

namespace zkr::detail {
namespace {

struct registry {
    std::mutex mutex;
    std::map<std::uint16_t, std::string> servers;
    std::atomic<bool> empty{true};  // plaintext processes never take the mutex
};

registry& names() {
    static registry r;
    return r;
}

constexpr std::string_view loopback = "127.0.0.1:";

}  // namespace

void name_loopback_port(std::uint16_t port, std::string server) {
    auto& r = names();
    std::lock_guard lock(r.mutex);
    r.servers[port] = std::move(server) + " (TLS)";
    r.empty = false;
}

void forget_loopback_port(std::uint16_t port) {
    auto& r = names();
    std::lock_guard lock(r.mutex);
    r.servers.erase(port);
    r.empty = r.servers.empty();
}

std::string with_real_servers(std::string_view text) {
    auto& r = names();
    if (r.empty.load(std::memory_order_relaxed) || text.find(loopback) == std::string_view::npos) {
        return std::string(text);
    }
    std::lock_guard lock(r.mutex);
    std::string out;
    out.reserve(text.size());
    for (;;) {
        const auto at = text.find(loopback);
        if (at == std::string_view::npos) {
            out += text;
            return out;
        }
        out += text.substr(0, at);
        const auto digits = text.substr(at + loopback.size());
        std::uint16_t port = 0;
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
        const auto length = static_cast<std::size_t>(end - text.data());
        const auto it = ec == std::errc{} ? r.servers.find(port) : r.servers.end();
        if (it != r.servers.end()) {
            out += it->second;
        } else {
            out += text.substr(at, length - at);
        }
        text = text.substr(length);
    }
}

}  // namespace zkr::detail
