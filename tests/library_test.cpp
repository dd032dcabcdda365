// What the library reports about itself: its version, its log threshold.
#include <zkr/log.hpp>
#include <zkr/version.hpp>

#include <gtest/gtest.h>

#include <string>

namespace zkr {
namespace {

TEST(Library, RunsWithTheVersionOfItsHeaders) {
    EXPECT_EQ(std::string(version()), ZKR_VERSION_STRING);
    EXPECT_EQ(std::string(version()), version_string);
}

TEST(Library, LogLevelDefaultsToWarningAndIsSettable) {
    EXPECT_EQ(log::get_level(), log::level::warning);
    log::set_level(log::level::debug);
    EXPECT_EQ(log::get_level(), log::level::debug);
    log::set_level(log::level::off);
    EXPECT_EQ(log::get_level(), log::level::off);
    log::set_level(log::level::warning);
}

}  // namespace
}  // namespace zkr
