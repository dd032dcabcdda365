// Internal logging front: a record below zkr's threshold costs one relaxed atomic load; only a
// record that will be kept is formatted. Boost.Log's heavy headers stay in log.cpp.
#pragma once

#include <zkr/log.hpp>

#include <sstream>
#include <string>
#include <string_view>

namespace zkr::detail {

/// True when a record at `l` would be kept: at or above zkr's threshold, and Boost.Log's core
/// is enabled.
bool log_enabled(log::level l) noexcept;

void log_write(log::level l, std::string_view channel, const std::string& message);

/// The C client's log callback (pass it to zookeeper_init2): forwards to log::channels::client.
using client_log_fn = void (*)(const char*);
client_log_fn client_log_callback() noexcept;

}  // namespace zkr::detail

#define ZKR_LOG(lvl, channel, expr)                                                       \
    do {                                                                                  \
        if (::zkr::detail::log_enabled(::zkr::log::level::lvl)) {                         \
            std::ostringstream zkr_log_os_;                                               \
            zkr_log_os_ << expr; /* NOLINT(bugprone-macro-parentheses): a << chain */     \
            ::zkr::detail::log_write(::zkr::log::level::lvl, channel, zkr_log_os_.str()); \
        }                                                                                 \
    } while (false)
