// Child processes of the real-server tests: the lock worker (integration/worker.cpp), the peer
// drivers (integration/peers/) and any other program, with their stdout read line by line.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace zkr::test {

using namespace std::chrono_literals;

/// A child process, killed (SIGKILL) on destruction if still running. Its stdin is the test's,
/// or a pipe the test closes to tell it to finish (pipe_stdin). Its stderr goes to a file
/// of its own, not to the test's output: the assertions below quote it, and a child destroyed
/// while its test has failed prints it, so a failure says what the child was doing.
class child_process {
  public:
    explicit child_process(std::vector<std::string> argv, bool capture_stdout = false,
                           bool pipe_stdin = false);
    ~child_process();
    child_process(child_process&&) noexcept;
    int pid() const { return pid_; }
    /// Closes the child's stdin (pipe_stdin): it reads the end of its input.
    void close_stdin();
    /// Reads one line of the child's stdout (capture_stdout) within `limit`.
    bool read_line(std::string& line, std::chrono::milliseconds limit = 30s);
    /// Reads one line within `limit` and checks that it is `expected`; on failure the message
    /// says what came instead (another line, the end of the output, nothing in time) and quotes
    /// the child's stderr.
    ::testing::AssertionResult expect_line(const std::string& expected,
                                           std::chrono::milliseconds limit = 30s);
    /// Reads lines until one is `expected`, within `limit` in all: for a driver that prints its
    /// state after every change, the wait until it reaches a state. On failure the message
    /// quotes the last line read (the state the driver stopped at) and the child's stderr.
    ::testing::AssertionResult expect_line_eventually(const std::string& expected,
                                                      std::chrono::milliseconds limit = 30s);
    /// Waits for the child to exit with status 0 within `limit`; the failure message quotes its
    /// stderr.
    ::testing::AssertionResult exits_cleanly(std::chrono::milliseconds limit = 60s);
    /// Waits for the exit status (like the shell's $?: 128+N when killed by signal N); -1 on
    /// timeout.
    int wait(std::chrono::milliseconds limit = 60s);
    void kill(int signal);
    /// Everything the child wrote to stderr so far.
    std::string stderr_text() const;
    /// "<program> (pid N), its stderr:" and its stderr so far: what a failure message quotes.
    std::string report() const;

  private:
    enum class read_result { line, timed_out, ended };
    read_result next_line(std::string& line, std::chrono::milliseconds limit);

    std::string name_;
    int pid_ = -1;
    int stdout_fd_ = -1;
    int stdin_fd_ = -1;
    std::string buffer_;
    std::string stderr_path_;
};

/// The server a worker or a kazoo driver connects to: its connect string and, for a TLS-only
/// server, the CA file to trust (the worker's ZKR_WORKER_TLS_CA, the kazoo drivers'
/// KAZOO_TLS_CA; the Curator drivers have no TLS).
struct child_server {
    std::string hosts;
    std::string tls_ca;  ///< empty: plaintext
};

/// The shared server, in plaintext: where zkr_worker() and peer() connect unless told otherwise.
child_server shared_child_server();

/// zkr_test_worker in `mode` (lock, read, write, semaphore:MAX, elect:ID; see
/// integration/worker.cpp) on `dir`.
child_process zkr_worker(const std::string& mode, const std::string& dir, int rounds,
                         const std::string& record, int hold_ms = 2, int session_timeout_ms = 4000);
/// zkr_worker() on `server`.
child_process zkr_worker(const child_server& server, const std::string& mode,
                         const std::string& dir, int rounds, const std::string& record,
                         int hold_ms = 2, int session_timeout_ms = 4000);

/// How long a test waits for a peer driver's first line: each driver's own budget for starting,
/// connecting and its first step (integration/peers/README.md, "Budgets") is below it, so a slow
/// peer reports which step was slow before the test gives up.
constexpr auto peer_start_limit = 60s;

/// A driver from integration/peers/ run with `args` after the hosts, and extra environment
/// ("NAME=value"). Its stdin is a pipe (close_stdin), so that it never reads the test's.
child_process peer(const std::string& driver, std::vector<std::string> args,
                   std::vector<std::string> env = {});
/// peer() on `server`.
child_process peer(const child_server& server, const std::string& driver,
                   std::vector<std::string> args, std::vector<std::string> env = {});

/// Expects the child's first line to be "ready" within peer_start_limit.
void expect_ready(child_process& p, const std::string& who);

}  // namespace zkr::test
