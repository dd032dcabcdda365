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

}  // namespace zkr::faults
