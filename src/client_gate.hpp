// The one lock around the ZooKeeper C client.
//
// The single-threaded C client (libzookeeper_st) keeps process-wide state without any locking:
// its request-id counter is a plain `static int`, its log formatting uses static buffers, its
// read-only-server probe a static pointer. Sessions driven from several threads (several
// io_contexts, or one io_context run by several threads) would race on them. Every call into the
// C client therefore happens with this gate held. It is re-entrant: the C client runs completions
// inside zookeeper_process, and those continue recipe logic that issues the next request in place.
//
// Held only for the length of a C call and the internal callbacks it runs, never around user code
// (user handlers are posted) and never around a wait.
#pragma once

#include <mutex>

namespace zkr::detail {

class client_gate {
  public:
    client_gate();
    ~client_gate();
    client_gate(const client_gate&) = delete;
    client_gate& operator=(const client_gate&) = delete;

  private:
    /// Whether this gate took the mutex: a nested gate on the same thread (the C client's
    /// callbacks issuing the next request) only counts, without locking again.
    bool outermost_;
};

}  // namespace zkr::detail
