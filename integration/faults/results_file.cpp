#include "results_file.hpp"

#include "../test_support.hpp"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <vector>

namespace zkr::faults {

std::string results_path() {
    const char* env = std::getenv("ZKR_FAULTS_RESULTS");
    return env != nullptr ? env : test::source_dir() + "/integration/faults/RESULTS.md";
}

std::string produced_by(const std::string& command) {
    const auto now = std::time(nullptr);
    char date[64];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
    return std::string("Produced ") + date +
           " on a 2-core machine shared with other builds, by:\n\n" + "```sh\n" + command +
           "\n```\n\n";
}

void replace_results_section(const std::string& file, const std::string& heading,
                             const std::string& body) {
    std::vector<std::string> lines;
    {
        std::ifstream in(file);
        for (std::string line; std::getline(in, line);) {
            lines.push_back(line);
        }
    }
    std::size_t begin = 0;
    while (begin < lines.size() && lines[begin] != heading) {
        ++begin;
    }
    const bool found = begin < lines.size();
    if (!found) {
        begin = heading.starts_with("## ") ? lines.size() : 0;
    }
    std::size_t end = found ? begin + 1 : begin;
    while (found && end < lines.size() && !lines[end].starts_with("## ")) {
        ++end;
    }
    std::ostringstream out;
    for (std::size_t i = 0; i < begin; ++i) {
        out << lines[i] << "\n";
    }
    if (begin > 0 && !lines[begin - 1].empty()) {
        out << "\n";
    }
    out << heading << "\n\n" << body;
    if (!body.ends_with("\n")) {
        out << "\n";
    }
    if (end < lines.size()) {
        out << "\n";
    }
    for (std::size_t i = end; i < lines.size(); ++i) {
        out << lines[i] << "\n";
    }
    std::ofstream(file) << out.str();
}

}  // namespace zkr::faults
