// The words of a command line, read left to right, and the first usage error met in them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zkr::cli {

class argument_reader {
  public:
    /// argv without the program's name.
    argument_reader(int argc, char** argv);

    bool done() const { return next_ >= words_.size(); }
    const std::string& current() const { return words_[next_]; }
    void advance() { ++next_; }
    /// The words after the current one (the command after "--").
    std::vector<std::string> rest() const;

    /// Takes the word after option `name` as its value; false, with the error, when there is none.
    bool value(std::string_view name, std::string& out);
    /// value() as a whole number from `low` to `high`. Every number is checked against its range:
    /// an out-of-range value is a usage error, never a wrapped or saturated value that changes the
    /// meaning of the command.
    bool number(std::string_view name, long long low, long long high, long long& out);

    /// Records a usage error; returns false, for `return words.fail(...)`.
    bool fail(std::string message);
    const std::string& error() const { return error_; }

  private:
    std::vector<std::string> words_;
    std::size_t next_ = 0;
    std::string error_;
};

/// "-x" or "--xyz": a word that can only be an option (a PATH or an action starts otherwise).
inline bool looks_like_option(std::string_view word) {
    return !word.empty() && word[0] == '-';
}

}  // namespace zkr::cli
