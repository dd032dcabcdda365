// Freed blocks kept by size class, for reuse by the next object of the same size: the free list
// behind zkr's per-thread recycling (recycling.hpp), which gives each thread one of these.
#pragma once

#include <array>
#include <cstddef>

namespace zkr::detail {

/// Blocks of up to 1 KiB in size classes of 16 bytes, at most 32 kept per class, the last freed
/// handed out first (the block most likely still in the CPU's cache). A block is made with its
/// class's full size, so that any object of the class may take it later: it wastes at most 15
/// bytes (an object that sits in a queue of 10,000 waiters should not grow by half). Larger
/// blocks go to the heap and back. Not thread-safe: one cache per thread.
class block_cache {
  public:
    static constexpr std::size_t granule = 16;
    static constexpr std::size_t largest = 1024;
    /// Enough for the objects of a few operations in flight.
    static constexpr std::size_t kept_per_class = 32;

    block_cache() = default;
    block_cache(const block_cache&) = delete;
    block_cache& operator=(const block_cache&) = delete;
    /// Frees the blocks it keeps.
    ~block_cache();

    /// A block of at least `bytes`, aligned as operator new aligns: a kept one of its class if
    /// there is one, else a new one.
    void* allocate(std::size_t bytes);
    /// Takes back a block of `bytes` (the size it was asked with): kept if its class has room,
    /// else freed.
    void deallocate(void* block, std::size_t bytes) noexcept;

    /// How many blocks of the class of `bytes` are kept.
    std::size_t kept(std::size_t bytes) const noexcept;

  private:
    static constexpr std::size_t class_count = largest / granule;

    /// The class of a block of `bytes`, or class_count for blocks made by plain new.
    static constexpr std::size_t class_of(std::size_t bytes) noexcept {
        return bytes == 0 || bytes > largest ? class_count : (bytes - 1) / granule;
    }

    std::array<std::array<void*, kept_per_class>, class_count> blocks_{};
    std::array<std::size_t, class_count> kept_{};
};

}  // namespace zkr::detail
