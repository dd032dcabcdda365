// The per-thread recycling of zkr's per-operation blocks (src/recycling.hpp), and the maps that
// keep the last node they let go (src/spare_node.hpp): what a steady lock cycle relies on to
// allocate nothing of its own.
#include "recycling.hpp"
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

TEST(Recycling, AFreedBlockServesTheNextObjectOfItsSizeClass) {
    void* first = recycled_allocate(97);
    recycled_deallocate(first, 97);
    // 97 and 112 bytes are one class (16-byte steps): the block was made with the class's size.
    void* second = recycled_allocate(112);
    std::fill_n(static_cast<char*>(second), 112, 'x');
    if (recycling_on()) {
        EXPECT_EQ(second, first);
    }
    recycled_deallocate(second, 112);
}

TEST(Recycling, AThreadKeepsAtMostThirtyTwoBlocksPerClassAndGivesTheLastFreedFirst) {
    // Empties the class's cache first: earlier tests in this process freed blocks into it.
    std::vector<void*> held;
    for (int i = 0; i < 32; ++i) {
        held.push_back(recycled_allocate(64));
    }
    std::vector<void*> freed;
    for (int i = 0; i < 40; ++i) {
        freed.push_back(recycled_allocate(64));
    }
    for (auto* block : freed) {
        recycled_deallocate(block, 64);  // the first 32 are kept, the last 8 go to the heap
    }
    std::vector<void*> again;
    for (int i = 0; i < 40; ++i) {
        again.push_back(recycled_allocate(64));
    }
    if (recycling_on()) {
        EXPECT_TRUE(std::equal(again.begin(), again.begin() + 32,
                               std::make_reverse_iterator(freed.begin() + 32)));
    }
    for (auto* block : again) {
        recycled_deallocate(block, 64);
    }
    for (auto* block : held) {
        recycled_deallocate(block, 64);
    }
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
