// What every example shares: connecting a session, and running the example's coroutine to a
// verdict (exit 0 if what it shows holds, 1 if not).
#pragma once

#include <zkr/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/log/core.hpp>

#include <cstdio>
#include <functional>
#include <string>

namespace example {

inline boost::asio::awaitable<zkr::session> connect(const std::string& hosts) {
    zkr::session_config config;
    config.hosts = hosts;
    zkr::session s(co_await boost::asio::this_coro::executor, config);
    co_await s.async_connect(boost::asio::use_awaitable);
    co_return s;
}

/// Runs `body` on an io_context and turns its verdict into an exit status.
inline int run(const char* name, std::function<boost::asio::awaitable<bool>()> body) {
    boost::log::core::get()->set_logging_enabled(false);
    boost::asio::io_context ioc;
    auto holds = boost::asio::co_spawn(ioc, body(), boost::asio::use_future);
    ioc.run();
    try {
        return holds.get() ? 0 : 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", name, e.what());
        return 1;
    }
}

}  // namespace example
