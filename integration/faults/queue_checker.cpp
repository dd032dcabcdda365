#include "queue_checker.hpp"

#include <map>
#include <set>
#include <sstream>

namespace zkr::faults {
namespace {

/// The sequence number of an item's node ("qn-0000000042": 42); -1 if it has none.
long long sequence_of(const std::string& node) {
    const auto dash = node.rfind('-');
    try {
        return dash == std::string::npos ? -1 : std::stoll(node.substr(dash + 1));
    } catch (const std::exception&) {
        return -1;
    }
}

/// What one run's histories add up to, item by item.
struct tally {
    std::map<std::string, bool> put;  ///< item -> acknowledged (else in doubt)
    std::map<std::string, std::size_t> delivered;
    std::set<std::string> completion_in_doubt;
};

void read_producer(const queue_history& h, queue_verdict& v, tally& t) {
    ++v.producers;
    std::istringstream lines(h.text);
    std::string in_flight;  // the item of a P whose outcome is not recorded yet
    bool ended = false;
    long long last_sequence = -1;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string kind, item, node;
        long long time = 0;
        fields >> kind >> time >> item >> node;
        if (kind == "P") {
            in_flight = item;
        } else if (kind == "A") {
            ++v.acknowledged;
            t.put[item] = true;
            in_flight.clear();
            const auto sequence = sequence_of(node);
            if (sequence <= last_sequence) {
                ++v.out_of_order;
                note(v, h.name + ": " + item + " queued at " + node + ", not after sequence " +
                            std::to_string(last_sequence));
            }
            last_sequence = sequence;
        } else if (kind == "U") {
            ++v.put_in_doubt;
            t.put.emplace(item, false);
            in_flight.clear();
        } else {
            read_common_line(v, h, kind, line, ended);
        }
    }
    if (!in_flight.empty()) {
        ++v.put_in_doubt;
        t.put.emplace(in_flight, false);
        if (!h.killed) {
            ++v.errors;
            note(v, h.name + ": a put with no outcome in a process not killed");
        }
    }
    check_ended(v, h, ended);
}

void read_consumer(const queue_history& h, bool claims, queue_verdict& v, tally& t) {
    ++v.consumers;
    std::istringstream lines(h.text);
    std::string completing;  // the item of an M whose outcome is not recorded yet
    bool waiting = false;    // a W with no item after it
    bool ended = false;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string kind, item;
        long long time = 0;
        fields >> kind >> time >> item;
        if (kind == "W") {
            waiting = true;
        } else if (kind == "C") {
            waiting = false;
        } else if (kind == "M") {
            completing = item;
        } else if (kind == "K" || kind == "T") {
            waiting = false;
            completing.clear();
            ++v.delivered;
            ++t.delivered[item];
        } else if (kind == "L") {
            ++v.refused;
            completing.clear();
        } else if (kind == "Q") {
            ++v.delivery_in_doubt;
            t.completion_in_doubt.insert(item);
            completing.clear();
        } else if (kind == "V") {
            ++v.delivery_in_doubt;
            waiting = false;
        } else if (kind == "E") {
            waiting = false;  // the session ended under the wait: nothing was delivered
        } else {
            read_common_line(v, h, kind, line, ended);
        }
    }
    // Killed in flight: a completion sent may have landed; a take may have removed an item.
    // (A wait that the stop file cancelled ends a clean history: it removed nothing.)
    if (!completing.empty()) {
        ++v.delivery_in_doubt;
        t.completion_in_doubt.insert(completing);
        if (!h.killed) {
            ++v.errors;
            note(v, h.name + ": a completion with no outcome in a process not killed");
        }
    }
    if (waiting && !claims && h.killed) {
        ++v.delivery_in_doubt;
    }
    check_ended(v, h, ended);
}

}  // namespace

queue_verdict check_queue_histories(const std::vector<queue_history>& histories, bool claims) {
    queue_verdict v;
    tally t;
    for (const auto& h : histories) {
        if (h.name.starts_with("prod-")) {
            read_producer(h, v, t);
        } else {
            read_consumer(h, claims, v, t);
        }
    }
    for (const auto& [item, times] : t.delivered) {
        if (!t.put.contains(item)) {
            ++v.invented;
            note(v, item + " delivered, never put");
        }
        if (times > 1) {
            v.duplicates += times - 1;
            note(v, item + (claims ? " completed " : " taken ") + std::to_string(times) + " times");
        }
    }
    std::size_t never_delivered = 0;
    for (const auto& [item, acknowledged] : t.put) {
        if (!acknowledged || t.delivered.contains(item)) {
            continue;
        }
        if (claims && !t.completion_in_doubt.contains(item)) {
            ++v.lost;
            note(v, item + " acknowledged, never completed, and no completion of it in doubt");
        }
        ++never_delivered;
    }
    if (!claims && never_delivered > v.delivery_in_doubt) {
        v.lost = never_delivered - v.delivery_in_doubt;
        note(v, std::to_string(never_delivered) + " acknowledged items never taken, and only " +
                    std::to_string(v.delivery_in_doubt) + " takes in doubt");
    }
    return v;
}

queue_verdict check_queue_run(const std::string& dir, bool claims) {
    return check_queue_histories(read_histories(dir, {"prod-", "cons-"}), claims);
}

}  // namespace zkr::faults
