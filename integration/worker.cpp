// A zkr client in its own process, with the same contract as the peer drivers
// (integration/peers/README.md):
//   zkr_test_worker MODE HOSTS PATH ROUNDS RECORD_FILE [HOLD_MS] [SESSION_TIMEOUT_MS]
// MODE: lock (zkr::mutex), read / write (the sides of zkr::shared_mutex), semaphore:MAX (one
// lease of a semaphore of MAX), elect:ID (leader election as participant ID).
// Each critical section (or term as leader) appends "enter <name> <pid> <fencing token>" and
// "exit <name> <pid>" ("enter-read"/"exit-read" for readers) to RECORD_FILE with O_APPEND, and
// prints "holding <i> <token>" on stdout while inside. <name> is "zkr", or the participant id.
// With ZKR_WORKER_TLS_CA=FILE in its environment the session goes over TLS (HOSTS are the
// servers' secure ports), trusting that CA file only.
#include "records.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/mutex.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_mutex.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace asio = boost::asio;

namespace {

void append(const std::string& file, const std::string& line) {
    if (!zkr::test::append_record_line(file, line)) {
        std::perror("record");
        std::exit(1);
    }
}

struct options {
    std::string mode, argument;  // "elect:a" -> mode "elect", argument "a"
    std::string hosts, path, name = "zkr", record;
    int rounds = 0;
    int hold_ms = 2;
    int timeout_ms = 4000;
};

/// One critical section: record entry, hold, check we still own it, record exit.
template <class Handle>
asio::awaitable<bool> hold(const options& o, const Handle& handle, int round) {
    const auto pid = std::to_string(::getpid());
    const auto token = std::to_string(handle.fencing_token());
    const std::string suffix = o.mode == "read" ? "-read" : "";
    append(o.record, "enter" + suffix + " " + o.name + " " + pid + " " + token + "\n");
    std::printf("holding %d %s\n", round, token.c_str());
    std::fflush(stdout);
    if (o.hold_ms > 0) {
        asio::steady_timer t(co_await asio::this_coro::executor,
                             std::chrono::milliseconds(o.hold_ms));
        co_await t.async_wait(asio::use_awaitable);
    }
    if (!static_cast<bool>(handle)) {
        std::fprintf(stderr, "lost inside the critical section: %s\n",
                     handle.lost_reason().message().c_str());
        co_return false;
    }
    append(o.record, "exit" + suffix + " " + o.name + " " + pid + "\n");
    co_return true;
}

asio::awaitable<bool> run(const options& o, zkr::session& session) {
    co_await session.async_connect(asio::use_awaitable);
    std::printf("ready\n");
    std::fflush(stdout);
    if (o.mode == "elect") {
        zkr::leader_election election(session, o.path, o.name);
        for (int i = 0; i < o.rounds; ++i) {
            auto term = co_await election.async_campaign(asio::use_awaitable);
            if (!co_await hold(o, term, i)) {
                co_return false;
            }
            co_await term.async_resign(asio::use_awaitable);
        }
    } else if (o.mode == "semaphore") {
        zkr::semaphore sem(session, o.path, std::atoi(o.argument.c_str()));
        for (int i = 0; i < o.rounds; ++i) {
            auto lease = co_await sem.async_acquire(asio::use_awaitable);
            if (!co_await hold(o, lease, i)) {
                co_return false;
            }
            co_await lease.async_release(asio::use_awaitable);
        }
    } else {
        zkr::shared_mutex rw(session, o.path);
        zkr::mutex plain(session, o.path);
        zkr::mutex& m = o.mode == "read" ? rw.reader() : o.mode == "write" ? rw.writer() : plain;
        for (int i = 0; i < o.rounds; ++i) {
            auto lock = co_await m.async_lock(asio::use_awaitable);
            if (!co_await hold(o, lock, i)) {
                co_return false;
            }
            co_await lock.async_release(asio::use_awaitable);
        }
    }
    co_await session.async_close(asio::use_awaitable);
    std::printf("done %d %d\n", static_cast<int>(::getpid()), o.rounds);
    std::fflush(stdout);
    co_return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() < 5) {
        std::fprintf(stderr,
                     "usage: %s lock|read|write|semaphore:MAX|elect:ID HOSTS PATH ROUNDS RECORD "
                     "[HOLD_MS] [SESSION_TIMEOUT_MS]\n",
                     argv[0]);
        return 2;
    }
    options o;
    const auto colon = args[0].find(':');
    o.mode = args[0].substr(0, colon);
    o.argument = colon == std::string::npos ? "" : args[0].substr(colon + 1);
    if (o.mode == "elect") {
        o.name = o.argument;
    }
    o.hosts = args[1];
    o.path = args[2];
    o.rounds = std::atoi(args[3].c_str());
    o.record = args[4];
    if (args.size() > 5) {
        o.hold_ms = std::atoi(args[5].c_str());
    }
    if (args.size() > 6) {
        o.timeout_ms = std::atoi(args[6].c_str());
    }
    boost::log::core::get()->set_logging_enabled(false);

    asio::io_context ioc;
    zkr::session_config config;
    config.hosts = o.hosts;
    config.session_timeout = std::chrono::milliseconds(o.timeout_ms);
    if (const char* ca = std::getenv("ZKR_WORKER_TLS_CA"); ca != nullptr && *ca != '\0') {
        config.tls.emplace();
        config.tls->ca_file = ca;
    }
    zkr::session session(ioc.get_executor(), config);
    int status = 1;
    asio::co_spawn(ioc, run(o, session), [&](std::exception_ptr e, bool ok) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::fprintf(stderr, "worker failed: %s\n", x.what());
            }
        }
        status = !e && ok ? 0 : 1;
    });
    ioc.run();
    return status;
}
