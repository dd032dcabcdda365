#include "log.hpp"

#include "client_gate.hpp"

#include <zkr/log.hpp>

#include <boost/log/attributes/constant.hpp>
#include <boost/log/core.hpp>
#include <boost/log/sources/record_ostream.hpp>
#include <boost/log/sources/severity_channel_logger.hpp>

#include <zookeeper/zookeeper.h>

#include <cstring>

namespace zkr::detail {
namespace {

namespace trivial = boost::log::trivial;

trivial::severity_level to_severity(log_level level) {
    switch (level) {
        case log_level::trace:
            return trivial::trace;
        case log_level::debug:
            return trivial::debug;
        case log_level::info:
            return trivial::info;
        case log_level::warning:
            return trivial::warning;
        case log_level::error:
            return trivial::error;
    }
    return trivial::info;
}

using logger_type =
    boost::log::sources::severity_channel_logger_mt<trivial::severity_level, std::string>;

// The C client formats "...:ZOO_INFO@function@line: text". Its INFO chatter (a dozen lines per
// connection) is routine for us, so it goes to debug; warnings and errors keep their weight.
log_level client_level(const char* message) {
    if (std::strstr(message, "ZOO_ERROR@") != nullptr) {
        return log_level::error;
    }
    if (std::strstr(message, "ZOO_WARN@") != nullptr) {
        return log_level::warning;
    }
    if (std::strstr(message, "ZOO_DEBUG@") != nullptr) {
        return log_level::trace;
    }
    return log_level::debug;
}

void forward_client_log(const char* message) {
    if (message == nullptr || !log_enabled()) {
        return;
    }
    std::string_view text(message);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    log_write(client_level(message), "zkr.client", std::string(text));
}

}  // namespace

bool log_enabled() noexcept {
    try {
        return boost::log::core::get()->get_logging_enabled();
    } catch (...) {
        return false;
    }
}

void log_write(log_level level, std::string_view channel, const std::string& message) {
    try {
        logger_type logger(boost::log::keywords::channel = std::string(channel));
        BOOST_LOG_SEV(logger, to_severity(level)) << message;
    } catch (...) {
        // Logging must never take the library down.
    }
}

void set_client_log_level(int zoo_level) {
    client_gate gate;  // a process-wide variable the C client reads inside its calls
    zoo_set_debug_level(static_cast<ZooLogLevel>(zoo_level));
}

client_log_fn client_log_callback() noexcept {
    return &forward_client_log;
}

}  // namespace zkr::detail
