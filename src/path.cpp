#include "path.hpp"

#include <array>

namespace zkr::detail {

namespace {

/// Characters that need a closer look: the separator, and those ZooKeeper rejects (U+0000-U+001F
/// and U+007F; UTF-8 multi-byte sequences pass).
constexpr auto special_characters = [] {
    std::array<bool, 256> table{};
    for (int c = 0; c < 0x20; ++c) {
        table[static_cast<std::size_t>(c)] = true;
    }
    table[0x7f] = true;
    table['/'] = true;
    return table;
}();

}  // namespace

error_code validate_path(std::string_view path) noexcept {
    // One table lookup per character: every request validates its path.
    if (path.empty() || path.front() != '/' || path.size() > max_path_length) {
        return make_error_code(errc::invalid_path);
    }
    if (path.size() == 1) {
        return {};
    }
    std::size_t segment_start = 1;
    for (std::size_t i = 1; i <= path.size(); ++i) {
        if (i < path.size() && !special_characters[static_cast<unsigned char>(path[i])]) {
            continue;
        }
        if (i < path.size() && path[i] != '/') {
            return make_error_code(errc::invalid_path);
        }
        const auto segment = path.substr(segment_start, i - segment_start);
        if (segment.empty() || segment == "." || segment == "..") {
            return make_error_code(errc::invalid_path);
        }
        segment_start = i + 1;
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
    std::string out(dir);
    if (out.empty() || out.back() != '/') {
        out += '/';
    }
    out += name;
    return out;
}

}  // namespace zkr::detail
