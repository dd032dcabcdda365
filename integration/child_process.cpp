#include "child_process.hpp"

#include "shell.hpp"
#include "test_support.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace zkr::test {

namespace {

/// A driver's path without its directory, and the argument after it (the verb, for most).
std::string program_name(const std::vector<std::string>& argv) {
    std::size_t i = 0;
    if (!argv.empty() && argv[0] == "env") {  // peer(): env NAME=value... DRIVER HOSTS ARGS...
        for (i = 1; i < argv.size() && argv[i].find('=') != std::string::npos; ++i) {
        }
    }
    if (i >= argv.size()) {
        return "?";
    }
    auto name = argv[i].substr(argv[i].rfind('/') + 1);
    if (argv[0] == "env" && i + 2 < argv.size()) {
        name += " " + argv[i + 2];
    }
    return name;
}

}  // namespace

child_process::child_process(std::vector<std::string> argv, bool capture_stdout, bool pipe_stdin)
    : name_(program_name(argv)), stderr_path_(fresh_temp_file("stderr")) {
    int fds[2] = {-1, -1}, input[2] = {-1, -1};
    if ((capture_stdout && pipe(fds) != 0) || (pipe_stdin && pipe2(input, O_CLOEXEC) != 0)) {
        throw std::runtime_error("pipe failed");
    }
    // Made before the fork: the child of a threaded process may call async-signal-safe
    // functions only until exec. An allocation there can wait forever for an allocator lock that
    // another thread held at the fork: a child that never starts.
    std::vector<char*> args;
    for (auto& a : argv) {
        args.push_back(a.data());
    }
    args.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
        if (pipe_stdin) {
            dup2(input[0], 0);  // dup2 clears O_CLOEXEC on the copy
        }
        if (capture_stdout) {
            dup2(fds[1], 1);
            close(fds[0]);
            close(fds[1]);
        }
        if (const int err = open(stderr_path_.c_str(), O_WRONLY | O_APPEND); err >= 0) {
            dup2(err, 2);
        }
        // Nothing of the test process's but stdin, stdout and stderr: an inherited socket (a
        // proxy's, opened by another thread a moment ago) would outlive the proxy closing it.
        close_range(3, ~0U, 0);
        execvp(args[0], args.data());
        _exit(127);
    }
    name_ += " (pid " + std::to_string(pid_) + ")";
    if (capture_stdout) {
        close(fds[1]);
        stdout_fd_ = fds[0];
    }
    if (pipe_stdin) {
        close(input[0]);
        stdin_fd_ = input[1];
    }
}

void child_process::close_stdin() {
    if (stdin_fd_ >= 0) {
        close(std::exchange(stdin_fd_, -1));
    }
}

child_process::child_process(child_process&& other) noexcept
    : name_(std::move(other.name_)),
      pid_(std::exchange(other.pid_, -1)),
      stdout_fd_(std::exchange(other.stdout_fd_, -1)),
      stdin_fd_(std::exchange(other.stdin_fd_, -1)),
      buffer_(std::move(other.buffer_)),
      stderr_path_(std::exchange(other.stderr_path_, {})) {}

child_process::~child_process() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) {
        close(stdout_fd_);
    }
    close_stdin();
    if (stderr_path_.empty()) {
        return;  // moved from
    }
    if (::testing::Test::HasFailure()) {
        std::cout << "[ CHILD    ] " << report() << std::flush;
    }
    std::remove(stderr_path_.c_str());
}

std::string child_process::stderr_text() const {
    std::ifstream in(stderr_path_);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string child_process::report() const {
    auto text = stderr_text();
    if (!text.empty() && text.back() != '\n') {
        text += '\n';
    }
    return name_ + ", its stderr:\n" + (text.empty() ? "(nothing)\n" : text);
}

child_process::read_result child_process::next_line(std::string& line,
                                                    std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
            line = buffer_.substr(0, nl);
            buffer_.erase(0, nl + 1);
            return read_result::line;
        }
        if (stdout_fd_ < 0) {
            return read_result::ended;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return read_result::timed_out;
        }
        pollfd p{stdout_fd_, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            return read_result::timed_out;
        }
        char buf[512];
        const auto n = ::read(stdout_fd_, buf, sizeof buf);
        if (n <= 0) {
            return read_result::ended;
        }
        buffer_.append(buf, static_cast<std::size_t>(n));
    }
}

bool child_process::read_line(std::string& line, std::chrono::milliseconds limit) {
    return next_line(line, limit) == read_result::line;
}

::testing::AssertionResult child_process::expect_line(const std::string& expected,
                                                      std::chrono::milliseconds limit) {
    std::string line;
    const auto started = std::chrono::steady_clock::now();
    const auto result = next_line(line, limit);
    if (result == read_result::line && line == expected) {
        return ::testing::AssertionSuccess();
    }
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    auto failure = ::testing::AssertionFailure() << "expected \"" << expected << "\", got ";
    if (result == read_result::line) {
        failure << "\"" << line << "\"";
    } else if (result == read_result::ended) {
        failure << "the end of its output";
    } else {
        failure << "nothing";
    }
    return failure << " after " << waited.count() << " ms (limit " << limit.count() << " ms) from "
                   << report();
}

::testing::AssertionResult child_process::expect_line_eventually(const std::string& expected,
                                                                 std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string line, last = "<no line>";
    auto result = read_result::timed_out;
    for (auto left = limit; left > 0ms;
         left = std::chrono::duration_cast<std::chrono::milliseconds>(
             deadline - std::chrono::steady_clock::now())) {
        result = next_line(line, left);
        if (result != read_result::line) {
            break;
        }
        if (line == expected) {
            return ::testing::AssertionSuccess();
        }
        last = line;
    }
    return ::testing::AssertionFailure()
           << "expected \"" << expected << "\" at last, the last line was \"" << last << "\""
           << (result == read_result::ended ? ", then the end of its output" : "") << " (limit "
           << limit.count() << " ms) from " << report();
}

::testing::AssertionResult child_process::exits_cleanly(std::chrono::milliseconds limit) {
    const int status = wait(limit);
    if (status == 0) {
        return ::testing::AssertionSuccess();
    }
    auto failure = ::testing::AssertionFailure();
    if (status < 0) {
        failure << "still running after " << limit.count() << " ms: ";
    } else {
        failure << "exit status " << status << ": ";
    }
    return failure << report();
}

int child_process::wait(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        int status = 0;
        const auto r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return -1;
        }
        std::this_thread::sleep_for(5ms);
    }
}

void child_process::kill(int signal) {
    if (pid_ > 0) {
        ::kill(pid_, signal);
    }
}

child_server shared_child_server() {
    return {shared_hosts(), ""};
}

child_process zkr_worker(const std::string& mode, const std::string& dir, int rounds,
                         const std::string& record, int hold_ms, int session_timeout_ms) {
    return zkr_worker(shared_child_server(), mode, dir, rounds, record, hold_ms,
                      session_timeout_ms);
}

child_process zkr_worker(const child_server& server, const std::string& mode,
                         const std::string& dir, int rounds, const std::string& record, int hold_ms,
                         int session_timeout_ms) {
    std::vector<std::string> argv;
    if (!server.tls_ca.empty()) {
        argv = {"env", "ZKR_WORKER_TLS_CA=" + server.tls_ca};
    }
    argv.insert(argv.end(), {ZKR_WORKER, mode, server.hosts, dir, std::to_string(rounds), record,
                             std::to_string(hold_ms), std::to_string(session_timeout_ms)});
    return child_process(argv, true);
}

child_process peer(const std::string& driver, std::vector<std::string> args,
                   std::vector<std::string> env) {
    return peer(shared_child_server(), driver, std::move(args), std::move(env));
}

child_process peer(const child_server& server, const std::string& driver,
                   std::vector<std::string> args, std::vector<std::string> env) {
    std::vector<std::string> argv{"env"};
    argv.insert(argv.end(), env.begin(), env.end());
    if (!server.tls_ca.empty()) {
        argv.push_back("KAZOO_TLS_CA=" + server.tls_ca);
    }
    argv.push_back(source_dir() + "/integration/peers/" + driver);
    argv.push_back(server.hosts);
    argv.insert(argv.end(), args.begin(), args.end());
    return child_process(argv, true, true);
}

void expect_ready(child_process& p, const std::string& who) {
    ASSERT_TRUE(p.expect_line("ready", peer_start_limit)) << who;
}
}  // namespace zkr::test
