// Shared helpers for the real-server tests: a ZooKeeper started by the project's own scripts,
// a fresh root per test, running a coroutine with a deadline, waiting on conditions, and forcing a
// session to expire.
#pragma once

#include <zkr/session.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

/// ASSERT_* cannot be used in a coroutine (it expands to `return`): this is its counterpart.
/// An AssertionResult condition (child_process::expect_line, say) keeps its message.
#define CO_REQUIRE(condition)                                  \
    do {                                                       \
        const ::testing::AssertionResult zkr_ok_((condition)); \
        EXPECT_TRUE(zkr_ok_) << #condition;                    \
        if (!zkr_ok_) {                                        \
            co_return;                                         \
        }                                                      \
    } while (false)

namespace zkr::test {

using namespace std::chrono_literals;

/// A ZooKeeper server (or three-node ensemble) started with tools/zk.sh, stopped on
/// destruction.
class zk_server {
  public:
    /// `java_opts`: extra JVM options for every start of the servers (ZK_JAVA_OPTS of zk.sh),
    /// e.g. "-Djute.maxbuffer=65536".
    explicit zk_server(int members = 1, std::string java_opts = {});
    /// An ensemble of `members` servers in `dir` (".../zk" in a directory of fresh_temp_dir();
    /// `dir` is removed on destruction, and its parent if empty) whose servers reach one another
    /// where `peers_file` says (tools/zk.sh start --peers).
    zk_server(int members, std::string dir, const std::string& peers_file);
    ~zk_server();
    zk_server(const zk_server&) = delete;
    zk_server& operator=(const zk_server&) = delete;

    const std::string& hosts() const { return hosts_; }
    void pause(int n = 1);
    void resume(int n = 1);
    void kill(int n);
    void restart(int n);
    /// Kills server n, deletes its data (snapshots and transaction log) and starts it again: a
    /// server that no longer knows any session, and has seen fewer transactions than its clients.
    void wipe(int n);
    int leader();
    /// mntr of server n, as key -> value.
    std::map<std::string, std::string> mntr(int n = 1);
    std::int64_t mntr_value(const std::string& key, int n = 1);

  private:
    void start(const std::string& args);
    std::string script(const std::string& verb, int n = 0, int* status = nullptr);
    std::string dir_;
    std::string hosts_;
    std::string java_opts_;
};

/// The server shared by the whole run (started once; ZKR_TEST_HOSTS overrides it).
const std::string& shared_hosts();
zk_server* shared_server();  // null when ZKR_TEST_HOSTS is used

/// Path of tools/zk.sh and of the peer drivers (from the build).
std::string source_dir();

/// A new empty directory under $TMPDIR (default /tmp); the caller removes it.
std::string fresh_temp_dir();

/// Runs `body` on a fresh io_context; fails the test if it does not finish within `limit`.
void run(std::function<boost::asio::awaitable<void>(boost::asio::io_context&)> body,
         std::chrono::milliseconds limit = 30s);

/// Waits `d` without blocking the io_context (not for synchronisation: to let time pass).
boost::asio::awaitable<void> pause_for(std::chrono::milliseconds d);

/// Polls `condition` from a coroutine, without blocking the io_context, until it holds or
/// `limit` passes; returns whether it held.
boost::asio::awaitable<bool> eventually(std::function<bool()> condition,
                                        std::chrono::milliseconds limit = 10s);

/// Connects `s` (throws on failure).
boost::asio::awaitable<void> connect(session& s);

session_config config_for(const std::string& hosts,
                          std::chrono::milliseconds session_timeout = 4000ms);

namespace detail {
using connected_body = std::function<boost::asio::awaitable<void>(
    boost::asio::io_context&, std::vector<std::unique_ptr<session>>&)>;
void run_connected(std::vector<session_config> configs, connected_body body,
                   std::chrono::milliseconds limit);
template <std::size_t>
using session_ref = session&;
}  // namespace detail

/// Runs `body` like run(), with one session per config, each connected before `body` starts (in
/// order; destroyed in reverse order once `body` has finished). `body` takes the sessions
/// (session&...), or the io_context first and then the sessions. A session that cannot connect
/// (within its config's connect_timeout) fails the test with a message naming its hosts, and
/// `body` does not run.
template <std::size_t N, class Body>
void with_sessions(const session_config (&configs)[N], Body body,
                   std::chrono::milliseconds limit = 30s) {
    detail::run_connected(
        std::vector<session_config>(std::begin(configs), std::end(configs)),
        [&](boost::asio::io_context& ioc, std::vector<std::unique_ptr<session>>& sessions) {
            return [&]<std::size_t... I>(std::index_sequence<I...>) {
                if constexpr (std::is_invocable_v<Body&, boost::asio::io_context&,
                                                  detail::session_ref<I>...>) {
                    return body(ioc, *sessions[I]...);
                } else {
                    return body(*sessions[I]...);
                }
            }
            (std::make_index_sequence<N>{});
        },
        limit);
}

/// with_sessions() with N sessions on the shared server, each with config_for(shared_hosts()).
template <std::size_t N = 1, class Body>
void with_sessions(Body body, std::chrono::milliseconds limit = 30s) {
    const auto config = config_for(shared_hosts());
    session_config configs[N];
    std::fill(std::begin(configs), std::end(configs), config);
    with_sessions(configs, std::move(body), limit);
}

/// Watches the server holds for `session_id` (its "wchc" four-letter word), on the first server
/// of `hosts`.
std::size_t server_watches(const std::string& hosts, std::int64_t session_id);

/// True when some session holds a watch on `path` (the "wchp" four-letter word), on the first
/// server of `hosts`.
bool server_watches_path(const std::string& hosts, const std::string& path);

/// True once `s` has nothing pending (no request in flight, no armed watch) and the server holds
/// no watch of its session: what every session must return to once its locks are released.
boost::asio::awaitable<bool> settled(session& s, const std::string& hosts = shared_hosts());

/// Number of children of `dir` on the shared server (0 if it does not exist).
std::size_t children_count(const std::string& dir);

/// Polls `condition` every `interval` until it holds or `limit` passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s,
                std::chrono::milliseconds interval = 5ms);

/// A fresh absolute path for the current test: "/t/<suite>.<test>-<random>".
std::string fresh_root();

/// config_for(hosts) with the session pinging from zkr's own thread: for tests that block their
/// io_context's thread while they wait for a peer process (a Java driver starting, say).
session_config config_for_peer_tests(const std::string& hosts);

/// Ends `s`'s session on the server (the C client cannot be told directly): the session is
/// taken over by a second session (session_config::resume) which then closes it, and `s` is
/// pointed back at the server, where it learns of the expiry.
void expire_session(session& s, const std::string& hosts);

/// Children of `path` read through a session of its own (independent of the session under test).
std::vector<std::string> list_children(const std::string& hosts, const std::string& path);
bool node_exists(const std::string& hosts, const std::string& path);
void create_node(const std::string& hosts, const std::string& path, const std::string& data,
                 bool sequential = false, std::string* created = nullptr);
void delete_node(const std::string& hosts, const std::string& path);

/// Checks an enter/exit record (see integration/peers/README.md; "lead"/"unlead" count as
/// enter/exit): at most `max_inside` holders inside at once ("enter-read"/"exit-read" mark
/// shared holders, who may overlap each other but no exclusive one), each exit matching an
/// entry. Returns the number of critical sections; adds a test failure per violation.
std::size_t check_record(const std::string& file, std::size_t max_inside = 1);

/// Runs `command` with sh: its exit status (128+N if killed by signal N) and its output, stdout
/// and stderr together.
std::pair<int, std::string> run_shell(const std::string& command);

/// The body of http://127.0.0.1:PORT/TARGET, or "" if the answer is not 200 (a deadline of 5 s).
std::string http_get(unsigned short port, const std::string& target = "/metrics");

/// The port of the first "http://HOST:PORT/" in `line` (0 if there is none).
unsigned short port_in(const std::string& line);

/// The value of the Prometheus text `page`'s sample line that starts with `series` (the name
/// and its labels, as printed); nullopt if there is none.
std::optional<double> sample_in(const std::string& page, const std::string& series);

/// A child process, killed (SIGKILL) on destruction if still running. Its stderr goes to a file
/// of its own, not to the test's output: the assertions below quote it, and a child destroyed
/// while its test has failed prints it, so a failure says what the child was doing.
class child_process {
  public:
    explicit child_process(std::vector<std::string> argv, bool capture_stdout = false);
    ~child_process();
    child_process(child_process&&) noexcept;
    int pid() const { return pid_; }
    /// Reads one line of the child's stdout (capture_stdout) within `limit`.
    bool read_line(std::string& line, std::chrono::milliseconds limit = 30s);
    /// Reads one line within `limit` and checks that it is `expected`; on failure the message
    /// says what came instead (another line, the end of the output, nothing in time) and quotes
    /// the child's stderr.
    ::testing::AssertionResult expect_line(const std::string& expected,
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
    std::string buffer_;
    std::string stderr_path_;
};

/// A temporary record file (see check_record), removed on destruction.
struct record_file {
    record_file();
    ~record_file();
    record_file(const record_file&) = delete;
    record_file& operator=(const record_file&) = delete;
    std::string path;
};

/// Fencing tokens of the critical sections in a record ("enter NAME PID TOKEN"), in order.
std::vector<std::int64_t> tokens_in(const std::string& record);

/// zkr_test_worker in `mode` (lock, read, write, semaphore:MAX, elect:ID; see
/// integration/worker.cpp) on `dir`.
child_process zkr_worker(const std::string& mode, const std::string& dir, int rounds,
                         const std::string& record, int hold_ms = 2, int session_timeout_ms = 4000);

/// How long a test waits for a peer driver's first line: each driver's own budget for starting,
/// connecting and its first step (integration/peers/README.md, "Budgets") is below it, so a slow
/// peer reports which step was slow before the test gives up.
constexpr auto peer_start_limit = 60s;

/// A driver from integration/peers/ run with `args` after the hosts, and extra environment
/// ("NAME=value").
child_process peer(const std::string& driver, std::vector<std::string> args,
                   std::vector<std::string> env = {});

/// Expects the child's first line to be "ready" within peer_start_limit.
void expect_ready(child_process& p, const std::string& who);

}  // namespace zkr::test
