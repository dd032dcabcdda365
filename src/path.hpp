// ZooKeeper path rules, checked before a request leaves the process so that a malformed path is
// a clear errc::invalid_path instead of a C-client error or a crash.
#pragma once

#include <zkr/error.hpp>
#include <zkr/op.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace zkr::detail {

/// Maximum path length accepted (bytes). ZooKeeper has no documented limit below its 1 MiB
/// packet size; paths this long are mistakes.
inline constexpr std::size_t max_path_length = 4096;

/// Succeeds for an absolute path: starts with '/', no trailing '/', no empty, "." or ".."
/// segment, no control or NUL characters, at most max_path_length bytes.
error_code validate_path(std::string_view path) noexcept;

/// validate_path for every operation of a multi (the first error).
error_code validate_ops(const std::vector<op>& ops) noexcept;

/// "/a/b/c" -> "/a/b"; "/a" -> "/".
std::string_view parent_path(std::string_view path) noexcept;

/// "/a/b/c" -> "c".
std::string_view node_name(std::string_view path) noexcept;

/// join("/a", "b") -> "/a/b"; join("/", "b") -> "/b".
std::string join_path(std::string_view dir, std::string_view name);

}  // namespace zkr::detail
