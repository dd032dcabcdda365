// The registry's index of armed watches: what a watch removal's completion looks up instead of
// scanning every operation the session has registered.
#include "callback_registry.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace zkr::detail {
namespace {

class probe final : public pending_callback {
  public:
    void abandon(error_code) override {}
};

TEST(CallbackRegistry, ArmedWatchesAreFoundByPathAndKind) {
    callback_registry registry;
    probe data_a1, data_a2, child_a, data_b;
    registry.arm("/a", false, &data_a1);
    registry.arm("/a", false, &data_a2);
    registry.arm("/a", true, &child_a);
    registry.arm("/b", false, &data_b);

    EXPECT_EQ(registry.armed_on("/a", false), (std::vector<pending_callback*>{&data_a1, &data_a2}));
    EXPECT_EQ(registry.armed_on("/a", true), (std::vector<pending_callback*>{&child_a}));
    EXPECT_EQ(registry.armed_count("/b", false), 1u);
    EXPECT_EQ(registry.armed_count("/b", true), 0u);
    EXPECT_TRUE(registry.armed_on("/c", false).empty());

    // Disarming says how many of ours remain there, and forgets a path with none.
    EXPECT_EQ(registry.disarm("/a", false, &data_a1), 1u);
    EXPECT_EQ(registry.armed_on("/a", false), (std::vector<pending_callback*>{&data_a2}));
    EXPECT_EQ(registry.disarm("/a", false, &data_a2), 0u);
    EXPECT_EQ(registry.armed_count("/a", false), 0u);
    EXPECT_EQ(registry.disarm("/a", false, &data_a2), 0u);  // twice: nothing left to forget
    EXPECT_EQ(registry.armed_count("/a", true), 1u);
}

}  // namespace
}  // namespace zkr::detail
