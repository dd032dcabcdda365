#include "counter_checker.hpp"

#include <set>
#include <sstream>

namespace zkr::faults {

counter_verdict check_counter_histories(const std::vector<counter_history>& histories,
                                        std::int64_t final_value) {
    counter_verdict v;
    v.processes = histories.size();
    v.final_value = final_value;
    std::set<std::int64_t> acknowledged_values;
    for (const auto& h : histories) {
        std::istringstream lines(h.text);
        bool in_flight = false;  // an I whose outcome is not recorded yet
        bool ended = false;
        std::int64_t last_value = 0;
        for (std::string line; std::getline(lines, line);) {
            std::istringstream fields(line);
            std::string kind;
            std::int64_t t = 0;
            fields >> kind >> t;
            if (kind == "I") {
                if (in_flight) {  // the client records every outcome: an I after an I is a bug
                    ++v.errors;
                    note(v, h.name + ": an addition sent before the last one's outcome");
                }
                in_flight = true;
            } else if (kind == "A") {
                std::int64_t value = 0;
                fields >> value;
                ++v.acknowledged;
                in_flight = false;
                if (!acknowledged_values.insert(value).second) {
                    ++v.duplicates;
                    note(v, h.name + ": value " + std::to_string(value) +
                                " acknowledged twice (an addition lost)");
                }
                if (value < 1 || value > final_value || value <= last_value) {
                    ++v.impossible;
                    note(v, h.name + ": value " + std::to_string(value) + " after " +
                                std::to_string(last_value) + ", with the final value " +
                                std::to_string(final_value));
                }
                last_value = value;
            } else if (kind == "U") {
                ++v.in_doubt;
                in_flight = false;
            } else {
                read_common_line(v, h, kind, line, ended);
            }
        }
        if (in_flight) {
            // Killed with an addition in flight: in doubt; a process that ended cleanly has none.
            ++v.in_doubt;
            if (ended || !h.killed) {
                ++v.errors;
                note(v, h.name + ": an addition with no outcome in a process not killed");
            }
        }
        check_ended(v, h, ended);
    }
    const auto acknowledged = static_cast<std::int64_t>(v.acknowledged);
    const auto in_doubt = static_cast<std::int64_t>(v.in_doubt);
    if (final_value < acknowledged) {
        v.lost = static_cast<std::size_t>(acknowledged - final_value);
        note(v, "final value " + std::to_string(final_value) + " below the " +
                    std::to_string(acknowledged) + " acknowledged additions");
    } else if (final_value > acknowledged + in_doubt) {
        v.applied_twice = static_cast<std::size_t>(final_value - acknowledged - in_doubt);
        note(v, "final value " + std::to_string(final_value) + " above the " +
                    std::to_string(acknowledged) + " acknowledged additions and " +
                    std::to_string(in_doubt) + " in doubt");
    } else {
        v.in_doubt_landed = final_value - acknowledged;
    }
    return v;
}

counter_verdict check_counter_run(const std::string& dir, std::int64_t final_value) {
    return check_counter_histories(read_histories(dir, {"inc-"}), final_value);
}

}  // namespace zkr::faults
