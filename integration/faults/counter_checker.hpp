// The verdict of a counter fault run (counter_faults_test.cpp): does the counter's final value
// account for every acknowledged addition exactly once, with no addition applied twice and none
// lost?
//
// Histories (counter_client.cpp has the line formats): one per incrementer process, each adding
// 1 again and again to one counter that starts at 0. An addition is
//   acknowledged  (A value): it landed once, and `value` is what it left;
//   in doubt      (U, or an I with nothing after it: the process was killed while it was in
//                 flight): it may have landed, once, or not at all.
// The final value F must then satisfy, with a acknowledged and d in doubt:
//   - a <= F <= a + d: every acknowledged addition counted, none twice, and of those in doubt
//     only some that landed (F - a of them; the rest did not);
//   - every acknowledged value distinct (one write, one value: two additions that saw the same
//     value after them means one was lost), within 1..F, and increasing within a process;
//   - no errors: no R line, and every process not killed ended cleanly (D).
#pragma once

#include "history_files.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace zkr::faults {

/// One incrementer's history, as read from its file.
using counter_history = history_file;

struct counter_verdict {
    std::size_t processes = 0;
    std::int64_t final_value = 0;
    std::size_t acknowledged = 0;  ///< A lines
    std::size_t in_doubt = 0;      ///< U lines, and additions in flight when killed
    /// Additions in doubt that landed (F - acknowledged), when within 0..in_doubt.
    std::int64_t in_doubt_landed = 0;
    std::size_t lost = 0;           ///< acknowledged but not counted: F below the acknowledged
    std::size_t applied_twice = 0;  ///< counted beyond what could have landed: F above a + d
    std::size_t duplicates = 0;     ///< an acknowledged value seen twice
    std::size_t impossible = 0;     ///< an acknowledged value outside 1..F, or not increasing
    std::size_t errors = 0;  ///< R lines, unknown lines, processes not killed that did not end
    std::vector<std::string> problems;  ///< the first few, described
    bool passed() const {
        return lost == 0 && applied_twice == 0 && duplicates == 0 && impossible == 0 &&
               errors == 0 && processes > 0;
    }
};

/// Checks `histories` against the counter's final value.
counter_verdict check_counter_histories(const std::vector<counter_history>& histories,
                                        std::int64_t final_value);

/// Reads the histories in `dir` (inc-*.hist; the killed ones named by nemesis.hist's
/// "K NAME t" lines) and checks them against the final value.
counter_verdict check_counter_run(const std::string& dir, std::int64_t final_value);

}  // namespace zkr::faults
