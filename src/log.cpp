#include "log.hpp"

#include "client_gate.hpp"
#include "loopback_names.hpp"

#include <boost/log/attributes/constant.hpp>
#include <boost/log/core.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_channel_logger.hpp>

#include <zookeeper/zookeeper.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <map>

namespace zkr {
namespace detail {
namespace {

namespace trivial = boost::log::trivial;

std::atomic<log::level> threshold{log::level::warning};

trivial::severity_level to_severity(log::level l) {
    switch (l) {
        case log::level::trace:
            return trivial::trace;
        case log::level::debug:
            return trivial::debug;
        case log::level::info:
            return trivial::info;
        case log::level::warning:
            return trivial::warning;
        case log::level::error:
        case log::level::off:
            return trivial::error;
    }
    return trivial::info;
}

// The C client formats "...:ZOO_INFO@function@line: text". Its INFO chatter (a dozen lines per
// connection) is routine for us, so it goes to debug; warnings and errors keep their weight.
log::level client_record_level(const char* message) {
    if (std::strstr(message, "ZOO_ERROR@") != nullptr) {
        return log::level::error;
    }
    if (std::strstr(message, "ZOO_WARN@") != nullptr) {
        return log::level::warning;
    }
    if (std::strstr(message, "ZOO_DEBUG@") != nullptr) {
        return log::level::trace;
    }
    return log::level::debug;
}

// The inverse of client_record_level: the C client formats only what zkr would keep (its level
// is a process-wide variable it reads inside its calls, hence the gate).
void follow_in_client(log::level l) {
    ZooLogLevel zoo = ZOO_LOG_LEVEL_ERROR;
    switch (l) {
        case log::level::trace:
            zoo = ZOO_LOG_LEVEL_DEBUG;
            break;
        case log::level::debug:
            zoo = ZOO_LOG_LEVEL_INFO;
            break;
        case log::level::info:
        case log::level::warning:
            zoo = ZOO_LOG_LEVEL_WARN;
            break;
        case log::level::error:
        case log::level::off:
            break;
    }
    client_gate gate;
    zoo_set_debug_level(zoo);
}

// The C client starts at its own default (INFO) until told otherwise: set it once, before the
// first session exists, from the default threshold.
const bool client_level_initialised = (follow_in_client(threshold.load()), true);

void forward_client_log(const char* message) {
    if (message == nullptr) {
        return;
    }
    const auto l = client_record_level(message);
    if (!log_enabled(l)) {
        return;
    }
    std::string_view text(message);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    log_write(l, log::channels::client, with_real_servers(text));
}

using logger_type =
    boost::log::sources::severity_channel_logger<trivial::severity_level, std::string>;

// One logger per channel and thread, made on the channel's first kept record there (the loggers
// without _mt are not thread-safe; one per thread needs no lock).
logger_type& logger_for(std::string_view channel) {
    thread_local std::map<std::string, logger_type, std::less<>> loggers;
    auto it = loggers.find(channel);
    if (it == loggers.end()) {
        it = loggers
                 .emplace(std::string(channel),
                          logger_type(boost::log::keywords::channel = std::string(channel)))
                 .first;
    }
    return it->second;
}

}  // namespace

bool log_enabled(log::level l) noexcept {
    if (l < threshold.load(std::memory_order_relaxed) || l == log::level::off) {
        return false;
    }
    try {
        return boost::log::core::get()->get_logging_enabled();
    } catch (...) {
        return false;
    }
}

void log_write(log::level l, std::string_view channel, const std::string& message) {
    try {
        BOOST_LOG_SEV(logger_for(channel), to_severity(l)) << message;
    } catch (...) {
        // Logging must never take the library down.
    }
}

client_log_fn client_log_callback() noexcept {
    (void)client_level_initialised;
    return &forward_client_log;
}

}  // namespace detail

namespace log {

void set_level(level l) noexcept {
    detail::threshold.store(l);
    detail::follow_in_client(l);
}

level get_level() noexcept {
    return detail::threshold.load();
}

}  // namespace log
}  // namespace zkr
