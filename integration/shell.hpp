// What the test helpers share: temporary files and running shell commands (internal to
// integration/; the tests use test_support.hpp).
#pragma once

#include <string>
#include <utility>

namespace zkr::test {

/// $TMPDIR, or /tmp.
std::string temp_base();

/// A new empty file under temp_base() named after `kind`; the caller removes it.
std::string fresh_temp_file(const std::string& kind);

/// Runs `command` with sh: its exit status (128+N if killed by signal N) and its standard output.
std::pair<int, std::string> run_command(const std::string& command);

/// Its standard output without the final newlines.
std::string shell(const std::string& command, int* status = nullptr);

}  // namespace zkr::test
