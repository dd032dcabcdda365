// ZooKeeper path rules (<zkr/path.hpp>), checked before a request leaves the process so that a
// malformed path is a clear errc::invalid_path instead of a C-client error or a crash.
#pragma once

#include <zkr/error.hpp>
#include <zkr/op.hpp>
#include <zkr/path.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace zkr::detail {

using zkr::max_path_length;

/// Succeeds for an absolute path the server accepts (see <zkr/path.hpp>); the broken rule in
/// `reason` when given.
error_code validate_path(std::string_view path, std::string* reason = nullptr);

/// validate_path for every operation of a multi (the first error).
error_code validate_ops(const std::vector<op>& ops) noexcept;

/// "/a/b/c" -> "/a/b"; "/a" -> "/".
std::string_view parent_path(std::string_view path) noexcept;

/// "/a/b/c" -> "c".
std::string_view node_name(std::string_view path) noexcept;

/// join("/a", "b") -> "/a/b"; join("/", "b") -> "/b".
std::string join_path(std::string_view dir, std::string_view name);

/// True for one node name the server accepts: not empty, no '/', not "." or "..".
bool is_node_name(std::string_view name);

}  // namespace zkr::detail
