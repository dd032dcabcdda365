#include "shell.hpp"

#include "test_support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace zkr::test {

std::string temp_base() {
    const char* base = std::getenv("TMPDIR");
    return base != nullptr ? base : "/tmp";
}

std::string fresh_temp_dir() {
    std::string templ = temp_base() + "/zkr-test-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    return templ;
}

/// Runs `command` with sh: its exit status (128+N if killed by signal N) and its standard output.
std::pair<int, std::string> run_command(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        ADD_FAILURE() << "popen failed: " << command << ": " << std::strerror(errno);
        return {-1, {}};
    }
    std::string out;
    std::array<char, 4096> buf;
    while (auto n = fread(buf.data(), 1, buf.size(), pipe)) {
        out.append(buf.data(), n);
    }
    const int rc = pclose(pipe);
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc), out};
}

std::string shell(const std::string& command, int* status) {
    auto [rc, out] = run_command(command);
    if (status != nullptr) {
        *status = rc;
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
        out.pop_back();
    }
    return out;
}

std::string fresh_temp_file(const std::string& kind) {
    std::string templ = temp_base() + "/zkr-" + kind + "-XXXXXX";
    const int fd = mkstemp(templ.data());
    if (fd < 0) {
        throw std::runtime_error("mkstemp failed");
    }
    close(fd);
    return templ;
}

}  // namespace zkr::test
