// A zkr lock client in its own process, with the same contract as the peer drivers
// (integration/peers/README.md):
//   zkr_test_worker HOSTS LOCK_PATH ITERATIONS RECORD_FILE [HOLD_MS] [SESSION_TIMEOUT_MS]
// Each critical section appends "enter zkr <pid> <fencing token>" and "exit zkr <pid>" to
// RECORD_FILE with O_APPEND, and prints "holding <i> <token>" on stdout while inside.
#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace asio = boost::asio;

namespace {

void append(const std::string& file, const std::string& line) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
        std::perror("record");
        std::exit(1);
    }
    ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(
            stderr,
            "usage: %s HOSTS LOCK_PATH ITERATIONS RECORD_FILE [HOLD_MS] [SESSION_TIMEOUT_MS]\n",
            argv[0]);
        return 2;
    }
    boost::log::core::get()->set_logging_enabled(false);
    const std::string hosts = argv[1], path = argv[2], record = argv[4];
    const int iterations = std::atoi(argv[3]);
    const int hold_ms = argc > 5 ? std::atoi(argv[5]) : 2;
    const int timeout_ms = argc > 6 ? std::atoi(argv[6]) : 4000;
    const auto pid = std::to_string(::getpid());

    asio::io_context ioc;
    zkr::session_config config;
    config.hosts = hosts;
    config.session_timeout = std::chrono::milliseconds(timeout_ms);
    zkr::session session(ioc.get_executor(), config);
    int status = 1;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            co_await session.async_connect(asio::use_awaitable);
            std::printf("ready\n");
            std::fflush(stdout);
            zkr::mutex mutex(session, path);
            for (int i = 0; i < iterations; ++i) {
                auto lock = co_await mutex.async_lock(asio::use_awaitable);
                const auto token = std::to_string(lock.fencing_token());
                append(record, "enter zkr " + pid + " " + token + "\n");
                std::printf("holding %d %s\n", i, token.c_str());
                std::fflush(stdout);
                if (hold_ms > 0) {
                    asio::steady_timer hold(ioc, std::chrono::milliseconds(hold_ms));
                    co_await hold.async_wait(asio::use_awaitable);
                }
                if (!lock.owns()) {
                    std::fprintf(stderr, "lock lost inside the critical section: %s\n",
                                 lock.lost_reason().message().c_str());
                    co_return;
                }
                append(record, "exit zkr " + pid + "\n");
                co_await lock.async_release(asio::use_awaitable);
            }
            co_await session.async_close(asio::use_awaitable);
            std::printf("done %s %d\n", pid.c_str(), iterations);
            std::fflush(stdout);
            status = 0;
        },
        [](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& x) {
                    std::fprintf(stderr, "worker failed: %s\n", x.what());
                }
            }
        });
    ioc.run();
    return status;
}
