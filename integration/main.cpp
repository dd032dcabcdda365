// Entry point of the real-server tests: one ZooKeeper for the whole run, started by the
// project's scripts before the first test. A server that cannot start fails the run.
#include "test_support.hpp"

#include <zkr/log.hpp>

#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/utility/setup/console.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

class server_environment : public ::testing::Environment {
  public:
    void SetUp() override {
        try {
            std::fprintf(stderr, "ZooKeeper for the tests: %s\n",
                         zkr::test::shared_hosts().c_str());
            if (zkr::test::tls_test_mode()) {
                std::fprintf(stderr, "Sessions on it over TLS: %s\n",
                             zkr::test::shared_secure_hosts().c_str());
            }
        } catch (const std::exception& e) {
            FAIL() << "no ZooKeeper server for the tests: " << e.what();
        }
    }
    void TearDown() override {
        // A run meant to prove the recipes over TLS proves nothing if no session used it.
        if (zkr::test::tls_test_mode()) {
            EXPECT_GT(zkr::test::tls_sessions_configured(), 0U)
                << "ZKR_TEST_TLS=1, yet no test session went over TLS";
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    namespace logging = boost::log;
    auto console =
        logging::add_console_log(std::clog, logging::keywords::format = "[%Channel%] %Message%");
    // ZKR_TEST_LOG=debug shows zkr's own debug records. The C client reports every refused
    // connection as an error, and the fault tests make many: its channel stays out.
    const char* level = std::getenv("ZKR_TEST_LOG");
    if (level != nullptr && std::string(level) == "debug") {
        zkr::log::set_level(zkr::log::level::debug);
    }
    // On the console only: a test may still capture the C client's records (log_capture.hpp).
    console->set_filter(zkr::log::channel != zkr::log::channels::client);
    ::testing::AddGlobalTestEnvironment(new server_environment);
    return RUN_ALL_TESTS();
}
