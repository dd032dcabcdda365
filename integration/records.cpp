#include "records.hpp"

#include "shell.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace zkr::test {

std::size_t check_record(const std::string& file, std::size_t max_inside) {
    std::ifstream in(file);
    std::string line;
    std::map<std::string, bool> inside;  // "<name> <pid>" -> shared?
    std::size_t exclusive = 0, shared = 0, sections = 0, line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        std::istringstream fields(line);
        std::string verb, name, pid;
        fields >> verb >> name >> pid;
        const auto who = name + " " + pid;
        const bool reader = verb == "enter-read" || verb == "exit-read";
        if (verb == "enter" || verb == "lead" || verb == "enter-read") {
            EXPECT_EQ(inside.count(who), 0u) << file << ":" << line_no << ": " << who << " twice";
            if (reader) {
                EXPECT_EQ(exclusive, 0u)
                    << file << ":" << line_no << ": reader " << who << " entered beside a writer";
                ++shared;
            } else {
                EXPECT_TRUE(exclusive < max_inside && shared == 0)
                    << file << ":" << line_no << ": " << who << " entered with " << exclusive
                    << " exclusive and " << shared << " shared holders inside";
                ++exclusive;
            }
            inside[who] = reader;
        } else if (verb == "exit" || verb == "unlead" || verb == "exit-read") {
            auto it = inside.find(who);
            EXPECT_TRUE(it != inside.end() && it->second == reader)
                << file << ":" << line_no << ": exit of " << who << " without its entry";
            if (it != inside.end()) {
                --(it->second ? shared : exclusive);
                inside.erase(it);
            }
            ++sections;
        }
    }
    return sections;
}

record_file::record_file() : path(fresh_temp_file("record")) {}

record_file::~record_file() {
    std::remove(path.c_str());
}

std::vector<std::int64_t> tokens_in(const std::string& record) {
    std::ifstream in(record);
    std::string line;
    std::vector<std::int64_t> tokens;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string verb, name, pid, token;
        f >> verb >> name >> pid >> token;
        if (verb == "enter" && !token.empty()) {
            tokens.push_back(std::stoll(token));
        }
    }
    return tokens;
}
}  // namespace zkr::test
