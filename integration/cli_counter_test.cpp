// zkr counter (get, set, add; --long), driven from a shell: the values printed, the bytes left
// on the server in Curator's layouts, concurrent additions from many processes adding up
// exactly, and bad input refused with a named error before anything is written.
#include "test_support.hpp"

#include <zkr/error.hpp>

#include <string>

namespace zkr::test {
namespace {

/// `zkr counter ARGS` on the shared server: its status and its output (stdout and stderr).
std::pair<int, std::string> counter(const std::string& args) {
    return zkr_shell("$ZKR counter " + args);
}

/// The data of the node at `path`, or "(none)" when there is no node.
std::string data_of(const std::string& path) {
    const auto node = read_node(path);
    return node ? node->data : "(none)";
}

/// `bytes` as a string (a counter's big-endian data).
template <std::size_t N>
std::string raw(const unsigned char (&bytes)[N]) {
    return std::string(reinterpret_cast<const char*>(bytes), N);
}

TEST(CliCounter, GetSetAndAddPrintTheValueInSharedCountsLayout) {
    const auto path = fresh_root() + "/hits";
    // A counter that does not exist holds 0, and reading it creates nothing.
    EXPECT_EQ(counter("get " + path), std::make_pair(0, std::string("0\n")));
    EXPECT_FALSE(node_exists(shared_hosts(), path));

    EXPECT_EQ(counter("add " + path + " 5"), std::make_pair(0, std::string("5\n")));
    const unsigned char five[] = {0, 0, 0, 5};
    EXPECT_EQ(data_of(path), raw(five));  // SharedCount's 4 bytes, big-endian
    EXPECT_EQ(counter("add " + path + " -7"), std::make_pair(0, std::string("-2\n")));
    const unsigned char minus_two[] = {0xff, 0xff, 0xff, 0xfe};
    EXPECT_EQ(data_of(path), raw(minus_two));
    EXPECT_EQ(counter("set " + path + " 258"), std::make_pair(0, std::string("258\n")));
    const unsigned char two_five_eight[] = {0, 0, 1, 2};
    EXPECT_EQ(data_of(path), raw(two_five_eight));
    EXPECT_EQ(counter("get " + path), std::make_pair(0, std::string("258\n")));
}

TEST(CliCounter, LongUsesDistributedAtomicLongsLayout) {
    const auto path = fresh_root() + "/bytes";
    EXPECT_EQ(counter("get --long " + path), std::make_pair(0, std::string("0\n")));
    // Beyond int32: the 64-bit layout takes it.
    EXPECT_EQ(counter("add --long " + path + " 4294967298"),
              std::make_pair(0, std::string("4294967298\n")));
    const unsigned char value[] = {0, 0, 0, 1, 0, 0, 0, 2};
    EXPECT_EQ(data_of(path), raw(value));
    EXPECT_EQ(counter("--long add " + path + " -4294967299"),
              std::make_pair(0, std::string("-1\n")));  // the option anywhere before PATH N
    EXPECT_EQ(counter("set " + path + " 7 --long"), std::make_pair(0, std::string("7\n")));
    EXPECT_EQ(counter("get --long " + path), std::make_pair(0, std::string("7\n")));
}

TEST(CliCounter, ConcurrentAddsFromManyProcessesSumExactly) {
    const auto path = fresh_root() + "/together";
    // 8 shells adding 1 fifteen times each, at once; each failure is counted, and must be none.
    const auto [status, output] = zkr_shell(
        "failures=0; for p in 1 2 3 4 5 6 7 8; do "
        "(for i in $(seq 15); do $ZKR counter add " +
        path +
        " 1 >/dev/null || echo failed; done) & "
        "done; wait");
    EXPECT_EQ(status, 0) << output;
    EXPECT_FALSE(contains(output, "failed")) << output;
    EXPECT_EQ(counter("get " + path), std::make_pair(0, std::string("120\n")));
}

TEST(CliCounter, ANodeThatIsNotACounterIsANamedErrorAndStaysAsItWas) {
    const auto root = fresh_root();
    create_node(shared_hosts(), root, "");
    const auto text = root + "/text";
    create_node(shared_hosts(), text, "hello");
    const auto not_a_counter = make_error_code(errc::not_a_counter).message();
    for (const auto* args : {"get ", "add ", "set ", "add --long ", "get --long "}) {
        const bool changes = std::string(args).rfind("get", 0) != 0;
        const auto [status, output] = counter(args + text + (changes ? " 1" : ""));
        EXPECT_EQ(status, 64) << args << output;
        EXPECT_TRUE(contains(output, not_a_counter)) << args << output;
    }
    EXPECT_EQ(data_of(text), "hello");
    // Each layout's bytes are not the other's counter.
    const auto shared = root + "/shared";
    ASSERT_EQ(counter("add " + shared + " 1").first, 0);
    EXPECT_EQ(counter("add --long " + shared + " 1").first, 64);
    const auto wide = root + "/wide";
    ASSERT_EQ(counter("add --long " + wide + " 1").first, 0);
    EXPECT_EQ(counter("add " + wide + " 1").first, 64);
    EXPECT_EQ(counter("get " + shared), std::make_pair(0, std::string("1\n")));
    EXPECT_EQ(counter("get --long " + wide), std::make_pair(0, std::string("1\n")));
}

TEST(CliCounter, BadNumbersAreUsageErrorsThatWriteNothing) {
    const auto path = fresh_root() + "/n";
    const auto refused = [&](const std::string& args, const std::string& says) {
        const auto [status, output] = counter(args);
        EXPECT_EQ(status, 64) << args << "\n" << output;
        EXPECT_TRUE(contains(output, says)) << args << "\n" << output;
    };
    refused("add " + path + " abc", "N takes a whole number from -2147483648 to 2147483647");
    refused("set " + path + " 1.5", "not '1.5'");
    refused("add " + path + " 2147483648", "(--long: 64 bits)");
    refused("set --long " + path + " 9223372036854775808", "to 9223372036854775807");
    refused("add " + path, "counter add needs a PATH and N");
    refused("get " + path + " 3", "unexpected argument 3");
    refused("add " + path + " 1 2", "unexpected argument 2");
    refused("add " + path + " --bogus", "unknown option --bogus");
    refused("inc " + path + " 1", "counter takes get, set or add, not 'inc'");
    EXPECT_FALSE(node_exists(shared_hosts(), path));

    // A sum beyond int32 is refused whole: the counter keeps its value.
    ASSERT_EQ(counter("set " + path + " 2147483647").first, 0);
    const auto [status, output] = counter("add " + path + " 1");
    EXPECT_EQ(status, 64) << output;
    EXPECT_TRUE(
        contains(output, "zkr: cannot add counter " + path + ": the sum leaves the 32-bit range"))
        << output;
    EXPECT_EQ(counter("get " + path), std::make_pair(0, std::string("2147483647\n")));
}

}  // namespace
}  // namespace zkr::test
