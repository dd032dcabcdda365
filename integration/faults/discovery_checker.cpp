#include "discovery_checker.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace zkr::faults {
namespace discovery_check {  // its own names: no clash with the other checkers in a unity build
namespace {

/// One V line: from `t` on, the observer listed these instances (id -> JSON).
struct view {
    std::int64_t t = 0;
    std::map<std::string, std::string> listed;

    /// The JSON listed for `id`, null when it is not listed.
    const std::string* data_of(const std::string& id) const {
        const auto found = listed.find(id);
        return found == listed.end() ? nullptr : &found->second;
    }
};

struct observer {
    std::string file;
    std::vector<view> views;  ///< in time order

    /// What the observer listed at `t`: null before its first view.
    const view* at(std::int64_t t) const {
        const view* found = nullptr;
        for (const auto& v : views) {
            if (v.t > t) {
                break;
            }
            found = &v;
        }
        return found;
    }
};

struct registrant {
    std::string file;
    std::vector<std::pair<std::int64_t, std::string>>
        writes;                              ///< every JSON it registered, in order
    std::optional<std::int64_t> registered;  ///< its first C
    bool ended = false;

    bool wrote(const std::string& json) const {
        return std::any_of(writes.begin(), writes.end(),
                           [&](const auto& w) { return w.second == json; });
    }
};

struct fault {
    std::string kind;
    std::string target;
    std::int64_t start = 0;
    std::int64_t heal = 0;
};

std::string ms(std::int64_t ns) {
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(1);
    out << static_cast<double>(ns) / 1e6 << " ms";
    return out.str();
}

void note(discovery_verdict& v, std::string problem) {
    if (v.problems.size() < 10) {
        v.problems.push_back(std::move(problem));
    }
}

/// The text after the first `n` space-separated words of `line`.
std::string rest_after(const std::string& line, int n) {
    std::size_t at = 0;
    for (int i = 0; i < n && at != std::string::npos; ++i) {
        at = line.find(' ', at);
        at = at == std::string::npos ? at : at + 1;
    }
    return at == std::string::npos ? std::string() : line.substr(at);
}

/// Counts R lines as errors; true when the history ends with D.
bool read_common(const std::string& kind, const std::string& line, const std::string& file,
                 discovery_verdict& v) {
    if (kind == "R") {
        ++v.errors;
        note(v, file + ": " + line);
    }
    return kind == "D";
}

registrant read_registrant(const std::string& path, std::string& id, discovery_verdict& v) {
    registrant r;
    r.file = std::filesystem::path(path).filename().string();
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string kind, role;
        std::int64_t t = 0;
        words >> kind >> t;
        if (kind == "S") {
            words >> role >> id;
        } else if (kind == "W") {
            r.writes.emplace_back(t, rest_after(line, 2));
        } else if (kind == "C" && !r.registered) {
            r.registered = t;
        }
        r.ended = read_common(kind, line, r.file, v) || r.ended;
    }
    return r;
}

observer read_observer(const std::string& path, bool& ended, discovery_verdict& v) {
    observer o;
    o.file = std::filesystem::path(path).filename().string();
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string kind, id;
        std::int64_t t = 0;
        words >> kind;
        if (kind == "I" && !o.views.empty()) {
            words >> id;
            o.views.back().listed[id] = rest_after(line, 2);
            continue;
        }
        words >> t;
        if (kind == "V") {
            o.views.push_back(view{t, {}});
            ++v.views;
        }
        ended = read_common(kind, line, o.file, v) || ended;
    }
    return o;
}

/// Every instance `o` listed is JSON its registrant wrote.
void check_invented(const observer& o, const std::map<std::string, registrant>& registrants,
                    discovery_verdict& v) {
    std::set<std::pair<std::string, std::string>> reported;
    for (const auto& view : o.views) {
        for (const auto& [id, json] : view.listed) {
            const auto r = registrants.find(id);
            if ((r == registrants.end() || !r->second.wrote(json)) &&
                reported.emplace(id, json).second) {
                ++v.invented;
                note(v, o.file + " @" + std::to_string(view.t) + ": listed " + id +
                            " with data no registrant wrote: " + json);
            }
        }
    }
}

/// At heal + B, `o` lists every registrant registered before the heal and alive then.
void check_listed(const observer& o, const fault& f, std::int64_t bound,
                  const std::map<std::string, registrant>& registrants,
                  const std::map<std::string, std::int64_t>& deaths, discovery_verdict& v) {
    const auto checkpoint = f.heal + bound;
    const auto* seen = o.at(checkpoint);
    for (const auto& [id, r] : registrants) {
        const auto death = deaths.find(id);
        if (!r.registered || *r.registered > f.heal ||
            (death != deaths.end() && death->second <= checkpoint)) {
            continue;
        }
        const auto listed = seen == nullptr ? nullptr : seen->data_of(id);
        if (listed == nullptr) {
            ++v.missing;
            note(v, o.file + ": " + id + " not listed " + ms(bound) + " after the heal of " +
                        f.kind + " (" + f.target + ")");
            continue;
        }
        // Its data was the registrant's within the bound: the registrant replaced it no earlier
        // than B before the checkpoint (the update may still be on its way).
        const auto& writes = r.writes;
        const auto last = std::find_if(writes.rbegin(), writes.rend(),
                                       [&](const auto& w) { return w.second == *listed; });
        if (last != writes.rend() && last != writes.rbegin() &&
            std::prev(last)->first < checkpoint - bound) {
            ++v.stale;
            note(v, o.file + ": " + id + " listed " + ms(bound) + " after the heal of " + f.kind +
                        " with data its registrant replaced " +
                        ms(checkpoint - std::prev(last)->first) + " before");
        }
        // When it began to be listed for good: the first of the views up to the checkpoint
        // that all list it, or the heal itself.
        std::int64_t since = -1;
        for (const auto& view : o.views) {
            if (view.t > checkpoint) {
                break;
            }
            if (view.listed.count(id) == 0) {
                since = -1;
            } else if (since == -1) {
                since = view.t;
            }
        }
        v.max_listed_ns = std::max(v.max_listed_ns, std::max<std::int64_t>(since - f.heal, 0));
    }
}

/// From death + B on, `o` never lists the registrant.
void check_gone(const observer& o, const std::string& id, std::int64_t death, std::int64_t bound,
                discovery_verdict& v) {
    const auto* at_bound = o.at(death + bound);
    bool lingered = at_bound != nullptr && at_bound->listed.count(id) != 0;
    std::int64_t gone = death;  // the first view after the last one that listed it
    bool listing = false;
    for (const auto& view : o.views) {
        const bool lists = view.listed.count(id) != 0;
        if (view.t > death + bound && lists) {
            lingered = true;
        }
        if (listing && !lists && view.t >= death) {
            gone = view.t;
        }
        listing = lists;
    }
    if (lingered || listing) {
        ++v.lingering;
        note(v, o.file + ": " + id + " still listed " + ms(bound) + " after its death");
        return;
    }
    v.max_gone_ns = std::max(v.max_gone_ns, gone - death);
}

discovery_verdict check_all(const std::string& dir, std::chrono::nanoseconds bound) {
    discovery_verdict v;
    std::vector<fault> faults;
    std::map<std::string, std::int64_t> deaths;
    {
        std::ifstream in(dir + "/nemesis.hist");
        for (std::string line; std::getline(in, line);) {
            std::istringstream words(line);
            std::string kind;
            words >> kind;
            if (kind == "F") {
                fault f;
                words >> f.kind >> f.start >> f.heal >> f.target;
                faults.push_back(f);
            } else if (kind == "K") {
                std::string id;
                std::int64_t t = 0;
                words >> id >> t;
                deaths[id] = t;
            }
        }
    }
    v.faults = faults.size();
    v.killed = deaths.size();

    std::map<std::string, registrant> registrants;
    std::vector<observer> observers;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
        const auto name = path.filename().string();
        if (name.starts_with("reg-")) {
            std::string id;
            auto r = read_registrant(path.string(), id, v);
            ++v.registrants;
            if (!r.ended && deaths.count(id) == 0) {
                ++v.errors;
                note(v, name + ": did not end cleanly, nor was it killed");
            }
            registrants.emplace(id, std::move(r));
        } else if (name.starts_with("obs-")) {
            bool ended = false;
            observers.push_back(read_observer(path.string(), ended, v));
            ++v.observers;
            if (!ended) {
                ++v.errors;
                note(v, name + ": did not end cleanly");
            }
        }
    }

    const auto b = static_cast<std::int64_t>(bound.count());
    for (const auto& o : observers) {
        check_invented(o, registrants, v);
        for (const auto& f : faults) {
            check_listed(o, f, b, registrants, deaths, v);
        }
        for (const auto& [id, death] : deaths) {
            check_gone(o, id, death, b, v);
        }
    }
    return v;
}

}  // namespace
}  // namespace discovery_check

discovery_verdict check_discovery_run(const std::string& dir, std::chrono::nanoseconds bound) {
    return discovery_check::check_all(dir, bound);
}

}  // namespace zkr::faults
