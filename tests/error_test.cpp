// Error codes: both categories, classification and messages that say what to do.
#include <zkr/error.hpp>

#include <gtest/gtest.h>

namespace zkr {
namespace {

TEST(Errors, ZooKeeperCodesKeepTheirCValues) {
    EXPECT_FALSE(from_zk_code(0));
    const auto ec = from_zk_code(-101);
    EXPECT_EQ(ec, zk_errc::no_node);
    EXPECT_EQ(ec.category().name(), std::string("zookeeper"));
    EXPECT_EQ(from_zk_code(-116), errc::session_closed);  // our own close
}

TEST(Errors, Classification) {
    EXPECT_TRUE(is_retryable(make_error_code(zk_errc::connection_loss)));
    EXPECT_TRUE(is_retryable(make_error_code(zk_errc::operation_timeout)));
    EXPECT_FALSE(is_retryable(make_error_code(zk_errc::no_node)));
    EXPECT_FALSE(is_retryable(make_error_code(zk_errc::session_expired)));
    EXPECT_TRUE(is_session_lost(make_error_code(zk_errc::session_expired)));
    EXPECT_TRUE(is_session_lost(make_error_code(errc::session_closed)));
    EXPECT_TRUE(is_session_lost(make_error_code(zk_errc::auth_failed)));
    EXPECT_FALSE(is_session_lost(make_error_code(zk_errc::connection_loss)));
    EXPECT_FALSE(is_session_lost(make_error_code(errc::lock_lost)));
}

TEST(Errors, MessagesSayWhatToDo) {
    EXPECT_NE(make_error_code(errc::connect_timeout).message().find("check the hosts"),
              std::string::npos);
    EXPECT_NE(make_error_code(zk_errc::no_auth).message().find("digest_credentials"),
              std::string::npos);
    EXPECT_NE(make_error_code(zk_errc::session_expired).message().find("new session"),
              std::string::npos);
    for (int e = 1; e <= static_cast<int>(errc::tls_certificate_rejected); ++e) {  // the last one
        EXPECT_NE(make_error_code(static_cast<errc>(e)).message(), "unknown zkr error") << e;
    }
}

}  // namespace
}  // namespace zkr
