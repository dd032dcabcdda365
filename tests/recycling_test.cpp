// The per-thread recycling of zkr's per-operation blocks (src/block_cache.hpp, src/recycling.hpp),
// and the maps that keep the last node they let go (src/spare_node.hpp): what a steady lock cycle
// relies on to allocate nothing of its own.
#include "recycling.hpp"
#include "block_cache.hpp"
#include "spare_node.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace zkr::detail {
namespace {

// The free list itself, in every build (sanitizer builds too: its blocks come from operator new,
// so AddressSanitizer sees them).

TEST(BlockCache, AFreedBlockServesTheNextObjectOfItsSizeClass) {
    auto cache = std::make_unique<block_cache>();
    void* first = cache->allocate(97);
    cache->deallocate(first, 97);
    EXPECT_EQ(cache->kept(97), 1u);
    // 97 and 112 bytes are one class (16-byte steps): the block was made with the class's size.
    void* second = cache->allocate(112);
    std::fill_n(static_cast<char*>(second), 112, 'x');
    EXPECT_EQ(second, first);
    EXPECT_EQ(cache->kept(97), 0u);
    // 113 bytes are the next class: a block of its own.
    void* third = cache->allocate(113);
    EXPECT_NE(third, second);
    cache->deallocate(second, 112);
    cache->deallocate(third, 113);
    EXPECT_EQ(cache->kept(100), 1u);
    EXPECT_EQ(cache->kept(120), 1u);
}

TEST(BlockCache, KeepsAtMostThirtyTwoBlocksPerClassAndGivesTheLastFreedFirst) {
    auto cache = std::make_unique<block_cache>();
    std::vector<void*> freed;
    for (int i = 0; i < 40; ++i) {
        freed.push_back(cache->allocate(64));
    }
    for (auto* block : freed) {
        cache->deallocate(block, 64);  // the first 32 are kept, the last 8 go to the heap
    }
    EXPECT_EQ(cache->kept(64), block_cache::kept_per_class);
    std::vector<void*> again;
    for (int i = 0; i < 40; ++i) {
        again.push_back(cache->allocate(64));
    }
    EXPECT_TRUE(std::equal(again.begin(), again.begin() + 32,
                           std::make_reverse_iterator(freed.begin() + 32)));
    for (auto* block : again) {
        cache->deallocate(block, 64);
    }
    // What it keeps at its end it frees (AddressSanitizer's leak check sees the rest).
}

TEST(BlockCache, BlocksOverOneKibibyteAndEmptyOnesAreNotKept) {
    auto cache = std::make_unique<block_cache>();
    void* large = cache->allocate(block_cache::largest + 1);
    cache->deallocate(large, block_cache::largest + 1);
    EXPECT_EQ(cache->kept(block_cache::largest + 1), 0u);
    void* largest = cache->allocate(block_cache::largest);
    cache->deallocate(largest, block_cache::largest);
    EXPECT_EQ(cache->kept(block_cache::largest), 1u);
    void* empty = cache->allocate(0);
    cache->deallocate(empty, 0);
    EXPECT_EQ(cache->kept(0), 0u);
    cache->deallocate(nullptr, 64);
    EXPECT_EQ(cache->kept(64), 0u);
}

// The per-thread wiring: one cache per thread, off in sanitizer builds (every block then goes to
// the heap, which these tests also exercise).

TEST(Recycling, AFreedBlockServesTheNextObjectOfItsSizeClassOnThisThread) {
    void* first = recycled_allocate(97);
    recycled_deallocate(first, 97);
    void* second = recycled_allocate(112);
    std::fill_n(static_cast<char*>(second), 112, 'x');
    if (recycling_on()) {
        EXPECT_EQ(second, first);
    }
    recycled_deallocate(second, 112);
}

TEST(Recycling, OverAlignedObjectsKeepTheirAlignment) {
    struct alignas(64) wide {
        char bytes[64];
    };
    auto p = std::allocate_shared<wide>(recycling_allocator<wide>());
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p.get()) % 64, 0u);
}

TEST(Recycling, BlocksFreedOnAnotherThreadAreTakenThereAndGivenBackAtItsEnd) {
    void* block = recycled_allocate(200);
    std::thread([block] {
        recycled_deallocate(block, 200);  // joins this thread's cache, freed when it ends
        void* again = recycled_allocate(200);
        if (recycling_on()) {
            EXPECT_EQ(again, block);
        }
        recycled_deallocate(again, 200);
    }).join();
}

TEST(SpareNode, AnEntryLetGoServesTheNextKeyWithItsBlocks) {
    using map = std::unordered_map<std::string, std::vector<int>>;
    map m;
    map::node_type spare;
    const std::string first = "/locks/a-directory-name-longer-than-small-strings";
    const std::string second = "/locks/another-name-longer-than-small-strings";
    auto it = find_or_insert(m, spare, first);
    it->second.push_back(1);
    const auto* key_block = it->first.data();
    const auto* value_block = it->second.data();

    it->second.clear();  // let go only once empty
    erase_keeping(m, spare, it);
    EXPECT_TRUE(m.empty());
    ASSERT_FALSE(spare.empty());

    it = find_or_insert(m, spare, second);
    EXPECT_TRUE(spare.empty());
    EXPECT_EQ(it->first, second);
    EXPECT_EQ(it->first.data(), key_block);  // the shorter key fits the old one's block
    EXPECT_TRUE(it->second.empty());
    it->second.push_back(2);
    EXPECT_EQ(it->second.data(), value_block);

    // A key present is found, not made again.
    EXPECT_EQ(find_or_insert(m, spare, second)->second, std::vector<int>{2});
    EXPECT_EQ(m.size(), 1u);
    // Without a spare, a new key gets a node of its own.
    EXPECT_EQ(find_or_insert(m, spare, first)->first, first);
    EXPECT_EQ(m.size(), 2u);
}

}  // namespace
}  // namespace zkr::detail
