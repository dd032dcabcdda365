// Reading zkr's command line, and the usage text, from the option and command tables.
#pragma once

#include "options.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace zkr::cli {

/// Parses argv. Returns nullopt, with `error` set, for a usage error.
std::optional<options> parse_options(int argc, char** argv, std::string& error);

/// The usage of every command, or of `command` only.
std::string usage_text(std::string_view command = {});

}  // namespace zkr::cli
