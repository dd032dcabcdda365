// zkr: ZooKeeper locks, semaphores, leader election, barriers and groups from the shell.
//
//   zkr [--hosts HOSTS] [--session-timeout MS] [--auth USER:PASS] [--verbose] [--tls-* ...]
//       COMMAND ...
//
// The subcommands, their options and handlers are one table (commands.cpp); `zkr --help` prints
// it. Built on zkr's public API only. Exit statuses: exit_status.hpp.
#include "command_line.hpp"
#include "commands.hpp"
#include "exit_status.hpp"
#include "handlers.hpp"
#include "metrics_endpoint.hpp"

#include <zkr/log.hpp>
#include <zkr/session.hpp>
#include <zkr/version.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/log/core.hpp>
#include <boost/log/expressions.hpp>
#include <boost/log/utility/setup/console.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace zkr::cli {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

// The headers' version, and the library's when the installed libzkr is another one.
void print_version() {
    if (std::string_view(zkr::version()) == zkr::version_string) {
        std::printf("zkr %s\n", zkr::version_string);
    } else {
        std::printf("zkr %s (libzkr %s)\n", zkr::version_string, zkr::version());
    }
}

/// Connects, runs the subcommand the command line chose, and closes the session.
asio::awaitable<int> connect_and_run(session& s, const options& o) {
    if (auto [ec] = co_await s.async_connect(tuple); ec) {
        std::fprintf(stderr, "zkr: cannot connect to %s: %s\n", o.hosts.c_str(),
                     ec.message().c_str());
        co_return exit_unavailable;
    }
    const int status = co_await o.entry->run(s, o);
    co_await s.async_close(tuple);
    co_return status;
}

/// The session's metrics on --metrics ADDR:PORT, served for as long as the command runs.
std::optional<metrics_endpoint> serve_metrics(const asio::any_io_executor& ex, const options& o,
                                              session_config& config) {
    auto m = std::make_shared<metrics>();
    try {
        metrics_endpoint endpoint(ex, *parse_listen_address(o.metrics), m);
        const auto at = endpoint.local_endpoint();
        // Appended, not "[" + ...: g++ 12 at -O3 warns about that (-Wrestrict, GCC bug 105329).
        std::string host = at.address().is_v6() ? "[" : "";
        host.append(at.address().to_string()).append(at.address().is_v6() ? "]" : "");
        std::fprintf(stderr, "zkr: metrics at http://%s:%u/metrics\n", host.c_str(),
                     static_cast<unsigned>(at.port()));
        config.observer = std::move(m);
        return endpoint;
    } catch (const boost::system::system_error& e) {
        std::fprintf(stderr, "zkr: cannot serve metrics on %s: %s\n", o.metrics.c_str(),
                     e.code().message().c_str());
        return std::nullopt;
    }
}

/// The first line of `file`, without its line end; nullopt, having said why, if it cannot be
/// read. A password is read from a file so that it is never on a command line (ps shows those).
std::optional<std::string> first_line_of(const std::string& file, const char* what) {
    std::ifstream in(file);
    std::string line;
    if (!in || (!std::getline(in, line) && !in.eof())) {
        std::fprintf(stderr, "zkr: cannot read %s from %s: %s\n", what, file.c_str(),
                     std::strerror(errno));
        return std::nullopt;
    }
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

/// session_config::tls as the --tls-* options ask. Files other than the password's are the
/// library's to read: one it cannot use fails the connection with errc::tls_config_invalid and
/// the reason logged. False, having said why, if the password cannot be read.
bool configure_tls(const options& o, session_config& config) {
    tls_config tls;
    // A CA path that cannot be looked at is taken as a file, which the library then fails to
    // read, saying why.
    std::error_code unexamined;
    if (o.tls_ca == "system") {
        tls.use_system_store = true;
    } else if (std::filesystem::is_directory(o.tls_ca, unexamined)) {
        tls.ca_directory = o.tls_ca;
    } else {
        tls.ca_file = o.tls_ca;
    }
    tls.certificate_file = o.tls_cert;
    tls.key_file = o.tls_key;
    if (!o.tls_key_password_file.empty()) {
        auto password = first_line_of(o.tls_key_password_file, "the TLS key's password");
        if (!password) {
            return false;
        }
        tls.key_password = std::move(*password);
    }
    tls.verify_host = !o.tls_no_verify_host;
    config.tls = std::move(tls);
    return true;
}

asio::awaitable<int> run(const options& o) {
    auto ex = co_await asio::this_coro::executor;
    session_config config;
    config.hosts = o.hosts;
    config.session_timeout = o.session_timeout;
    config.digest_credentials = o.auth;
    if (o.uses_tls() && !configure_tls(o, config)) {
        co_return exit_unavailable;
    }
    // A candidate that requeues, a watch and a kept node carry on after an expiry, in a new
    // ZooKeeper session.
    config.renew_after_expiry = o.requeue || o.entry->renews_session;
    if (o.metrics.empty()) {
        session s(ex, config);
        co_return co_await connect_and_run(s, o);
    }
    auto endpoint = serve_metrics(ex, o, config);
    if (!endpoint) {
        co_return exit_unavailable;
    }
    session s(ex, config);
    // Served until the command ends (serve() never ends first: it is cancelled then).
    auto done = co_await (connect_and_run(s, o) || endpoint->serve());
    co_return std::get<0>(done);
}

/// Where zkr's own log goes. The CLI reports what matters itself, except why a TLS connection
/// failed: OpenSSL's reason ("certificate has expired") is only in the session's warnings, so
/// with TLS those are shown too, as "zkr: ..." lines on stderr.
void set_up_logging(const options& o) {
    namespace logging = boost::log;
    if (o.verbose) {
        logging::add_console_log(std::clog, logging::keywords::format = "[%Channel%] %Message%");
        zkr::log::set_level(zkr::log::level::debug);
    } else if (o.uses_tls()) {
        logging::add_console_log(
            std::clog, logging::keywords::format = "zkr: %Message%",
            logging::keywords::filter =
                zkr::log::channel == std::string(zkr::log::channels::session) &&
                zkr::log::severity >= logging::trivial::warning);
        zkr::log::set_level(zkr::log::level::warning);
    } else {
        zkr::log::set_level(zkr::log::level::off);
    }
}

}  // namespace
}  // namespace zkr::cli

int main(int argc, char** argv) {
    using namespace zkr::cli;
    std::string error;
    auto parsed = parse_options(argc, argv, error);
    if (!parsed) {
        std::fprintf(stderr, "zkr: %s\n\n%s", error.c_str(), usage_text().c_str());
        return exit_usage;
    }
    const auto& o = *parsed;
    if (o.help) {
        std::fputs(usage_text(*o.help).c_str(), stdout);
        return 0;
    }
    if (o.version) {
        print_version();
        return 0;
    }
    set_up_logging(o);
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
