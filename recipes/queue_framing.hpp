// The bytes of a Curator DistributedQueue item node (Curator's ItemSerializer): a version int,
// then per item an ITEM opcode byte, a length int and the item's bytes, then an EOF opcode; ints
// big-endian (Java's DataOutput). Curator's putMulti writes several items into one node; its
// put, and zkr, one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zkr::detail {

/// `items` framed as one node's data.
std::string frame_items(const std::vector<std::string>& items);

/// The items framed in `bytes`, in order; nullopt when the bytes are no such framing (another
/// version, an unknown opcode, a negative length, or cut short). What follows the EOF opcode is
/// ignored, as Curator's reader ignores it.
std::optional<std::vector<std::string>> unframe_items(std::string_view bytes);

}  // namespace zkr::detail
