// zkr: ZooKeeper locks, semaphores, leader election, barriers and groups from the shell.
//
//   zkr [--hosts HOSTS] [--session-timeout MS] [--auth USER:PASS] [--verbose] COMMAND ...
//
// The subcommands, their options and handlers are one table (commands.cpp); `zkr --help` prints
// it. Built on zkr's public API only. Exit statuses: exit_status.hpp.
#include "command_line.hpp"
#include "commands.hpp"
#include "exit_status.hpp"
#include "handlers.hpp"

#include <zkr/log.hpp>
#include <zkr/session.hpp>
#include <zkr/version.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/utility/setup/console.hpp>

#include <cstdio>
#include <iostream>
#include <string_view>

namespace zkr::cli {
namespace {

namespace asio = boost::asio;

// The headers' version, and the library's when the installed libzkr is another one.
void print_version() {
    if (std::string_view(zkr::version()) == zkr::version_string) {
        std::printf("zkr %s\n", zkr::version_string);
    } else {
        std::printf("zkr %s (libzkr %s)\n", zkr::version_string, zkr::version());
    }
}

/// Connects, runs the subcommand the command line chose, and closes the session.
asio::awaitable<int> run(const options& o) {
    auto ex = co_await asio::this_coro::executor;
    session_config config;
    config.hosts = o.hosts;
    config.session_timeout = o.session_timeout;
    config.digest_credentials = o.auth;
    session s(ex, config);
    if (auto [ec] = co_await s.async_connect(tuple); ec) {
        std::fprintf(stderr, "zkr: cannot connect to %s: %s\n", o.hosts.c_str(),
                     ec.message().c_str());
        co_return exit_unavailable;
    }
    const int status = co_await o.entry->run(s, o);
    co_await s.async_close(tuple);
    co_return status;
}

}  // namespace
}  // namespace zkr::cli

int main(int argc, char** argv) {
    using namespace zkr::cli;
    std::string error;
    auto parsed = parse_options(argc, argv, error);
    if (!parsed) {
        if (!error.empty()) {
            std::fprintf(stderr, "zkr: %s\n\n", error.c_str());
        }
        std::fputs(usage_text().c_str(), error.empty() ? stdout : stderr);
        return error.empty() ? 0 : exit_usage;
    }
    const auto& o = *parsed;
    if (o.version) {
        print_version();
        return 0;
    }
    namespace logging = boost::log;
    if (o.verbose) {
        logging::add_console_log(std::clog, logging::keywords::format = "[%Channel%] %Message%");
        zkr::log::set_level(zkr::log::level::debug);
    } else {
        zkr::log::set_level(zkr::log::level::off);  // the CLI reports what matters itself
    }
    boost::asio::io_context ioc;
    int status = exit_unavailable;
    boost::asio::co_spawn(ioc, run(o), [&](std::exception_ptr e, int s) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::fprintf(stderr, "zkr: %s\n", x.what());
            }
            return;
        }
        status = s;
    });
    ioc.run();
    return status;
}
