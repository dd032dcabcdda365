#include "checker.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

namespace zkr::faults {
namespace {

constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

struct section {
    long pid = 0;
    std::int64_t token = 0;
    std::int64_t enter = 0;
    std::int64_t exit = never;     // X time, or kill time
    std::int64_t told = never;     // first time the holder knew of loss (L, or X with lost=1)
    std::int64_t frozen = never;   // first SIGSTOP of the holder inside the section
    std::int64_t evicted = never;  // a forced revocation of its node started
    bool killed = false;
    bool lost = false;
    bool held_through = false;  // held on through a partition until told of loss (H)
    /// End of the accountable interval: the holder answers for the section until it left it,
    /// was told of loss, was killed, was frozen or was evicted, whichever came first.
    std::int64_t accountable_end() const { return std::min({exit, told, frozen, evicted}); }
};

std::string ms(std::int64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(ns) / 1e6);
    return buf;
}

/// The time of a history line (history.hpp), 0 if it has none.
std::int64_t time_of(const std::string& line) {
    std::istringstream f(line);
    std::string kind;
    f >> kind;
    // Fields before the time: S C T R D K Z V F: 1 (pid, token or fault kind); E L X H, and the
    // resource's A J: 2 (pid and token); W: 3 (pid, token and accepted).
    int skip = 1;
    if (kind == "E" || kind == "L" || kind == "X" || kind == "H" || kind == "A" || kind == "J") {
        skip = 2;
    } else if (kind == "W") {
        skip = 3;
    }
    std::string field;
    for (int i = 0; i < skip && f >> field; ++i) {
    }
    std::int64_t t = 0;
    return f >> t ? t : 0;
}

/// Every history line of `dir` (the clients', the nemesis's and the resource's) timed within
/// [from, to], in time order, each with its file and its time relative to `origin` (ms).
std::string lines_between(const std::string& dir, std::int64_t from, std::int64_t to,
                          std::int64_t origin) {
    namespace fs = std::filesystem;
    std::vector<std::pair<std::int64_t, std::string>> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        if (entry.path().extension() != ".hist" && name != "resource.log") {
            continue;
        }
        std::ifstream in(entry.path());
        std::string line;
        while (std::getline(in, line)) {
            const auto t = time_of(line);
            if (t >= from && t <= to) {
                found.emplace_back(t, name + " @" + ms(t - origin) + ": " + line);
            }
        }
    }
    std::sort(found.begin(), found.end());
    std::string out;
    const std::size_t most = 60;
    for (std::size_t i = 0; i < found.size() && i < most; ++i) {
        out += "\n    " + found[i].second;
    }
    if (found.size() > most) {
        out += "\n    ... " + std::to_string(found.size() - most) + " more";
    }
    return out;
}

}  // namespace

bool report::ok() const {
    return overlaps == 0 && stale_accepted == 0 && token_order_violations == 0 &&
           unterminated == 0 && held_through_untold == 0 && leftover_znodes == 0 && sections > 0 &&
           std::all_of(faults.begin(), faults.end(),
                       [](const auto& f) { return f.second.without_recovery == 0; });
}

report check_run(const std::string& name, const std::string& dir, int max_holders,
                 bool check_token_order) {
    namespace fs = std::filesystem;
    report r;
    r.name = name;
    r.max_holders = max_holders;

    std::map<long, std::int64_t> killed_at;                             // pid -> time
    std::multimap<long, std::pair<std::int64_t, std::int64_t>> frozen;  // pid -> [stop, cont]
    std::map<std::int64_t, std::int64_t> evicted_at;                    // token -> time
    struct fault {
        std::string kind;
        std::int64_t start = 0;
        std::int64_t end = 0;
        std::int64_t quorum = 0;  // partitions: a quorum serves again (0: not a partition)
    };
    std::vector<fault> faults;
    {
        std::ifstream in(dir + "/nemesis.hist");
        std::string line;
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string kind;
            f >> kind;
            if (kind == "F") {
                fault x;
                long pid = 0;
                f >> x.kind >> x.start >> x.end >> pid;
                if (!(f >> x.quorum)) {
                    x.quorum = 0;
                }
                faults.push_back(x);
            } else if (kind == "K") {
                long pid = 0;
                std::int64_t t = 0;
                f >> pid >> t;
                killed_at[pid] = t;
            } else if (kind == "Z") {
                long pid = 0;
                std::int64_t a = 0, b = 0;
                f >> pid >> a >> b;
                frozen.emplace(pid, std::make_pair(a, b));
            } else if (kind == "V") {
                std::int64_t token = 0, t = 0;
                f >> token >> t;
                evicted_at[token] = t;
            }
        }
    }

    std::vector<section> sections;
    std::int64_t first_start = never, last_time = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".hist" || entry.path().filename() == "nemesis.hist") {
            continue;
        }
        std::ifstream in(entry.path());
        std::string line;
        std::map<long, std::size_t> open;  // pid -> index in sections
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string kind;
            long pid = 0;
            f >> kind >> pid;
            if (kind == "S") {
                std::int64_t t = 0;
                f >> t;
                first_start = std::min(first_start, t);
                ++r.processes;
            } else if (kind == "E") {
                section s;
                s.pid = pid;
                f >> s.token >> s.enter;
                last_time = std::max(last_time, s.enter);
                if (open.count(pid) != 0) {
                    r.violations.push_back(entry.path().filename().string() + ": pid " +
                                           std::to_string(pid) + " entered twice");
                    ++r.unterminated;
                }
                open[pid] = sections.size();
                sections.push_back(s);
            } else if (kind == "H") {
                if (auto it = open.find(pid); it != open.end()) {
                    sections[it->second].held_through = true;
                }
            } else if (kind == "L") {
                std::int64_t token = 0, t = 0;
                f >> token >> t;
                // Only the section of that token: a late handler of the process's previous
                // section must not count as the next one being told.
                if (auto it = open.find(pid);
                    it != open.end() && sections[it->second].token == token) {
                    auto& s = sections[it->second];
                    s.told = std::min(s.told, t);
                    s.lost = true;
                }
            } else if (kind == "X") {
                std::int64_t token = 0, t = 0;
                int lost = 0;
                f >> token >> t >> lost;
                last_time = std::max(last_time, t);
                if (auto it = open.find(pid); it != open.end()) {
                    auto& s = sections[it->second];
                    s.exit = t;
                    if (lost != 0) {
                        s.lost = true;
                        s.told = std::min(s.told, t);
                    }
                    open.erase(it);
                }
            } else if (kind == "T") {
                ++r.timeouts;
            } else if (kind == "R") {
                // Session ends are reported as R lines too; they are not errors.
                std::int64_t t = 0;
                std::string what;
                f >> t >> what;
                if (what.rfind("session:", 0) != 0) {
                    ++r.errors;
                }
            } else if (kind == "D") {
                ++r.clean_exits;
            }
        }
        for (const auto& [pid, index] : open) {
            auto& s = sections[index];
            if (auto k = killed_at.find(pid); k != killed_at.end() && k->second >= s.enter) {
                s.exit = k->second;
                s.killed = true;
            } else {
                ++r.unterminated;
                r.violations.push_back("pid " + std::to_string(pid) + " token " +
                                       std::to_string(s.token) +
                                       ": section never exited and the process was not killed");
            }
        }
    }
    for (auto& s : sections) {
        if (auto v = evicted_at.find(s.token); v != evicted_at.end() && v->second >= s.enter) {
            s.evicted = v->second;
            ++r.evicted_sections;
        }
        auto [a, b] = frozen.equal_range(s.pid);
        for (auto it = a; it != b; ++it) {
            if (it->second.first >= s.enter && it->second.first <= s.exit) {
                s.frozen = std::min(s.frozen, it->second.first);
            }
        }
        if (s.held_through && !s.killed) {
            ++r.held_through;
            // Its server lost its quorum under it: zkr must say so before the section ends.
            r.held_through_untold += s.lost ? 0 : 1;
            if (!s.lost && r.violations.size() < 20) {
                r.violations.push_back("pid " + std::to_string(s.pid) + " token " +
                                       std::to_string(s.token) +
                                       ": held through a partition and never told of the loss");
            }
        }
        r.lost_sections += s.lost ? 1 : 0;
        r.killed_sections += s.killed ? 1 : 0;
        r.frozen_sections += s.frozen != never ? 1 : 0;
    }
    std::sort(sections.begin(), sections.end(),
              [](const section& a, const section& b) { return a.enter < b.enter; });
    r.sections = sections.size();

    // Accountable intervals: at most max_holders at any instant (sweep line; an exit at the same
    // instant as an entry counts first).
    {
        std::vector<std::pair<std::int64_t, int>> events;
        for (std::size_t i = 0; i < sections.size(); ++i) {
            events.emplace_back(sections[i].enter, 1);
            events.emplace_back(std::min(sections[i].accountable_end(), last_time + 1), -1);
        }
        std::sort(events.begin(), events.end());
        int inside = 0;
        for (const auto& [t, d] : events) {
            inside += d;
            r.max_inside = std::max(r.max_inside, static_cast<std::size_t>(std::max(inside, 0)));
            if (d > 0 && inside > max_holders) {
                ++r.overlaps;
                if (max_holders > 1 && r.violations.size() < 10) {
                    r.violations.push_back(std::to_string(inside) + " accountable holders at " +
                                           ms(t - first_start) + " ms");
                }
            }
        }
        // For a lock, spell out the first few overlapping pairs.
        for (std::size_t i = 0; max_holders == 1 && i < sections.size() && r.violations.size() < 10;
             ++i) {
            std::size_t holders = 1;
            for (std::size_t j = i + 1; j < sections.size(); ++j) {
                if (sections[j].enter >= sections[i].accountable_end()) {
                    break;
                }
                if (sections[j].pid == sections[i].pid) {
                    continue;
                }
                if (++holders > static_cast<std::size_t>(max_holders)) {
                    const auto& a = sections[i];
                    const auto& b = sections[j];
                    r.violations.push_back(
                        "overlap: pid " + std::to_string(a.pid) + " token " +
                        std::to_string(a.token) + " (entered " + ms(a.enter - first_start) +
                        " ms, accountable until " + ms(a.accountable_end() - first_start) +
                        " ms, lost " + std::to_string(a.lost) + ") and pid " +
                        std::to_string(b.pid) + " token " + std::to_string(b.token) + " (entered " +
                        ms(b.enter - first_start) + " ms); the histories from 20 ms before " +
                        "its entry:" +
                        lines_between(
                            dir, a.enter - 20'000'000,
                            std::max(std::min(a.accountable_end(), last_time), b.enter) + 5'000'000,
                            first_start));
                    break;
                }
            }
        }
    }

    if (check_token_order) {
        for (std::size_t i = 1; i < sections.size(); ++i) {
            if (sections[i].token <= sections[i - 1].token) {
                ++r.token_order_violations;
                if (r.violations.size() < 20) {
                    r.violations.push_back("token order: " + std::to_string(sections[i - 1].token) +
                                           " then " + std::to_string(sections[i].token));
                }
            }
        }
    }

    {
        std::ifstream in(dir + "/resource.log");
        std::string line;
        std::int64_t highest = 0;
        while (std::getline(in, line)) {
            std::istringstream f(line);
            std::string kind;
            long pid = 0;
            std::int64_t token = 0;
            f >> kind >> pid >> token;
            if (kind == "A") {
                ++r.writes_accepted;
                if (token < highest) {
                    ++r.stale_accepted;
                }
                highest = std::max(highest, token);
            } else if (kind == "J") {
                ++r.writes_rejected;
            }
        }
    }

    for (const auto& f : faults) {
        auto& st = r.faults[f.kind];
        ++st.count;
        // The window: from the fault's start until the first entry after its end. The gap: the
        // longest part of that window with no accountable holder.
        const auto next = std::find_if(sections.begin(), sections.end(),
                                       [&](const section& s) { return s.enter > f.end; });
        if (next == sections.end()) {
            ++st.without_recovery;
            r.violations.push_back("no acquisition after fault " + f.kind + " at " +
                                   ms(f.start - first_start) + " ms");
            continue;
        }
        std::int64_t covered_until = f.start, gap = 0;
        for (const auto& s : sections) {
            if (s.enter > next->enter) {
                break;
            }
            const auto end = std::min(s.accountable_end(), last_time);
            if (end <= covered_until) {
                continue;
            }
            if (s.enter > covered_until) {
                gap = std::max(gap, s.enter - covered_until);
            }
            covered_until = std::max(covered_until, end);
        }
        st.max_gap_ns = std::max(st.max_gap_ns, gap);
        st.total_gap_ns += gap;
        // After a partition, ZooKeeper first elects a leader again (which zkr cannot hasten):
        // liveness counts from the first quorum after the heal, reported on its own.
        const auto from = std::max(f.end, f.quorum);
        if (f.quorum != 0) {
            st.max_quorum_ns = std::max(st.max_quorum_ns, from - f.end);
        }
        st.max_recovery_ns =
            std::max(st.max_recovery_ns, std::max<std::int64_t>(0, next->enter - from));
    }

    if (first_start != never && last_time > first_start) {
        r.duration_s = static_cast<double>(last_time - first_start) / 1e9;
        r.acquisitions_per_s = static_cast<double>(r.sections) / r.duration_s;
    }
    return r;
}

std::string summary_table(const std::vector<report>& reports) {
    std::ostringstream out;
    char buf[512];
    out << "| run | sections | acq/s | told of loss | held through a cut (untold) | killed | "
           "frozen | evicted | timeouts | "
           "rejected writes | stale accepted | overlaps | max inside | token order | "
           "unterminated | znodes left | verdict |\n";
    out << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
    for (const auto& r : reports) {
        std::snprintf(
            buf, sizeof buf,
            "| %s | %zu | %.1f | %zu | %zu (%zu) | %zu | %zu | %zu | %zu | %zu | %zu | %zu "
            "| %zu/%d | %zu | %zu | %lld | %s |\n",
            r.name.c_str(), r.sections, r.acquisitions_per_s, r.lost_sections, r.held_through,
            r.held_through_untold, r.killed_sections, r.frozen_sections, r.evicted_sections,
            r.timeouts, r.writes_rejected, r.stale_accepted, r.overlaps, r.max_inside,
            r.max_holders, r.token_order_violations, r.unterminated,
            static_cast<long long>(r.leftover_znodes), r.ok() ? "pass" : "FAIL");
        out << buf;
    }
    out << "\n| run | fault | times | longest time without a holder (ms) | mean (ms) | longest "
           "from the heal to a serving quorum (ms) | longest from the fault's end (partitions: "
           "that quorum) to the next holder (ms) | no recovery |\n";
    out << "|---|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& r : reports) {
        for (const auto& [kind, st] : r.faults) {
            const int measured = st.count - st.without_recovery;
            const auto quorum = st.max_quorum_ns < 0 ? std::string("-") : ms(st.max_quorum_ns);
            std::snprintf(
                buf, sizeof buf, "| %s | %s | %d | %.0f | %.0f | %s | %.0f | %d |\n",
                r.name.c_str(), kind.c_str(), st.count, static_cast<double>(st.max_gap_ns) / 1e6,
                measured > 0 ? static_cast<double>(st.total_gap_ns) / 1e6 / measured : 0.0,
                quorum.c_str(), static_cast<double>(st.max_recovery_ns) / 1e6, st.without_recovery);
            out << buf;
        }
    }
    return out.str();
}

}  // namespace zkr::faults
