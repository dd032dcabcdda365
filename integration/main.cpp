// Entry point of the real-server tests: one ZooKeeper for the whole run, started by the
// project's scripts before the first test. A server that cannot start fails the run.
#include "test_support.hpp"

#include <zkr/log.hpp>

#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/utility/setup/console.hpp>

#include <gtest/gtest.h>

namespace {

class server_environment : public ::testing::Environment {
  public:
    void SetUp() override {
        try {
            std::fprintf(stderr, "ZooKeeper for the tests: %s\n",
                         zkr::test::shared_hosts().c_str());
        } catch (const std::exception& e) {
            FAIL() << "no ZooKeeper server for the tests: " << e.what();
        }
    }
};

}  // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    namespace logging = boost::log;
    logging::add_console_log(std::clog, logging::keywords::format = "[%Channel%] %Message%");
    // The C client reports every refused connection as an error: the fault tests make many.
    logging::core::get()->set_filter(zkr::log::severity >= logging::trivial::warning &&
                                     zkr::log::channel != "zkr.client");
    ::testing::AddGlobalTestEnvironment(new server_environment);
    return RUN_ALL_TESTS();
}
