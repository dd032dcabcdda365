#include "connect_string.hpp"

#include "path.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <charconv>

namespace zkr::detail {
namespace {

bool is_ipv6_address(std::string_view text) {
    std::array<char, 64> address{};  // inet_pton wants a terminated string
    std::array<unsigned char, 16> binary{};
    if (text.size() >= address.size()) {
        return false;
    }
    text.copy(address.data(), text.size());
    return inet_pton(AF_INET6, address.data(), binary.data()) == 1;
}

}  // namespace

error_code validate_connect_string(std::string_view hosts) noexcept {
    const auto invalid = make_error_code(errc::invalid_connect_string);
    const auto slash = hosts.find('/');
    if (slash != std::string_view::npos) {
        const auto chroot = hosts.substr(slash);
        if (chroot != "/" && validate_path(chroot)) {
            return invalid;
        }
        hosts = hosts.substr(0, slash);
    }
    if (hosts.empty()) {
        return invalid;
    }
    while (!hosts.empty()) {
        const auto comma = hosts.find(',');
        const auto entry = hosts.substr(0, comma);
        const auto colon = entry.rfind(':');
        if (colon == std::string_view::npos || colon == 0) {
            return invalid;
        }
        auto host = entry.substr(0, colon);
        if (host.front() == '[') {
            if (host.size() < 3 || host.back() != ']' ||
                !is_ipv6_address(host.substr(1, host.size() - 2))) {
                return invalid;
            }
            host = {};  // checked whole
        } else if (host.find(':') != std::string_view::npos) {
            return make_error_code(errc::ipv6_literal);
        }
        const auto port_text = entry.substr(colon + 1);
        unsigned port = 0;
        const auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
            port > 65535) {
            return invalid;
        }
        for (char c : host) {
            if (c == ' ' || c == ':' || static_cast<unsigned char>(c) < 0x21) {
                return invalid;
            }
        }
        if (comma == std::string_view::npos) {
            break;
        }
        hosts = hosts.substr(comma + 1);
        if (hosts.empty()) {
            return invalid;
        }
    }
    return {};
}

std::string c_client_hosts(std::string_view hosts) {
    const auto chroot = std::min(hosts.find('/'), hosts.size());
    std::string out;
    out.reserve(hosts.size());
    for (std::size_t i = 0; i < chroot; ++i) {
        if (hosts[i] != '[' && hosts[i] != ']') {
            out += hosts[i];
        }
    }
    out += hosts.substr(chroot);
    return out;
}

}  // namespace zkr::detail
