// Checks a connect string before the C client sees it (it accepts some malformed strings
// silently and then retries forever), and writes it the way the C client reads it.
#pragma once

#include <zkr/error.hpp>

#include <string>
#include <string_view>

namespace zkr::detail {

/// "host:port[,host:port...][/chroot]": at least one host, every port in 1..65535, a valid chroot
/// path if present. An IPv6 address is written in brackets, "[::1]:2181"; one without brackets
/// gets errc::ipv6_literal (its last colon could be the port's or the address's).
error_code validate_connect_string(std::string_view hosts) noexcept;

/// A valid connect string as the C client parses it: it splits host and port at the last colon
/// and hands the host to getaddrinfo, which takes "::1" but not "[::1]", so brackets go.
std::string c_client_hosts(std::string_view hosts);

}  // namespace zkr::detail
