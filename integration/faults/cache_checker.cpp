#include "cache_checker.hpp"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace zkr::faults {
namespace {

/// One entry of a child's history: a state it had, or its deletion.
struct entry {
    bool exists = false;
    child_state state;  ///< for a deletion: the incarnation deleted (czxid)
};

using histories = std::map<std::string, std::vector<entry>>;

histories read_writer(const std::string& path, std::size_t& writes) {
    histories h;
    std::ifstream in(path);
    std::string kind, name;
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        entry e;
        words >> kind >> name >> e.state.czxid;
        if (kind == "S") {
            words >> e.state.mzxid;
            e.exists = true;
        } else if (kind != "A") {
            continue;
        }
        h[name].push_back(e);
        ++writes;
    }
    return h;
}

/// Where a report of `wanted` falls in `states`, after position `after` (-1: before the first).
std::optional<long> find_after(const std::vector<entry>& states, long after, bool exists,
                               const child_state& wanted) {
    for (auto i = static_cast<std::size_t>(after + 1); i < states.size(); ++i) {
        const auto& e = states[i];
        if (e.exists == exists && (exists ? e.state == wanted : e.state.czxid == wanted.czxid)) {
            return static_cast<long>(i);
        }
    }
    return std::nullopt;
}

void note(cache_verdict& v, std::string problem) {
    if (v.problems.size() < 10) {
        v.problems.push_back(std::move(problem));
    }
}

void check_one(const std::string& file, const histories& writer, const directory_state& final_state,
               cache_verdict& v) {
    ++v.caches;
    const auto cache = std::filesystem::path(file).filename().string();
    std::map<std::string, long> at;  // per node: the writer entry last matched
    directory_state snapshot;
    std::string mode = "children";
    bool ended = false;
    bool killed = false;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string kind;
        words >> kind;
        if (kind == "K") {
            words >> mode;
        } else if (kind == "X") {
            killed = true;
        } else if (kind == "Y") {
            ++v.resyncs;
        } else if (kind == "R") {
            ++v.errors;
            note(v, cache + ": " + line);
        } else if (kind == "D") {
            ended = true;
        } else if (kind == "F") {
            std::string name;
            child_state s;
            words >> name >> s.czxid >> s.mzxid;
            snapshot[name] = s;
        } else if (kind == "E") {
            std::string type, name;
            child_state s;
            words >> type >> name >> s.czxid >> s.mzxid;
            ++v.events;
            const bool exists = type != "removed";
            const auto found = writer.find(name);
            static const std::vector<entry> none;
            const auto& states = found == writer.end() ? none : found->second;
            auto [last, fresh] = at.try_emplace(name, -1);
            if (auto j = find_after(states, last->second, exists, s)) {
                last->second = *j;
            } else if (find_after(states, -1, exists, s)) {
                ++v.stale;
                note(v, cache + ": stale or repeated: " + line);
            } else {
                ++v.invented;
                note(v, cache + ": a state the server never had: " + line);
            }
        }
    }
    if (killed) {
        ++v.killed;
        return;  // neither an end nor a snapshot: its reports are what counts
    }
    if (!ended) {
        ++v.errors;
        note(v, cache + ": did not end cleanly");
    }
    const auto expected = seen_by(mode, final_state);
    if (snapshot != expected) {
        ++v.unconverged;
        note(v, cache + " (" + mode + "): its final snapshot (" + std::to_string(snapshot.size()) +
                    " nodes) is not the server's (" + std::to_string(expected.size()) + ")");
    }
    if (replay_cache_history(file) != snapshot) {
        ++v.inconsistent;
        note(v, cache + ": its events, replayed, do not give its snapshot");
    }
}

}  // namespace

directory_state replay_cache_history(const std::string& history) {
    directory_state view;
    std::ifstream in(history);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string kind, type, name;
        child_state s;
        words >> kind;
        if (kind != "E") {
            continue;
        }
        words >> type >> name >> s.czxid >> s.mzxid;
        if (type == "removed") {
            view.erase(name);
        } else {
            view[name] = s;
        }
    }
    return view;
}

directory_state seen_by(const std::string& mode, const directory_state& state) {
    directory_state out;
    for (const auto& [name, s] : state) {
        const bool seen =
            mode == "tree" ||
            (mode == "children" ? name.find('/') == std::string::npos : mode == "node:" + name);
        if (seen) {
            out.emplace(name, s);
        }
    }
    return out;
}

std::string cache_mode(const std::string& history) {
    std::ifstream in(history);
    std::string kind, mode;
    in >> kind >> mode;
    return kind == "K" ? mode : "children";
}

cache_verdict check_cache_run(const std::string& dir, const directory_state& final_state) {
    cache_verdict v;
    const auto writer = read_writer(dir + "/writer.hist", v.writes);
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
        const auto name = f.path().filename().string();
        if (name.starts_with("cache") && name.ends_with(".hist")) {
            check_one(f.path().string(), writer, final_state, v);
        }
    }
    return v;
}

}  // namespace zkr::faults
