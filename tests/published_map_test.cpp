// A cache's published copy (recipes/published_map.hpp) read from other threads while the cache
// publishes change after change: edited in place when no reader holds it, copied when one does.
// Run under TSan (tools/test.sh), this is where an in-place edit under a reader would show.
#include "published_map.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

namespace zkr::detail {
namespace {

using counts = std::map<int, int>;

/// Every publish sets every key to the round's number: a snapshot that does not hold one number
/// throughout changed while it was read.
int round_of(const counts& m) {
    const int round = m.begin()->second;
    for (const auto& [key, value] : m) {
        if (value != round) {
            return -1;
        }
    }
    return round;
}

TEST(PublishedMap, ReadersOnOtherThreadsSeeSnapshotsThatNeverChange) {
    constexpr int keys = 32;
    constexpr int rounds = 3000;
    published_map<counts> published;
    published.publish([](counts& m) {
        for (int k = 0; k < keys; ++k) {
            m[k] = 0;
        }
    });
    std::atomic<bool> done{false};
    std::atomic<int> torn{0};
    std::atomic<int> backwards{0};
    std::atomic<int> reads{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r) {
        // One reader lets go at once (the cache then edits in place), the other holds each
        // snapshot across a look that takes a while (the cache must copy).
        readers.emplace_back([&, holds = r == 1] {
            int last = 0;
            while (!done.load()) {
                const auto snapshot = published.get();
                const int round = round_of(*snapshot);
                if (holds) {
                    for (int i = 0; i < 50; ++i) {
                        std::this_thread::yield();  // publishes go on meanwhile
                    }
                    if (round_of(*snapshot) != round) {
                        ++torn;
                    }
                }
                torn += round < 0 ? 1 : 0;
                backwards += round >= 0 && round < last ? 1 : 0;
                last = round < 0 ? last : round;
                ++reads;
            }
        });
    }
    for (int round = 1; round <= rounds; ++round) {
        published.publish([round](counts& m) {
            for (auto& [key, value] : m) {
                value = round;
            }
        });
    }
    // A few more reads of the last round before the readers stop.
    const int before = reads.load();
    while (reads.load() < before + 10) {
        std::this_thread::yield();
    }
    done = true;
    for (auto& t : readers) {
        t.join();
    }
    EXPECT_EQ(torn.load(), 0) << "a snapshot changed while a reader held it";
    EXPECT_EQ(backwards.load(), 0) << "a reader saw an older round after a newer one";
    EXPECT_EQ(round_of(*published.get()), rounds);
}

}  // namespace
}  // namespace zkr::detail
