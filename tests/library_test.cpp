// What the library reports about itself: its version, its log threshold.
#include <zkr/log.hpp>
#include <zkr/sequencer.hpp>
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

TEST(Sequencer, RoundTripsThroughItsTextAndRefusesAnythingElse) {
    const sequencer seq{"/app/locks/_c_0b4f-lock-0000000042", 12884901890};
    EXPECT_EQ(seq.to_string(), "zkr-seq-1:12884901890:/app/locks/_c_0b4f-lock-0000000042");
    EXPECT_EQ(sequencer::parse(seq.to_string()), seq);
    // A path may hold colons; the token ends at the first one.
    const sequencer colons{"/a:b/c", 7};
    EXPECT_EQ(sequencer::parse(colons.to_string()), colons);
    for (const char* bad :
         {"", "zkr-seq-1:", "zkr-seq-1:12", "zkr-seq-1:x:/a", "zkr-seq-1:-3:/a", "zkr-seq-1:0:/a",
          "zkr-seq-1:5:relative", "zkr-seq-1:5:/", "zkr-seq-2:5:/a", "zkr-seq-1:5:/a/../b",
          "zkr-seq-1:99999999999999999999:/a"}) {
        EXPECT_FALSE(sequencer::parse(bad)) << bad;
    }
}

}  // namespace
}  // namespace zkr
