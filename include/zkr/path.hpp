// ZooKeeper's path rules, checked before anything is sent.
//
// The server refuses a path that does not start with '/', ends with '/', has an empty node name,
// a "." or ".." node name, or a character it refuses: U+0000-U+001F, U+007F-U+009F,
// U+D800-U+F8FF, U+FFF0-U+FFFF and anything beyond U+FFFF (Java strings hold those as
// surrogates); bytes that are not valid UTF-8 reach it as U+FFFD, which it refuses too. zkr
// checks the same rules, so that a refused path is a clear errc::invalid_path before any parent
// node is created for it.
#pragma once

#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <string>
#include <string_view>

namespace zkr {

/// The longest path zkr sends (bytes, chroot excluded).
inline constexpr std::size_t max_path_length = 4096;

/// Success for a path the server accepts; errc::invalid_path otherwise, with the broken rule in
/// `reason` (if given), e.g. "empty node name at byte 3".
ZKR_API error_code validate_path(std::string_view path, std::string* reason = nullptr);

/// The path of `name` in the directory `dir`: join_path("/a", "b") is "/a/b", and
/// join_path("/", "b") is "/b" (not "//b", which the server refuses).
ZKR_API std::string join_path(std::string_view dir, std::string_view name);

}  // namespace zkr
