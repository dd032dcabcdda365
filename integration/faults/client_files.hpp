// What the client processes of the cache, discovery, counter and queue fault runs share: the
// history they append to, the stop file the test writes when the run is over (another process:
// polled), and their kind of session.
#pragma once

#include "history.hpp"

#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

namespace zkr::faults {

/// Set by main() from the command line.
inline std::string history_path;
inline std::string stop_path;

/// Appends one line to the history, flushed at once: a killed process loses nothing recorded.
inline void record(const std::string& line) {
    std::ofstream(history_path, std::ios::app) << line << "\n" << std::flush;
}

/// "WHAT t rest": a history line stamped now.
inline void record_now(const std::string& what, const std::string& rest = {}) {
    record(what + " " + std::to_string(now_ns()) + (rest.empty() ? "" : " " + rest));
}

/// `text` as one word of a history line (an error message, say).
inline std::string words(std::string text) {
    for (auto& c : text) {
        c = c == ' ' || c == '\n' ? '_' : c;
    }
    return text;
}

/// Whether the stop file exists.
inline bool stop_asked() {
    return ::access(stop_path.c_str(), F_OK) == 0;
}

/// Completes once the stop file exists.
inline boost::asio::awaitable<void> stop_requested() {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    while (!stop_asked()) {
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
}

/// The session of a client process: it renews after expiry (the process carries on, as a
/// long-lived service would), and pings from zkr's own thread, so that recording never delays
/// the pings.
inline session_config renewing_session(std::string hosts, int session_ms) {
    session_config config;
    config.hosts = std::move(hosts);
    config.session_timeout = std::chrono::milliseconds(session_ms);
    config.connect_timeout = std::chrono::seconds(10);
    config.renew_after_expiry = true;
    config.dedicated_io_thread = true;
    return config;
}

}  // namespace zkr::faults
