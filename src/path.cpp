#include "path.hpp"

namespace zkr::detail {

error_code validate_path(std::string_view path) noexcept {
    // One pass over the characters (every request validates its path).
    if (path.empty() || path.front() != '/' || path.size() > max_path_length) {
        return make_error_code(errc::invalid_path);
    }
    if (path.size() == 1) {
        return {};
    }
    std::size_t segment_start = 1;
    for (std::size_t i = 1; i <= path.size(); ++i) {
        const auto c = i < path.size() ? static_cast<unsigned char>(path[i]) : '/';
        if (c == '/') {
            const auto segment = path.substr(segment_start, i - segment_start);
            if (segment.empty() || segment == "." || segment == "..") {
                return make_error_code(errc::invalid_path);
            }
            segment_start = i + 1;
        } else if (c < 0x20 || c == 0x7f) {
            // ZooKeeper rejects U+0000-U+001F and U+007F; UTF-8 multi-byte sequences pass.
            return make_error_code(errc::invalid_path);
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
    std::string out(dir);
    if (out.empty() || out.back() != '/') {
        out += '/';
    }
    out += name;
    return out;
}

}  // namespace zkr::detail
