// Path and connect-string checks: malformed input is refused before it reaches the C client.
#include "path.hpp"
#include "connect_string.hpp"

#include <gtest/gtest.h>

namespace zkr::detail {
namespace {

TEST(ValidatePath, AcceptsAbsolutePaths) {
    for (const char* p : {"/", "/a", "/a/b", "/locks/orders-1", "/a/.b", "/é"}) {
        EXPECT_FALSE(validate_path(p)) << p;
    }
}

TEST(ValidatePath, RejectsMalformedPaths) {
    const std::string with_nul("/a\0b", 4);
    const std::string too_long = "/" + std::string(max_path_length, 'x');
    for (const std::string& p :
         {std::string(""), std::string("a"), std::string("a/b"), std::string("/a/"),
          std::string("//"), std::string("/a//b"), std::string("/."), std::string("/a/.."),
          std::string("/a\nb"), std::string("/a\x7f"), with_nul, too_long}) {
        EXPECT_EQ(validate_path(p), errc::invalid_path) << p;
    }
}

TEST(PathParts, SplitAndJoin) {
    EXPECT_EQ(parent_path("/a/b/c"), "/a/b");
    EXPECT_EQ(parent_path("/a"), "/");
    EXPECT_EQ(node_name("/a/b/c"), "c");
    EXPECT_EQ(join_path("/a", "b"), "/a/b");
    EXPECT_EQ(join_path("/", "b"), "/b");
}

TEST(ConnectString, AcceptsHostListsAndChroot) {
    for (const char* h : {"127.0.0.1:2181", "a:1,b:2,c:3", "zk.example.com:2181/app",
                          "10.0.0.1:2181,10.0.0.2:2181/app/x"}) {
        EXPECT_FALSE(validate_connect_string(h)) << h;
    }
}

TEST(ConnectString, RejectsMalformed) {
    for (const char* h :
         {"", "localhost", ":2181", "host:", "host:0", "host:65536", "host:12x", "a:1,", ",a:1",
          "a:1,,b:2", "[::1]:2181", "a:1/bad/", "a b:1", "a:1//x"}) {
        EXPECT_EQ(validate_connect_string(h), errc::invalid_connect_string) << h;
    }
}

}  // namespace
}  // namespace zkr::detail
