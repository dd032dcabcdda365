// RESULTS.md holds the long-mode results of several tests, each in a section of its own, and
// sections written by hand about them: a long run rewrites its own section and leaves the rest.
#pragma once

#include <string>

namespace zkr::faults {

/// Where long runs write: $ZKR_FAULTS_RESULTS, else integration/faults/RESULTS.md.
std::string results_path();

/// "Produced <date> on ..., by:" and `command` as a shell block: how a section begins.
std::string produced_by(const std::string& command);

/// Replaces, in the Markdown file `file`, the section that starts with the line `heading` ("# X"
/// or "## X") and runs to the next line starting with "## ", by `heading`, an empty line and
/// `body`. A missing "# " section is put first, a missing "## " section last; a missing file is
/// created.
void replace_results_section(const std::string& file, const std::string& heading,
                             const std::string& body);

}  // namespace zkr::faults
