#include "history_files.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace zkr::faults {
namespace {

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::vector<history_file> read_histories(const std::string& dir,
                                         const std::vector<std::string>& prefixes) {
    std::set<std::string> killed;
    std::istringstream nemesis(read_file(std::filesystem::path(dir) / "nemesis.hist"));
    for (std::string line; std::getline(nemesis, line);) {
        std::istringstream fields(line);
        std::string kind, name;
        fields >> kind >> name;
        if (kind == "K") {
            killed.insert(name);
        }
    }
    std::vector<history_file> histories;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const auto name = entry.path().filename().string();
        if (name.ends_with(".hist") &&
            std::any_of(prefixes.begin(), prefixes.end(),
                        [&](const std::string& p) { return name.starts_with(p); })) {
            histories.push_back({name, read_file(entry.path()), killed.contains(name)});
        }
    }
    std::sort(histories.begin(), histories.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return histories;
}

std::size_t count_lines(const std::string& dir, const std::string& prefix, const std::string& tag) {
    std::size_t n = 0;
    for (const auto& h : read_histories(dir, {prefix})) {
        std::istringstream lines(h.text);
        for (std::string line; std::getline(lines, line);) {
            n += line.starts_with(tag) ? 1 : 0;
        }
    }
    return n;
}

std::string lines_of(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& line : lines) {
        text += line + "\n";
    }
    return text;
}

}  // namespace zkr::faults
