#include "path.hpp"

#include <string>
#include <utility>

namespace zkr::detail {

namespace {

/// The code point starting at path[i] (strict UTF-8: no overlong forms, no surrogates), and its
/// length; length 0 for bytes that are not valid UTF-8.
std::pair<char32_t, std::size_t> decode(std::string_view s, std::size_t i) noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b0 = byte(i);
    if (b0 < 0x80) {
        return {b0, 1};
    }
    std::size_t n = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((b0 & 0xe0) == 0xc0) {
        n = 2, cp = b0 & 0x1f, min = 0x80;
    } else if ((b0 & 0xf0) == 0xe0) {
        n = 3, cp = b0 & 0x0f, min = 0x800;
    } else if ((b0 & 0xf8) == 0xf0) {
        n = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return {0, 0};
    }
    if (i + n > s.size()) {
        return {0, 0};
    }
    for (std::size_t k = 1; k < n; ++k) {
        if ((byte(i + k) & 0xc0) != 0x80) {
            return {0, 0};
        }
        cp = (cp << 6) | (byte(i + k) & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return {0, 0};
    }
    return {cp, n};
}

/// ZooKeeper's PathUtils.validatePath refuses these (Java chars: beyond U+FFFF are surrogates).
bool refused_by_server(char32_t cp) noexcept {
    return cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xd800 && cp <= 0xf8ff) ||
           cp >= 0xfff0;
}

error_code broken(std::string* reason, std::string text) {
    if (reason != nullptr) {
        *reason = std::move(text);
    }
    return make_error_code(errc::invalid_path);
}

std::string hex(char32_t cp) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out = "U+";
    for (int shift = cp > 0xffff ? 20 : 12; shift >= 0; shift -= 4) {
        out += digits[(cp >> shift) & 0xf];
    }
    return out;
}

}  // namespace

error_code validate_path(std::string_view path, std::string* reason) {
    if (path.empty()) {
        return broken(reason, "the path is empty");
    }
    if (path.front() != '/') {
        return broken(reason, "the path does not start with '/'");
    }
    if (path.size() > max_path_length) {
        return broken(reason, "the path is " + std::to_string(path.size()) + " bytes long, over " +
                                  std::to_string(max_path_length));
    }
    if (path.size() == 1) {
        return {};
    }
    if (path.back() == '/') {
        return broken(reason, "the path ends with '/'");
    }
    std::size_t segment_start = 1;
    std::size_t i = 1;
    while (i <= path.size()) {
        if (i == path.size() || path[i] == '/') {
            const auto segment = path.substr(segment_start, i - segment_start);
            if (segment.empty()) {
                return broken(reason, "empty node name at byte " + std::to_string(i));
            }
            if (segment == "." || segment == "..") {
                return broken(reason, "relative node name '" + std::string(segment) + "' at byte " +
                                          std::to_string(segment_start));
            }
            segment_start = ++i;
            continue;
        }
        const auto [cp, length] = decode(path, i);
        if (length == 0) {
            return broken(reason, "byte " + std::to_string(i) +
                                      " is not valid UTF-8 (the server would read U+FFFD, which "
                                      "it refuses)");
        }
        if (refused_by_server(cp)) {
            return broken(reason, hex(cp) + " at byte " + std::to_string(i) +
                                      " is a character ZooKeeper refuses in paths");
        }
        i += length;
    }
    return {};
}

error_code validate_ops(const std::vector<op>& ops) noexcept {
    for (const auto& o : ops) {
        if (auto ec = validate_path(o.path)) {
            return ec;
        }
    }
    return {};
}

std::string_view parent_path(std::string_view path) noexcept {
    const auto pos = path.rfind('/');
    if (pos == 0 || pos == std::string_view::npos) {
        return "/";
    }
    return path.substr(0, pos);
}

std::string_view node_name(std::string_view path) noexcept {
    const auto pos = path.rfind('/');
    return pos == std::string_view::npos ? path : path.substr(pos + 1);
}

std::string join_path(std::string_view dir, std::string_view name) {
    const bool slash = dir.empty() || dir.back() != '/';
    std::string out;
    out.reserve(dir.size() + (slash ? 1 : 0) + name.size());  // one allocation, not three
    out += dir;
    if (slash) {
        out += '/';
    }
    out += name;
    return out;
}

bool is_node_name(std::string_view name) {
    return !name.empty() && name.find('/') == std::string_view::npos &&
           !validate_path(join_path("/", name));
}

}  // namespace zkr::detail

zkr::error_code zkr::validate_path(std::string_view path, std::string* reason) {
    return detail::validate_path(path, reason);
}

std::string zkr::join_path(std::string_view dir, std::string_view name) {
    return detail::join_path(dir, name);
}
