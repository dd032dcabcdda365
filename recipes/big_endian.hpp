// Integers as bytes, most significant first: Java's DataOutput, in which Curator's counters are
// written, and the two-phase commit's transaction layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zkr::detail {

/// The low `bytes` bytes of `value`, most significant first (Java's DataOutput, Curator's layout).
inline std::string to_big_endian(std::uint64_t value, std::size_t bytes) {
    std::string out(bytes, '\0');
    for (std::size_t i = bytes; i-- > 0; value >>= 8) {
        out[i] = static_cast<char>(value & 0xff);
    }
    return out;
}

/// The inverse of to_big_endian (the caller checks the length).
inline std::uint64_t from_big_endian(std::string_view bytes) {
    std::uint64_t value = 0;
    for (const char c : bytes) {
        value = (value << 8) | static_cast<unsigned char>(c);
    }
    return value;
}

}  // namespace zkr::detail
