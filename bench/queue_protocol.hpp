// What the C++ drivers of the queue benchmark share (bench/queue_orchestrate.py): the line
// protocol of one driver process, one session that first produces, then consumes.
//
//   -> ready {"session": "0x..."}      connected; nothing sent to the queue yet
//   <- put path=P first=F n=N          put N items, one at a time, each awaited; the item's data
//                                      is its id in decimal, F to F+N-1
//   -> put {items, wall_ns, cpu_ns, latency_ns: [...]}
//   <- take path=P                     consume until the row's end (below)
//   <- stop                            the orchestrator saw the queue drained
//   -> took {items, wall_ns, cpu_ns, latency_ns: [...], ids: [...]}
//   <- quit
//
// A consumer ends when it is handed the sentinel item "stop" (put by the orchestrator once the
// queue is drained, one per consumer), or, where the row says so, when it finds the queue empty
// (a pre-filled queue that is empty stays empty). wall_ns runs from "take" to the last item
// handed over; latency_ns is each item's take (or claim and completion); ids are the items
// handed over, which the orchestrator checks against those put.
#pragma once

#include "common.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

/// The sentinel item that ends a consumer.
inline constexpr std::string_view stop_item = "stop";

/// A consumer's bookkeeping:
///     for (c.begin(); <take>; c.begin()) { if (!c.handed(data)) break; }
class consumption {
  public:
    /// A take (or claim) starts now.
    void begin() { started_ = now_ns(); }

    /// An item was handed over (for a claim: completed); false for the sentinel.
    bool handed(std::string_view data) {
        if (data == stop_item) {
            return false;
        }
        const auto now = now_ns();
        latency_ns.push_back(now - started_);
        ids.push_back(std::stoll(std::string(data)));
        last_ns = now;
        return true;
    }

    std::vector<std::int64_t> latency_ns;
    std::vector<std::int64_t> ids;
    std::int64_t last_ns = 0;  ///< when the last item was handed over (0: none)

  private:
    std::int64_t started_ = 0;
};

/// Puts items first..first+n-1 on path, one at a time: each put's latency.
using put_items = std::function<std::vector<std::int64_t>(const std::string& path,
                                                          std::int64_t first, std::int64_t n)>;
/// Starts consuming path; the function it returns waits for the consumer's end.
using start_taking = std::function<std::function<consumption()>(const std::string& path)>;

/// The driver's side of the protocol, from "ready" to "quit".
inline void queue_protocol(std::int64_t session_id, const put_items& put,
                           const start_taking& take) {
    say("ready " + json().str("session", session_hex(session_id)).text());
    for (;;) {
        const auto c = read_command();
        if (c.verb == "quit") {
            return;
        }
        const auto cpu0 = cpu_ns();
        const auto start = now_ns();
        if (c.verb == "put") {
            const auto latency = put(c.get("path"), c.get_int("first", 0), c.get_int("n", 0));
            const auto wall = now_ns() - start;
            say("put " + json()
                             .num("items", static_cast<std::int64_t>(latency.size()))
                             .num("wall_ns", wall)
                             .num("cpu_ns", cpu_ns() - cpu0)
                             .array("latency_ns", latency)
                             .text());
        } else if (c.verb == "take") {
            const auto finish = take(c.get("path"));
            expect("stop");
            const auto done = finish();
            say("took " + json()
                              .num("items", static_cast<std::int64_t>(done.ids.size()))
                              .num("wall_ns", done.last_ns == 0 ? 0 : done.last_ns - start)
                              .num("cpu_ns", cpu_ns() - cpu0)
                              .array("latency_ns", done.latency_ns)
                              .array("ids", done.ids)
                              .text());
        } else {
            die("unknown command '" + c.verb + "'");
        }
    }
}

}  // namespace bench
