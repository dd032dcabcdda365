#include "tls_material.hpp"

#include "shell.hpp"
#include "test_support.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>

namespace zkr::test {

test_ca::test_ca() : dir_(fresh_temp_dir()) {
    const auto [status, out] =
        run_command("bash '" + source_dir() + "/tools/test-ca.sh' '" + dir_ + "' 2>&1");
    if (status != 0) {
        std::filesystem::remove_all(dir_);
        throw std::runtime_error("tools/test-ca.sh failed: " + out);
    }
}

test_ca::~test_ca() {
    std::filesystem::remove_all(dir_);
}

std::string test_ca::client_key_password() const {
    std::ifstream in(file("client-key-password"));
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const test_ca& shared_test_ca() {
    static std::unique_ptr<test_ca> shared;
    if (!shared) {
        shared = std::make_unique<test_ca>();
        std::atexit([] { shared.reset(); });
    }
    return *shared;
}

}  // namespace zkr::test
