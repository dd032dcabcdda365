#include "block_cache.hpp"

#include <new>

namespace zkr::detail {

block_cache::~block_cache() {
    for (std::size_t c = 0; c < class_count; ++c) {
        for (std::size_t i = 0; i < kept_[c]; ++i) {
            ::operator delete(blocks_[c][i]);
        }
    }
}

void* block_cache::allocate(std::size_t bytes) {
    const auto c = class_of(bytes);
    if (c == class_count) {
        return ::operator new(bytes);
    }
    if (kept_[c] != 0) {
        return blocks_[c][--kept_[c]];
    }
    return ::operator new((c + 1) * granule);
}

void block_cache::deallocate(void* block, std::size_t bytes) noexcept {
    if (block == nullptr) {
        return;
    }
    const auto c = class_of(bytes);
    if (c == class_count || kept_[c] == kept_per_class) {
        ::operator delete(block);
        return;
    }
    blocks_[c][kept_[c]++] = block;
}

std::size_t block_cache::kept(std::size_t bytes) const noexcept {
    const auto c = class_of(bytes);
    return c == class_count ? 0 : kept_[c];
}

}  // namespace zkr::detail
