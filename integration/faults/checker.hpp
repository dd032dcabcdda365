// The history checker of the fault-injection harness: reads the histories of one run (see
// history.hpp) and computes what README.md beside this file lists.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace zkr::faults {

struct fault_stats {
    int count = 0;
    int without_recovery = 0;     ///< no acquisition at all after the fault
    std::int64_t max_gap_ns = 0;  ///< fault start -> next entry into a critical section
    std::int64_t total_gap_ns = 0;
    std::int64_t max_recovery_ns =
        0;  ///< fault end (a restart; partitions: see below) -> next entry
    /// Partitions: the heal -> the first time a quorum of the ensemble serves again (ZooKeeper's
    /// own recovery). Their max_recovery_ns counts from that time, not from the heal.
    std::int64_t max_quorum_ns = -1;
};

struct report {
    std::string name;
    int max_holders = 1;
    std::size_t sections = 0;             ///< critical sections entered
    std::size_t lost_sections = 0;        ///< ... of which the holder was told of loss
    std::size_t killed_sections = 0;      ///< ... ended by SIGKILL of the holder
    std::size_t frozen_sections = 0;      ///< ... during which the holder was frozen (SIGSTOP)
    std::size_t evicted_sections = 0;     ///< ... whose node a forced revocation deleted
    std::size_t held_through = 0;         ///< ... held on through a partition (H)
    std::size_t held_through_untold = 0;  ///< ... of which the holder was never told of loss: 0
    std::size_t unterminated = 0;         ///< sections with no exit although not killed (a bug)
    std::size_t timeouts = 0;             ///< acquisitions cancelled by their timeout
    std::size_t errors = 0;               ///< R lines
    std::size_t processes = 0;            ///< client processes (restarts included)
    std::size_t clean_exits = 0;
    std::size_t writes_accepted = 0;
    std::size_t writes_rejected = 0;
    std::size_t stale_accepted = 0;          ///< accepted with a token below one accepted before: 0
    std::size_t overlaps = 0;                ///< accountable intervals above max_holders: 0
    std::size_t token_order_violations = 0;  ///< tokens not increasing in entry order: 0
    std::size_t max_inside = 0;              ///< most accountable holders at once
    double duration_s = 0;
    double acquisitions_per_s = 0;
    std::map<std::string, fault_stats> faults;
    std::vector<std::string> violations;  ///< the first few violations, spelled out
    std::int64_t leftover_znodes = -1;    ///< filled in by the caller
    std::vector<std::string> leftover_names;

    bool ok() const;
};

/// Checks the run whose files are in `dir` (*.hist, nemesis.hist, resource.log). max_holders: 1
/// for a lock or an election, the semaphore's maximum otherwise. check_token_order: tokens must
/// increase in entry order (locks and elections).
report check_run(const std::string& name, const std::string& dir, int max_holders,
                 bool check_token_order);

/// A Markdown table of reports, one row each, and one row per fault kind.
std::string summary_table(const std::vector<report>& reports);

}  // namespace zkr::faults
