#include "results_file.hpp"

#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace zkr::faults {

bool long_mode() {
    const char* v = std::getenv("ZKR_FAULTS_LONG");
    return v != nullptr && *v != '\0' && std::string(v) != "0";
}

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

void results_table::add(std::string row) {
    std::printf("\n%s\n\n", row.c_str());
    rows.push_back(std::move(row));
    if (!long_mode()) {
        return;
    }
    std::ostringstream body;
    body << produced_by(
                "ZKR_FAULTS_LONG=1 build/integration/faults/zkr_faults_tests "
                "--gtest_filter='" +
                filter + "'")
         << preamble << "\n\n"
         << columns;
    for (const auto& r : rows) {
        body << r << "\n";
    }
    body << "\n" << footnote << "\n";
    const auto file = results_path();
    replace_results_section(file, heading, body.str());
    std::printf("written to %s\n", file.c_str());
}

void conclude_run(const std::string& run, const std::vector<std::string>& problems, bool passed,
                  const std::string& dir) {
    for (const auto& p : problems) {
        ADD_FAILURE() << run << ": " << p;
    }
    EXPECT_TRUE(passed) << run << ": histories in " << dir;
    if (passed && std::getenv("ZKR_FAULTS_KEEP") == nullptr) {
        std::filesystem::remove_all(dir);
    }
}

}  // namespace zkr::faults
