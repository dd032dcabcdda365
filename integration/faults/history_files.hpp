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

}  // namespace zkr::faults
