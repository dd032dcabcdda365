// The verdict of a queue fault run (queue_faults_test.cpp): was every item put delivered as the
// consumers' mode promises, none invented, and each producer's items queued in the order it put
// them?
//
// Histories (queue_client.cpp has the line formats): one per producer or consumer process. The
// run ends with the producers stopped and the queue drained: no item and no claim left.
//
// An item put is
//   acknowledged  (A): it is in the queue, once;
//   in doubt      (U, or a P with nothing after it in a killed producer): once or not at all.
// Claim mode (exactly once), for each item:
//   - completed (K) at most once: never by two consumers, never twice;
//   - an acknowledged item completed once, unless a completion of it is in doubt (Q, or an M
//     with nothing after it in a killed consumer): it may then have landed without its answer;
//   - an item claimed or completed was put (no item invented);
// Take mode (at most once):
//   - taken (T) at most once;
//   - the acknowledged items never taken number at most the takes in doubt (V, or a W with
//     nothing after it in a killed consumer): a take whose answer was lost may have removed one;
// Both:
//   - each producer's acknowledged items have increasing sequence numbers in the order it put
//     them: the queue's FIFO order is the order of the puts;
//   - no errors: no R line, and every process not killed ended cleanly (D).
#pragma once

#include "history_files.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace zkr::faults {

/// One producer's or consumer's history, as read from its file.
using queue_history = history_file;

struct queue_verdict {
    std::size_t producers = 0;
    std::size_t consumers = 0;
    std::size_t acknowledged = 0;       ///< items put and acknowledged
    std::size_t put_in_doubt = 0;       ///< puts whose answer was lost, or in flight when killed
    std::size_t delivered = 0;          ///< completions (claim mode) or takes (take mode)
    std::size_t refused = 0;            ///< completions refused: the claim had gone (L)
    std::size_t delivery_in_doubt = 0;  ///< completions or takes whose answer was lost
    std::size_t lost = 0;          ///< acknowledged items never delivered, beyond what doubt allows
    std::size_t duplicates = 0;    ///< items delivered twice
    std::size_t invented = 0;      ///< items delivered that nobody put
    std::size_t out_of_order = 0;  ///< a producer's items queued out of its order
    std::size_t errors = 0;  ///< R lines, unknown lines, processes not killed that did not end
    std::vector<std::string> problems;  ///< the first few, described
    bool passed() const {
        return lost == 0 && duplicates == 0 && invented == 0 && out_of_order == 0 && errors == 0 &&
               producers > 0 && consumers > 0;
    }
};

/// Checks the histories of one run; `claims`: the consumers claimed (exactly once), else took.
queue_verdict check_queue_histories(const std::vector<queue_history>& histories, bool claims);

/// Reads the histories in `dir` (prod-*.hist and cons-*.hist; the killed ones named by
/// nemesis.hist's "K NAME t" lines) and checks them.
queue_verdict check_queue_run(const std::string& dir, bool claims);

}  // namespace zkr::faults
