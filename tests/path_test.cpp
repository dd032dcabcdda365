// Path and connect-string checks: malformed input is refused before it reaches the C client.
#include "path.hpp"
#include "connect_string.hpp"

#include <gtest/gtest.h>

namespace zkr::detail {
namespace {

TEST(ValidatePath, AcceptsAbsolutePaths) {
    for (const char* p : {"/", "/a", "/a/b", "/locks/orders-1", "/a/.b", "/é", "/a/...", "/\u00a0",
                          "/\u4e2d\u6587", "/\uf900", "/\uffef"}) {
        EXPECT_FALSE(validate_path(p)) << p;
    }
}

TEST(ValidatePath, RefusesWhatTheServerRefusesAndSaysWhy) {
    // ZooKeeper's PathUtils.validatePath, as the server reads the path (UTF-8 to Java chars).
    const std::pair<std::string, std::string> cases[] = {
        {"", "empty"},
        {"a/b", "does not start with '/'"},
        {"/a/", "ends with '/'"},
        {"/a//b", "empty node name at byte 3"},
        {"/a/../b", "relative node name '..'"},
        {"/./b", "relative node name '.'"},
        {"/a\x01", "U+0001 at byte 2"},
        {"/a\x7f", "U+007F"},
        {"/\u0085", "U+0085"},        // C1 control, two bytes in UTF-8
        {"/\ue000", "U+E000"},        // private use
        {"/\ufff0", "U+FFF0"},        // specials
        {"/\U0001F600", "U+01F600"},  // beyond the BMP: surrogates in Java
        {"/a\xff", "not valid UTF-8"},
        {"/\xc0\xaf", "not valid UTF-8"},      // overlong '/'
        {"/\xed\xa0\x80", "not valid UTF-8"},  // an encoded surrogate
        {"/\xe4\xb8", "not valid UTF-8"},      // truncated
    };
    for (const auto& [path, rule] : cases) {
        std::string reason;
        EXPECT_EQ(validate_path(path, &reason), errc::invalid_path) << path;
        EXPECT_NE(reason.find(rule), std::string::npos) << path << ": " << reason;
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
    EXPECT_EQ(zkr::join_path("/", "b"), "/b");  // the public one (<zkr/path.hpp>)
}

TEST(ConnectString, AcceptsHostListsAndChroot) {
    for (const char* h : {"127.0.0.1:2181", "a:1,b:2,c:3", "zk.example.com:2181/app",
                          "10.0.0.1:2181,10.0.0.2:2181/app/x", "[::1]:2181",
                          "a:1,[fe80::1]:2181/app", "[::ffff:10.0.0.1]:2181"}) {
        EXPECT_FALSE(validate_connect_string(h)) << h;
    }
}

TEST(ConnectString, IsWrittenForTheCClientWithoutBrackets) {
    EXPECT_EQ(c_client_hosts("[::1]:2181,a:1/app/[x]"), "::1:2181,a:1/app/[x]");
    EXPECT_EQ(c_client_hosts("127.0.0.1:2181"), "127.0.0.1:2181");
}

TEST(ConnectString, RejectsMalformed) {
    for (const char* h : {"", "localhost", ":2181", "host:", "host:0", "host:65536", "host:12x",
                          "a:1,", ",a:1", "a:1,,b:2", "a:1/bad/", "a b:1", "a:1//x", "[::1]",
                          "[]:2181", "[::1:2181", "[not-an-address]:2181", "[::1]x:2181"}) {
        EXPECT_EQ(validate_connect_string(h), errc::invalid_connect_string) << h;
    }
    for (const char* h : {"::1:2181", "a:1,fe80::1:2181"}) {
        EXPECT_EQ(validate_connect_string(h), errc::ipv6_literal) << h;
    }
}

}  // namespace
}  // namespace zkr::detail
