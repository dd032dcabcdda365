// The connection's deadlines on one timer (src/deadline_set.hpp): which passed, in what order.
#include "deadline_set.hpp"

#include <gtest/gtest.h>

namespace zkr::detail {
namespace {

using set = deadline_set<4>;
using std::chrono::milliseconds;
const set::clock::time_point t0{};

TEST(DeadlineSet, TheTimerWaitsForTheEarliestDeadlineSet) {
    set d;
    EXPECT_FALSE(d.earliest());
    d.set(2, t0 + milliseconds(30));
    d.set(0, t0 + milliseconds(10));
    d.set(3, t0 + milliseconds(20));
    EXPECT_EQ(d.earliest(), t0 + milliseconds(10));
    d.clear(0);
    EXPECT_FALSE(d.is_set(0));
    EXPECT_EQ(d.earliest(), t0 + milliseconds(20));
    d.set(3, t0 + milliseconds(40));  // re-armed later: replaces its deadline
    EXPECT_EQ(d.earliest(), t0 + milliseconds(30));
}

TEST(DeadlineSet, PassedDeadlinesAreTakenOnceEarliestFirstAndOthersStay) {
    set d;
    d.set(1, t0 + milliseconds(20));
    d.set(0, t0 + milliseconds(15));
    d.set(2, t0 + milliseconds(15));
    d.set(3, t0 + milliseconds(50));
    const auto now = t0 + milliseconds(20);
    EXPECT_EQ(d.take_passed(now), 0u);  // 15 ms, and the lower index of two at 15 ms
    EXPECT_EQ(d.take_passed(now), 2u);
    EXPECT_EQ(d.take_passed(now), 1u);  // exactly at its deadline
    EXPECT_EQ(d.take_passed(now), std::nullopt);
    EXPECT_TRUE(d.is_set(3));
    EXPECT_FALSE(d.is_set(0) || d.is_set(1) || d.is_set(2));
    EXPECT_EQ(d.earliest(), t0 + milliseconds(50));
}

TEST(DeadlineSet, AClearedDeadlineNeverPasses) {
    set d;
    d.set(1, t0 + milliseconds(5));
    d.clear(1);
    EXPECT_EQ(d.take_passed(t0 + milliseconds(100)), std::nullopt);
    EXPECT_FALSE(d.earliest());
}

}  // namespace
}  // namespace zkr::detail
