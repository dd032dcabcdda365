#include "queue_framing.hpp"

#include "big_endian.hpp"

#include <cstdint>

namespace zkr::detail {
namespace {

/// ItemSerializer's constants (curator-recipes, org.apache.curator.framework.recipes.queue).
constexpr std::uint32_t framing_version = 0x00010001;
constexpr char item_opcode = 0x01;
constexpr char eof_opcode = 0x02;
constexpr std::size_t int_bytes = 4;

/// Reads ahead through `bytes`; every read says whether the bytes held what it asked for.
class reader {
  public:
    explicit reader(std::string_view bytes) : rest_(bytes) {}

    std::optional<std::uint32_t> read_int() {
        auto bytes = read(int_bytes);
        return bytes ? std::optional{static_cast<std::uint32_t>(from_big_endian(*bytes))}
                     : std::nullopt;
    }
    std::optional<char> read_byte() {
        auto bytes = read(1);
        return bytes ? std::optional{bytes->front()} : std::nullopt;
    }
    std::optional<std::string_view> read(std::size_t n) {
        if (rest_.size() < n) {
            return std::nullopt;
        }
        auto out = rest_.substr(0, n);
        rest_.remove_prefix(n);
        return out;
    }

  private:
    std::string_view rest_;
};

}  // namespace

std::string frame_items(const std::vector<std::string>& items) {
    std::string out = to_big_endian(framing_version, int_bytes);
    for (const auto& item : items) {
        out += item_opcode;
        out += to_big_endian(item.size(), int_bytes);
        out += item;
    }
    out += eof_opcode;
    return out;
}

std::optional<std::vector<std::string>> unframe_items(std::string_view bytes) {
    reader in(bytes);
    if (in.read_int() != framing_version) {
        return std::nullopt;
    }
    std::vector<std::string> items;
    for (;;) {
        const auto opcode = in.read_byte();
        if (opcode == eof_opcode) {
            return items;
        }
        if (opcode != item_opcode) {
            return std::nullopt;  // an unknown opcode, or cut short
        }
        const auto size = in.read_int();
        // Java's int: a length with the top bit set is negative, refused as Curator refuses it.
        if (!size || (*size & 0x80000000u) != 0) {
            return std::nullopt;
        }
        const auto item = in.read(*size);
        if (!item) {
            return std::nullopt;
        }
        items.emplace_back(*item);
    }
}

}  // namespace zkr::detail
