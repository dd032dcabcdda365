// The registry's index of armed watches: what a watch removal's completion looks up instead of
// scanning every operation the session has registered.
#include "callback_registry.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
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
    // Each watch's path is its own string (its watch_state's), alive while it is armed.
    const std::string a1 = "/a", a2 = "/a", a3 = "/a", b = "/b";
    registry.arm(a1, false, &data_a1);
    registry.arm(a2, false, &data_a2);
    registry.arm(a3, true, &child_a);
    registry.arm(b, false, &data_b);

    EXPECT_EQ(registry.armed_on("/a", false), (std::vector<pending_callback*>{&data_a1, &data_a2}));
    EXPECT_EQ(registry.armed_on("/a", true), (std::vector<pending_callback*>{&child_a}));
    EXPECT_EQ(registry.armed_count("/b", false), 1u);
    EXPECT_EQ(registry.armed_count("/b", true), 0u);
    EXPECT_TRUE(registry.armed_on("/c", false).empty());

    // Disarming says how many of ours remain there, and forgets a path with none.
    EXPECT_EQ(registry.disarm(a1, false, &data_a1), 1u);
    EXPECT_EQ(registry.armed_on("/a", false), (std::vector<pending_callback*>{&data_a2}));
    EXPECT_EQ(registry.disarm(a2, false, &data_a2), 0u);
    EXPECT_EQ(registry.armed_count("/a", false), 0u);
    EXPECT_EQ(registry.disarm(a2, false, &data_a2), 0u);  // twice: nothing left to forget
    EXPECT_EQ(registry.armed_count("/a", true), 1u);
}

TEST(CallbackRegistry, APathOutlivesTheWatchWhoseStringItWasKeyedBy) {
    // The index keys each path by a view of one armed watch's own path: when that watch goes,
    // its string may be freed at once (AddressSanitizer would see a read of it).
    callback_registry registry;
    probe first, second, third;
    const std::string path =
        "/locks/a-directory-long-enough-to-be-on-the-heap/_c_x-lock-0000000001";
    auto first_path = std::make_unique<std::string>(path);
    auto second_path = std::make_unique<std::string>(path);
    const auto third_path = std::make_unique<std::string>(path);
    registry.arm(*first_path, false, &first);
    registry.arm(*second_path, false, &second);
    registry.arm(*third_path, false, &third);

    EXPECT_EQ(registry.disarm(*first_path, false, &first), 2u);
    first_path.reset();
    EXPECT_EQ(registry.armed_on(path, false), (std::vector<pending_callback*>{&second, &third}));
    EXPECT_EQ(registry.disarm(*third_path, false, &third), 1u);  // not the key's: nothing moves
    EXPECT_EQ(registry.disarm(*second_path, false, &second), 0u);
    second_path.reset();
    EXPECT_EQ(registry.armed_count(path, false), 0u);

    // The entry let go serves the next path, keyed by the new watch's string.
    const auto other = std::make_unique<std::string>(path + "2");
    registry.arm(*other, false, &first);
    EXPECT_EQ(registry.armed_on(*other, false), (std::vector<pending_callback*>{&first}));
    EXPECT_EQ(registry.armed_count(path, false), 0u);
}

}  // namespace
}  // namespace zkr::detail
