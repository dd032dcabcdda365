// A TLS-only test server for a whole test suite: derive the suite's fixture from it.
#pragma once

#include "tls_material.hpp"
#include "zk_server.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace zkr::test {

/// One TLS-only server (ssl.clientAuth=none, shared_test_ca()'s certificate), started before
/// the suite's first test and stopped after its last.
class tls_server_suite : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        server_ = std::make_unique<zk_server>(tls_server_options{shared_test_ca().dir()});
    }
    static void TearDownTestSuite() { server_.reset(); }
    static const std::string& hosts() { return server_->hosts(); }

  private:
    static inline std::unique_ptr<zk_server> server_;
};

}  // namespace zkr::test
