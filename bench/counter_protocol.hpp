// What the C++ drivers of the counter benchmark share (bench/counter_orchestrate.py): the line
// protocol of one contender, one session incrementing one counter for a fixed time.
//
//   -> ready {"session": "0x..."}  connected; nothing sent to the counter yet
//   <- warm ms=W                   increment for W ms, not recorded (first requests, caches)
//   -> warmed
//   <- go ms=D                     increment for D ms, recorded (CPU clock starts)
//   -> done {increments, total, wall_ns, cpu_ns, latency_ns: [...]}
//   <- quit
//
// `increments` are those of "go", `total` those of "warm" too: the orchestrator checks that the
// counter moved by exactly the sum of every contender's total.
#pragma once

#include "common.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bench {

/// What a contender did in one timed stretch.
struct increments {
    std::int64_t count = 0;
    std::vector<std::int64_t> latency_ns;  ///< per increment, its retries included
};

/// A timed stretch's bookkeeping, for a loop that increments until the time is up:
///     for (stretch s(ms, record); s.next(); s.landed()) { add 1 }
class stretch {
  public:
    stretch(std::int64_t ms, bool record) : end_(now_ns() + ms * 1'000'000), record_(record) {}

    /// Whether time is left; starts the next increment's clock.
    bool next() {
        started_ = now_ns();
        return started_ < end_;
    }

    /// The increment next() started has landed.
    void landed() {
        if (record_) {
            done_.latency_ns.push_back(now_ns() - started_);
        }
        ++done_.count;
    }

    const increments& result() const { return done_; }

  private:
    std::int64_t end_;
    bool record_;
    std::int64_t started_ = 0;
    increments done_;
};

/// Increments for `ms` milliseconds; `record`: keep each increment's latency.
using increment_for = std::function<increments(std::int64_t ms, bool record)>;

/// The contender's side of the protocol, from "ready" to "quit".
inline void counter_protocol(std::int64_t session_id, const increment_for& run) {
    say("ready " + json().str("session", session_hex(session_id)).text());
    const auto warm = read_command();
    if (warm.verb != "warm") {
        die("expected 'warm', got '" + warm.verb + "'");
    }
    std::int64_t total = run(warm.get_int("ms", 0), false).count;
    say("warmed");
    const auto go = read_command();
    if (go.verb != "go") {
        die("expected 'go', got '" + go.verb + "'");
    }
    const auto cpu0 = cpu_ns();
    const auto start = now_ns();
    const auto timed = run(go.get_int("ms", 0), true);
    const auto wall = now_ns() - start;
    const auto cpu = cpu_ns() - cpu0;
    total += timed.count;
    say("done " + json()
                      .num("increments", timed.count)
                      .num("total", total)
                      .num("wall_ns", wall)
                      .num("cpu_ns", cpu)
                      .array("latency_ns", timed.latency_ns)
                      .text());
    expect("quit");
}

}  // namespace bench
