// Internal logging front: formats only when a record would be kept, and keeps Boost.Log's heavy
// headers out of every translation unit but log.cpp.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace zkr::detail {

enum class log_level { trace, debug, info, warning, error };

/// False when Boost.Log's core would drop every record (logging disabled).
bool log_enabled() noexcept;

void log_write(log_level level, std::string_view channel, const std::string& message);

/// Sets the C client's (process-wide) log level; its records are forwarded to Boost.Log.
void set_client_log_level(int zoo_level);

/// The C client's log callback (pass it to zookeeper_init2): forwards to channel "zkr.client".
using client_log_fn = void (*)(const char*);
client_log_fn client_log_callback() noexcept;

}  // namespace zkr::detail

#define ZKR_LOG(level, channel, expr)                                                              \
    do {                                                                                           \
        if (::zkr::detail::log_enabled()) {                                                        \
            std::ostringstream zkr_log_os_;                                                        \
            zkr_log_os_ << expr; /* NOLINT(bugprone-macro-parentheses): a << chain */              \
            ::zkr::detail::log_write(::zkr::detail::log_level::level, channel, zkr_log_os_.str()); \
        }                                                                                          \
    } while (false)
