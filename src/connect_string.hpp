// Checks a connect string before the C client sees it: the C client accepts some malformed
// strings silently and then retries forever.
#pragma once

#include <zkr/error.hpp>

#include <string_view>

namespace zkr::detail {

/// "host:port[,host:port...][/chroot]": at least one host, every port in 1..65535, a valid chroot
/// path if present. IPv6 literals get errc::ipv6_literal (the C client cannot connect to
/// "[::1]:port").
error_code validate_connect_string(std::string_view hosts) noexcept;

}  // namespace zkr::detail
