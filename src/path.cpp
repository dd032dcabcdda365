#include "path.hpp"

namespace zkr::detail {

error_code validate_path(std::string_view path) noexcept {
    const auto invalid = make_error_code(errc::invalid_path);
    if (path.empty() || path.front() != '/' || path.size() > max_path_length) {
        return invalid;
    }
    if (path.size() == 1) {
        return {};
    }
    if (path.back() == '/') {
        return invalid;
    }
    std::size_t start = 1;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string_view::npos) {
            end = path.size();
        }
        const auto segment = path.substr(start, end - start);
        if (segment.empty() || segment == "." || segment == "..") {
            return invalid;
        }
        for (unsigned char c : segment) {
            // ZooKeeper rejects U+0000-U+001F and U+007F; UTF-8 multi-byte sequences pass through.
            if (c < 0x20 || c == 0x7f) {
                return invalid;
            }
        }
        start = end + 1;
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
