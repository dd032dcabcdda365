// RESULTS.md holds the long-mode results of several tests, each in a section of its own, and
// sections written by hand about them: a long run rewrites its own section and leaves the rest.
#pragma once

#include <string>
#include <vector>

namespace zkr::faults {

/// Whether ZKR_FAULTS_LONG is set (and not "0"): the long runs, whose results go to RESULTS.md.
bool long_mode();

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

/// The table of one kind of run in RESULTS.md: a row per run, added as each run ends.
struct results_table {
    std::string heading;   ///< its section's heading: "## Queues under faults"
    std::string filter;    ///< the gtest filter of its long runs: "Faults.Queue*"
    std::string preamble;  ///< what comes between the command and the table: rules, timeouts
    std::string columns;   ///< the header row and the alignment row, each ending in a newline
    std::string footnote;  ///< what the columns mean
    std::vector<std::string> rows;

    /// Prints `row` and keeps it; in long mode, rewrites the section with every row kept.
    void add(std::string row);
};

/// The end of every run: each problem found is a failure, and so is a verdict that did not
/// pass; the histories in `dir` are removed when it passed (kept with ZKR_FAULTS_KEEP).
void conclude_run(const std::string& run, const std::vector<std::string>& problems, bool passed,
                  const std::string& dir);

}  // namespace zkr::faults
