// Histories of the fault-injection harness: one file per client slot, one line per event, fields
// separated by spaces, times in CLOCK_MONOTONIC nanoseconds (one clock for every process on the
// machine).
//
// Client lines (fault_client.cpp):
//   S pid t                         process started
//   C pid t session_id              session connected
//   E pid token t                   entered a critical section (lock, leadership or lease held)
//   W pid token accepted t          wrote to the resource stand-in (accepted 1/0)
//   H pid token t                   holding through a partition from t (SIGUSR1; until told of
//   loss) L pid token t reason            zkr reported the loss (async_wait_lost) during the
//   section X pid token t lost reason       left the section; lost 1 if loss was known by then T
//   pid t                         an acquisition timed out and was cancelled R pid t what:message
//   an error (acquire, release, connect, session end) D pid t                         exited
//   cleanly
// Nemesis lines (nemesis.hist, written by the test):
//   F kind t_start t_end pid [t_quorum]
//                                   one fault, applied from t_start to t_end (pid of the target
//                                   client, or 0); for partitions, t_end is the heal and t_quorum
//                                   the first time after it that a quorum of the ensemble served
//   K pid t                         client pid was killed with SIGKILL at t
//   Z pid t_stop t_cont             client pid was frozen (SIGSTOP) from t_stop to t_cont
//   V token t                       a forced revocation of the node with this token started at t
// Resource log (resource.log, written under the resource's file lock, in decision order):
//   A pid token t                   write accepted
//   J pid token t                   write rejected (token lower than the highest accepted)
#pragma once

#include <cstdint>
#include <ctime>

namespace zkr::faults {

inline std::int64_t now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace zkr::faults
