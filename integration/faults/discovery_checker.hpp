// The verdict of a discovery fault run (discovery_faults_test.cpp): did every observer list every
// live registrant once each fault had healed, stop listing each dead one, and list nothing that
// no registrant wrote?
//
// Histories (discovery_client.cpp has the line formats of the processes):
//   reg-*.hist   one registrant process each: S (its id), W (the JSON it registered), C, R, D
//   obs-*.hist   one observer process each: V lines (what its cache listed from then on), E, R, D
//   nemesis.hist written by the test:
//     F kind t_start t_heal target   one fault; from t_heal every process can reach a quorum
//     K id t                         registrant `id` was killed (SIGKILL) at t, for good
//
// With B the bound (the session timeout plus a stated slack), for every observer:
//   - listed: at t_heal + B of every fault, the observer lists every registrant registered (C)
//     before t_heal and not killed by then; the test starts no fault before that instant;
//   - not stale: with data its registrant replaced no earlier than B before that instant (the
//     registrants update their data every 250 ms);
//   - gone: from t + B of a registrant's death on, the observer never lists it;
//   - not invented: every instance it ever listed is, byte for byte, JSON its registrant wrote;
//   - no errors: no R line, and every process the nemesis did not kill ended cleanly (D).
// Measured besides: for each check that passed, how long after the heal the observer began
// listing the registrant for good, and how long after a death it stopped listing it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace zkr::faults {

struct discovery_verdict {
    std::size_t registrants = 0;  ///< registrant histories read
    std::size_t killed = 0;       ///< registrants killed by the nemesis
    std::size_t observers = 0;    ///< observer histories read
    std::size_t faults = 0;       ///< F lines: each a checkpoint for every observer
    std::size_t views = 0;        ///< V lines, all observers
    std::size_t missing = 0;      ///< a live registrant not listed at a checkpoint
    std::size_t lingering = 0;    ///< a dead registrant listed past its death + B
    std::size_t invented = 0;     ///< an instance listed with JSON its registrant never wrote
    std::size_t stale = 0;        ///< listed at a checkpoint with data replaced more than B before
    std::size_t errors = 0;       ///< R lines, and processes not killed that did not end (D)
    std::int64_t max_listed_ns = 0;     ///< longest heal-to-listed, among the checks that passed
    std::int64_t max_gone_ns = 0;       ///< longest death-to-gone, among the checks that passed
    std::vector<std::string> problems;  ///< the first few, described
    bool passed() const {
        return missing == 0 && lingering == 0 && invented == 0 && stale == 0 && errors == 0 &&
               observers > 0 && registrants > 0;
    }
};

/// Checks the histories in `dir` with the bound B.
discovery_verdict check_discovery_run(const std::string& dir, std::chrono::nanoseconds bound);

}  // namespace zkr::faults
