// Text for the tool's JSON output (--json): strings that stay valid JSON whatever bytes a node
// holds.
#pragma once

#include <string>

namespace zkr::cli {

/// Whether `s` is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(const std::string& s);

/// `s` as a JSON string. Text that is valid UTF-8 is written as it is (quotes, backslashes and
/// control characters escaped); other bytes only when `latin1`: then every byte is the character
/// of that code point (U+0000 to U+00FF; from 0x7f up as \u00XX), so that the string's
/// characters are the bytes one for one (Python: .encode("latin1")). The output is ASCII or
/// valid UTF-8 either way.
std::string json_string(const std::string& s, bool latin1 = false);

}  // namespace zkr::cli
