// Reading a fault run's histories back: the client processes' files, and which of them the
// nemesis killed (nemesis.hist's "K NAME t" lines).
#pragma once

#include <string>
#include <vector>

namespace zkr::faults {

struct history_file {
    std::string name;     ///< the file's name, as problems call it
    std::string text;     ///< its lines
    bool killed = false;  ///< the nemesis killed its process (it cannot have ended cleanly)
};

/// The files NAME.hist in `dir` whose name starts with one of `prefixes`.
std::vector<history_file> read_histories(const std::string& dir,
                                         const std::vector<std::string>& prefixes);

/// How many lines of the histories of `dir` whose name starts with `prefix` start with `tag`
/// ("A ": the acknowledged operations so far, while a long run goes on).
std::size_t count_lines(const std::string& dir, const std::string& prefix, const std::string& tag);

/// Lines as a history file holds them (the checkers' tests write histories by hand).
std::string lines_of(const std::vector<std::string>& lines);

/// Adds `problem` to a checker's verdict, which describes the first few only.
template <class Verdict>
void note(Verdict& v, std::string problem) {
    constexpr std::size_t max_problems = 10;
    if (v.problems.size() < max_problems) {
        v.problems.push_back(std::move(problem));
    }
}

/// The lines every client's history may hold besides its own kinds: S (started), D (ended
/// cleanly: sets `ended`) and R (an error the client reported, one of the verdict's errors);
/// any other kind is an unknown line, an error too.
template <class Verdict>
void read_common_line(Verdict& v, const history_file& h, const std::string& kind,
                      const std::string& line, bool& ended) {
    if (kind == "D") {
        ended = true;
    } else if (kind == "R") {
        ++v.errors;
        note(v, h.name + ": " + line);
    } else if (kind != "S") {
        ++v.errors;
        note(v, h.name + ": unknown line " + line);
    }
}

/// A history that did not end cleanly is an error, unless the nemesis killed its process.
template <class Verdict>
void check_ended(Verdict& v, const history_file& h, bool ended) {
    if (!ended && !h.killed) {
        ++v.errors;
        note(v, h.name + ": did not end cleanly, and was not killed");
    }
}

}  // namespace zkr::faults
