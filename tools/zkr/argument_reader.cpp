#include "argument_reader.hpp"

#include <charconv>

namespace zkr::cli {

argument_reader::argument_reader(int argc, char** argv) : words_(argv + 1, argv + argc) {}

std::vector<std::string> argument_reader::rest() const {
    return {words_.begin() + static_cast<std::ptrdiff_t>(next_) + 1, words_.end()};
}

bool argument_reader::value(std::string_view name, std::string& out) {
    if (next_ + 1 >= words_.size()) {
        return fail(std::string(name) + " needs a value");
    }
    out = words_[++next_];
    return true;
}

bool argument_reader::number(std::string_view name, long long low, long long high, long long& out) {
    std::string text;
    if (!value(name, text)) {
        return false;
    }
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (ec != std::errc{} || end != text.data() + text.size() || out < low || out > high) {
        return fail(std::string(name) + " takes a whole number from " + std::to_string(low) +
                    " to " + std::to_string(high) + ", not '" + text + "'");
    }
    return true;
}

bool argument_reader::fail(std::string message) {
    error_ = std::move(message);
    return false;
}

}  // namespace zkr::cli
