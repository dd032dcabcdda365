// libFuzzer target for the child-name parser and the queue rules (recipes/contender.*).
//
// The input is split at '\n' into child names. Properties checked:
// - parse_contender never crashes, and what it accepts round-trips: the name is kept as is, the
//   sequence is the number after the marker, the role matches the kind;
// - sorted_contenders keeps exactly the parsable names, ordered by (sequence, name), and puts
//   every other name in `unknown`;
// - evaluate and holders agree: a contender is acquired exactly when holders() says it holds,
//   the head holds, at most one exclusive contender holds and never beside a shared one, and
//   the node to watch is ahead of us in the queue.
#include "contender.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace zkr::detail;
    const std::string input(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> names;
    std::size_t start = 0;
    while (start <= input.size() && names.size() < 64) {
        auto end = input.find('\n', start);
        if (end == std::string::npos) {
            end = input.size();
        }
        names.push_back(input.substr(start, end - start));
        start = end + 1;
    }

    std::size_t parsable = 0;
    for (const auto& n : names) {
        if (auto c = parse_contender(n)) {
            ++parsable;
            require(c->name == n);
            require(c->sequence >= 0);
            require(!c->role.empty());
            require((c->kind == contender_kind::shared) == (c->role == "read"));
            const auto digits = std::to_string(c->sequence);
            // The name ends with the sequence's digits (leading zeros allowed).
            require(n.size() >= digits.size() &&
                    n.compare(n.size() - digits.size(), digits.size(), digits) == 0);
        }
    }

    std::vector<std::string> unknown;
    const auto queue = sorted_contenders(names, &unknown);
    require(queue.size() == parsable);
    require(queue.size() + unknown.size() == names.size());
    for (std::size_t i = 1; i < queue.size(); ++i) {
        require(queue[i - 1].sequence < queue[i].sequence ||
                (queue[i - 1].sequence == queue[i].sequence && queue[i - 1].name <= queue[i].name));
    }

    const auto held = holders(queue);
    require(held.size() == queue.size());
    if (!queue.empty()) {
        require(held[0]);
    }
    std::size_t exclusive_holders = 0, shared_holders = 0;
    for (std::size_t i = 0; i < queue.size(); ++i) {
        if (held[i]) {
            (queue[i].kind == contender_kind::exclusive ? exclusive_holders : shared_holders)++;
        }
    }
    require(exclusive_holders <= 1);
    require(exclusive_holders == 0 || shared_holders == 0);

    for (std::size_t i = 0; i < queue.size(); ++i) {
        // The one-pass evaluation over the raw listing agrees with the sorted queue.
        const auto view = evaluate(names, queue[i].name);
        require(view.found);
        // Duplicate names (impossible in ZooKeeper) resolve to the first occurrence.
        const auto first = static_cast<std::size_t>(
            std::find_if(queue.begin(), queue.end(),
                         [&](const contender& c) { return c.name == queue[i].name; }) -
            queue.begin());
        require(view.position == first);
        require(view.acquired == held[first]);
        require(view.acquired == (view.blockers == 0));
        require(view.acquired == view.watch.empty());
        if (!view.watch.empty()) {
            const auto w = std::find_if(queue.begin(), queue.end(),
                                        [&](const contender& c) { return c.name == view.watch; });
            require(w != queue.end() && static_cast<std::size_t>(w - queue.begin()) < first);
            require(view.watch_is_last_blocker == (view.blockers == 1));
        }
    }
    require(!evaluate(names, "\n").found);
    return 0;
}
