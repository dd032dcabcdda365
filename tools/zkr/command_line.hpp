// Reading zkr's command line, and the usage text, from the option and command tables.
#pragma once

#include "options.hpp"

#include <optional>
#include <string>

namespace zkr::cli {

/// Parses argv. Returns nullopt with `error` empty for --help, with `error` set for a usage error.
std::optional<options> parse_options(int argc, char** argv, std::string& error);

std::string usage_text();

}  // namespace zkr::cli
