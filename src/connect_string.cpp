#include "connect_string.hpp"

#include "path.hpp"

#include <charconv>

namespace zkr::detail {

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
        if (entry.find('[') != std::string_view::npos) {
            return make_error_code(errc::ipv6_literal);
        }
        if (colon == std::string_view::npos || colon == 0) {
            return invalid;
        }
        const auto port_text = entry.substr(colon + 1);
        unsigned port = 0;
        const auto [end, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
            port > 65535) {
            return invalid;
        }
        for (char c : entry.substr(0, colon)) {
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

}  // namespace zkr::detail
