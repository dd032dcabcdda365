#include "test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

namespace zkr::test {

namespace asio = boost::asio;

std::string source_dir() {
    return ZKR_SOURCE_DIR;
}

namespace {
/// $TMPDIR, or /tmp.
std::string temp_base() {
    const char* base = std::getenv("TMPDIR");
    return base != nullptr ? base : "/tmp";
}
}  // namespace

std::string fresh_temp_dir() {
    std::string templ = temp_base() + "/zkr-test-XXXXXX";
    if (mkdtemp(templ.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed");
    }
    return templ;
}

namespace {

/// Runs `command` with sh: its exit status (128+N if killed by signal N) and its standard output.
std::pair<int, std::string> run_command(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        ADD_FAILURE() << "popen failed: " << command << ": " << std::strerror(errno);
        return {-1, {}};
    }
    std::string out;
    std::array<char, 4096> buf;
    while (auto n = fread(buf.data(), 1, buf.size(), pipe)) {
        out.append(buf.data(), n);
    }
    const int rc = pclose(pipe);
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : 128 + WTERMSIG(rc), out};
}

/// Its standard output without the final newlines.
std::string shell(const std::string& command, int* status = nullptr) {
    auto [rc, out] = run_command(command);
    if (status != nullptr) {
        *status = rc;
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
        out.pop_back();
    }
    return out;
}

/// Runs `body(session&)` on a session of its own (its own io_context, connected first, closed
/// after): the tests' plumbing, independent of the session under test.
template <class Result, class Body>
Result with_plain_session(const std::string& hosts, Body body, const client_id& resume = {}) {
    asio::io_context io;
    auto config = config_for(hosts, 10s);
    config.resume = resume;
    session s(io.get_executor(), config);
    std::optional<Result> result;
    std::exception_ptr failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await s.async_connect(asio::use_awaitable);
            result = co_await body(s);
            co_await s.async_close(asio::use_awaitable);
        },
        [&](std::exception_ptr e) { failure = e; });
    io.run_for(20s);
    if (failure) {
        std::rethrow_exception(failure);
    }
    if (!result) {
        throw std::runtime_error("no answer from " + hosts + " within 20 s");
    }
    return *result;
}

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

zk_server::zk_server(int members, std::string java_opts)
    : dir_(fresh_temp_dir() + "/zk"), java_opts_(std::move(java_opts)) {
    start(members > 1 ? "--ensemble " + std::to_string(members) : "");
}

zk_server::zk_server(int members, std::string dir, const std::string& peers_file)
    : dir_(std::move(dir)) {
    start("--ensemble " + std::to_string(members) + " --peers '" + peers_file + "'");
}

void zk_server::start(const std::string& options) {
    const auto args = "start '" + dir_ + "' " + options;
    int status = 0;
    hosts_ =
        shell("ZK_JAVA_OPTS='" + java_opts_ + "' bash '" + source_dir() + "/tools/zk.sh' " + args,
              &status);
    if (status != 0 || hosts_.empty()) {
        throw std::runtime_error("could not start ZooKeeper (tools/zk.sh " + args + ")");
    }
}

zk_server::~zk_server() {
    script("stop");
    ::rmdir(dir_.substr(0, dir_.rfind('/')).c_str());
}

std::string zk_server::script(const std::string& verb, int n, int* status) {
    auto command = "ZK_JAVA_OPTS='" + java_opts_ + "' bash '" + source_dir() + "/tools/zk.sh' " +
                   verb + " '" + dir_ + "'";
    if (n > 0) {
        command += " " + std::to_string(n);
    }
    return shell(command, status);
}

void zk_server::pause(int n) {
    script("pause", n);
}
void zk_server::resume(int n) {
    script("resume", n);
}
void zk_server::kill(int n) {
    script("kill", n);
}

void zk_server::restart(int n) {
    int status = 0;
    script("restart", n, &status);
    if (status != 0) {
        ADD_FAILURE() << "restart of server " << n << " failed";
    }
}

void zk_server::wipe(int n) {
    kill(n);
    shell("rm -rf '" + dir_ + "/" + std::to_string(n) + "/data/version-2'");
    restart(n);
}

int zk_server::leader() {
    int status = 0;
    auto out = script("leader", 0, &status);
    return status == 0 ? std::atoi(out.c_str()) : 0;
}

std::map<std::string, std::string> zk_server::mntr(int n) {
    std::map<std::string, std::string> out;
    std::istringstream in(script("mntr", n));
    std::string line;
    while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        if (tab != std::string::npos) {
            out[line.substr(0, tab)] = line.substr(tab + 1);
        }
    }
    return out;
}

std::int64_t zk_server::mntr_value(const std::string& key, int n) {
    auto values = mntr(n);
    auto it = values.find(key);
    if (it == values.end()) {
        ADD_FAILURE() << "mntr has no " << key;
        return -1;
    }
    return std::stoll(it->second);
}

namespace {
std::unique_ptr<zk_server>& shared_server_ptr() {
    static std::unique_ptr<zk_server> server;
    return server;
}
}  // namespace

const std::string& shared_hosts() {
    static const std::string hosts = [] {
        if (const char* env = std::getenv("ZKR_TEST_HOSTS"); env != nullptr && *env != '\0') {
            return std::string(env);
        }
        shared_server_ptr() = std::make_unique<zk_server>();
        std::atexit([] { shared_server_ptr().reset(); });
        return shared_server_ptr()->hosts();
    }();
    return hosts;
}

zk_server* shared_server() {
    shared_hosts();
    return shared_server_ptr().get();
}

void run(std::function<asio::awaitable<void>(asio::io_context&)> body,
         std::chrono::milliseconds limit) {
    asio::io_context ioc;
    bool finished = false;
    std::exception_ptr failure;
    asio::co_spawn(ioc, body(ioc), [&](std::exception_ptr e) {
        finished = true;
        failure = e;
    });
    ioc.run_for(limit);
    if (!finished) {
        ADD_FAILURE() << "test coroutine did not finish within " << limit.count() << " ms";
        // Let pending operations settle so that objects can be destroyed cleanly.
        ioc.stop();
    }
    if (failure) {
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "test coroutine threw: " << e.what();
        }
    }
}

asio::awaitable<void> pause_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

asio::awaitable<bool> eventually(std::function<bool()> condition, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) {
            co_return false;
        }
        co_await pause_for(5ms);
    }
    co_return true;
}

asio::awaitable<void> connect(session& s) {
    co_await s.async_connect(asio::use_awaitable);
}

void detail::run_connected(std::vector<session_config> configs, connected_body body,
                           std::chrono::milliseconds limit) {
    run(
        [&](asio::io_context& ioc) -> asio::awaitable<void> {
            std::vector<std::unique_ptr<session>> sessions;
            // Destroyed last first, as a coroutine's local sessions would be, also on an
            // exception.
            struct in_reverse {
                std::vector<std::unique_ptr<session>>& sessions;
                ~in_reverse() {
                    while (!sessions.empty()) {
                        sessions.pop_back();
                    }
                }
            } destroy{sessions};
            for (const auto& config : configs) {
                sessions.push_back(std::make_unique<session>(ioc.get_executor(), config));
                auto [ec] =
                    co_await sessions.back()->async_connect(asio::as_tuple(asio::use_awaitable));
                if (ec) {
                    ADD_FAILURE() << "session " << sessions.size() << " of " << configs.size()
                                  << " could not connect to " << config.hosts << " (within "
                                  << config.connect_timeout.count() << " ms): " << ec.message()
                                  << "; is a ZooKeeper server running there?";
                    co_return;
                }
            }
            co_await body(ioc, sessions);
        },
        limit);
}

namespace {

/// A four-letter word's answer from the first server of `hosts`. A query that fails must not
/// read as an empty answer: retried, then a test failure and nullopt.
std::optional<std::string> four_letter_word(const std::string& hosts, const std::string& word) {
    const auto first = hosts.substr(0, hosts.find(','));
    const auto colon = first.rfind(':');
    const auto query = "echo " + word + " | nc -N -w 10 '" + first.substr(0, colon) + "' '" +
                       first.substr(colon + 1) + "'";
    int status = -1;
    std::string out;
    for (int attempt = 0; attempt < 3 && status != 0; ++attempt) {
        out = shell(query, &status);
    }
    if (status != 0) {
        ADD_FAILURE() << word << " on " << first << " failed (nc exit " << status << ")";
        return std::nullopt;
    }
    return out;
}

}  // namespace

bool server_watches_path(const std::string& hosts, const std::string& path) {
    const auto out = four_letter_word(hosts, "wchp");
    if (!out) {
        return false;
    }
    std::istringstream in(*out);
    std::string line;
    while (std::getline(in, line)) {
        if (line == path) {
            return true;
        }
    }
    return false;
}

std::size_t server_watches(const std::string& hosts, std::int64_t session_id) {
    const auto out = four_letter_word(hosts, "wchc");
    if (!out) {
        return static_cast<std::size_t>(-1);
    }
    std::ostringstream id;
    id << "0x" << std::hex << session_id;
    std::istringstream in(*out);
    std::string line;
    bool ours = false;
    std::size_t count = 0;
    while (std::getline(in, line)) {
        if (!line.empty() && line[0] != '\t' && line[0] != ' ') {
            ours = line == id.str();
        } else if (ours && line.find('/') != std::string::npos) {
            ++count;
        }
    }
    return count;
}

asio::awaitable<bool> settled(session& s, const std::string& hosts) {
    const auto id = s.session_id();
    co_return co_await eventually(
        [&] { return s.pending_operations() == 0 && server_watches(hosts, id) == 0; });
}

std::size_t children_count(const std::string& dir) {
    return list_children(shared_hosts(), dir).size();
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit,
                std::chrono::milliseconds interval) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(interval);
    }
    return true;
}

std::string fresh_root() {
    static std::mt19937_64 engine{std::random_device{}()};
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::ostringstream name;
    name << (info != nullptr ? info->test_suite_name() : "none") << "."
         << (info != nullptr ? info->name() : "none") << "-" << std::hex << (engine() & 0xffffff);
    auto text = name.str();
    for (auto& c : text) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') {
            c = '_';  // parameterised test names carry '/'
        }
    }
    return "/t/" + text;
}

session_config config_for(const std::string& hosts, std::chrono::milliseconds session_timeout) {
    session_config config;
    config.hosts = hosts;
    config.session_timeout = session_timeout;
    config.connect_timeout = 10s;
    return config;
}

session_config config_for_peer_tests(const std::string& hosts) {
    auto config = config_for(hosts);
    config.dedicated_io_thread = true;
    return config;
}

void expire_session(session& s, const std::string& hosts) {
    const auto id = s.id();
    // Cut `s` off first (a different IP: the C client compares addresses by IP only), so that it
    // does not take the session back while the second handle holds it.
    ASSERT_FALSE(s.set_servers("127.0.0.2:1")) << "set_servers";
    // The second handle joins the session, then closing it makes the server end the session.
    with_plain_session<bool>(
        hosts, [](session&) -> asio::awaitable<bool> { co_return true; }, id);
    ASSERT_FALSE(s.set_servers(hosts)) << "set_servers back";
}

std::pair<int, std::string> run_shell(const std::string& command) {
    return run_command(command + " 2>&1");
}

std::string http_get(unsigned short port, const std::string& target) {
    asio::ip::tcp::iostream stream;
    stream.expires_after(5s);
    stream.connect("127.0.0.1", std::to_string(port));
    stream << "GET " << target << " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" << std::flush;
    std::string status_line;
    std::getline(stream, status_line);
    if (status_line.find(" 200 ") == std::string::npos) {
        return "";
    }
    for (std::string header; std::getline(stream, header) && header != "\r";) {
    }
    std::ostringstream body;
    body << stream.rdbuf();
    return body.str();
}

unsigned short port_in(const std::string& line) {
    const auto scheme = line.find("http://");
    const auto colon = scheme == std::string::npos ? scheme : line.find(':', scheme + 7);
    if (colon == std::string::npos) {
        return 0;
    }
    return static_cast<unsigned short>(std::strtoul(line.c_str() + colon + 1, nullptr, 10));
}

std::optional<double> sample_in(const std::string& page, const std::string& series) {
    std::istringstream lines(page);
    for (std::string line; std::getline(lines, line);) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ') {
            return std::strtod(line.c_str() + series.size() + 1, nullptr);
        }
    }
    return std::nullopt;
}

std::vector<std::string> list_children(const std::string& hosts, const std::string& path) {
    return with_plain_session<std::vector<std::string>>(
        hosts, [&](session& s) -> asio::awaitable<std::vector<std::string>> {
            auto [ec, kids] = co_await s.async_get_children(path, tuple);
            co_return ec ? std::vector<std::string>{} : std::move(kids.names);
        });
}

bool node_exists(const std::string& hosts, const std::string& path) {
    return with_plain_session<bool>(hosts, [&](session& s) -> asio::awaitable<bool> {
        auto [ec, st] = co_await s.async_exists(path, tuple);
        co_return !ec && st.has_value();
    });
}

void create_node(const std::string& hosts, const std::string& path, const std::string& data,
                 bool sequential, std::string* created) {
    const auto [ec, node] = with_plain_session<std::tuple<error_code, created_node>>(
        hosts, [&](session& s) -> asio::awaitable<std::tuple<error_code, created_node>> {
            co_return co_await s.async_create(
                path, data,
                sequential ? create_mode::persistent_sequential : create_mode::persistent, tuple);
        });
    // Shared parents such as "/t" may exist already.
    const bool ok = !ec || (ec == zk_errc::node_exists && !sequential);
    ASSERT_TRUE(ok) << "create " << path << ": " << ec.message();
    if (created != nullptr) {
        *created = node.path;
    }
}

void delete_node(const std::string& hosts, const std::string& path) {
    const auto ec =
        with_plain_session<error_code>(hosts, [&](session& s) -> asio::awaitable<error_code> {
            auto [ec] = co_await s.async_remove(path, -1, tuple);
            co_return ec;
        });
    ASSERT_TRUE(!ec || ec == zk_errc::no_node) << "delete " << path << ": " << ec.message();
}

std::size_t check_record(const std::string& file, std::size_t max_inside) {
    std::ifstream in(file);
    std::string line;
    std::map<std::string, bool> inside;  // "<name> <pid>" -> shared?
    std::size_t exclusive = 0, shared = 0, sections = 0, line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        std::istringstream fields(line);
        std::string verb, name, pid;
        fields >> verb >> name >> pid;
        const auto who = name + " " + pid;
        const bool reader = verb == "enter-read" || verb == "exit-read";
        if (verb == "enter" || verb == "lead" || verb == "enter-read") {
            EXPECT_EQ(inside.count(who), 0u) << file << ":" << line_no << ": " << who << " twice";
            if (reader) {
                EXPECT_EQ(exclusive, 0u)
                    << file << ":" << line_no << ": reader " << who << " entered beside a writer";
                ++shared;
            } else {
                EXPECT_TRUE(exclusive < max_inside && shared == 0)
                    << file << ":" << line_no << ": " << who << " entered with " << exclusive
                    << " exclusive and " << shared << " shared holders inside";
                ++exclusive;
            }
            inside[who] = reader;
        } else if (verb == "exit" || verb == "unlead" || verb == "exit-read") {
            auto it = inside.find(who);
            EXPECT_TRUE(it != inside.end() && it->second == reader)
                << file << ":" << line_no << ": exit of " << who << " without its entry";
            if (it != inside.end()) {
                --(it->second ? shared : exclusive);
                inside.erase(it);
            }
            ++sections;
        }
    }
    return sections;
}

namespace {

/// A new empty file under $TMPDIR (default /tmp) named after `kind`; the caller removes it.
std::string fresh_temp_file(const std::string& kind) {
    std::string templ = temp_base() + "/zkr-" + kind + "-XXXXXX";
    const int fd = mkstemp(templ.data());
    if (fd < 0) {
        throw std::runtime_error("mkstemp failed");
    }
    close(fd);
    return templ;
}

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

child_process::child_process(std::vector<std::string> argv, bool capture_stdout)
    : name_(program_name(argv)), stderr_path_(fresh_temp_file("stderr")) {
    int fds[2] = {-1, -1};
    if (capture_stdout && pipe(fds) != 0) {
        throw std::runtime_error("pipe failed");
    }
    pid_ = fork();
    if (pid_ == 0) {
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
        std::vector<char*> args;
        for (auto& a : argv) {
            args.push_back(a.data());
        }
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    name_ += " (pid " + std::to_string(pid_) + ")";
    if (capture_stdout) {
        close(fds[1]);
        stdout_fd_ = fds[0];
    }
}

child_process::child_process(child_process&& other) noexcept
    : name_(std::move(other.name_)),
      pid_(std::exchange(other.pid_, -1)),
      stdout_fd_(std::exchange(other.stdout_fd_, -1)),
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

record_file::record_file() : path(fresh_temp_file("record")) {}

record_file::~record_file() {
    std::remove(path.c_str());
}

std::vector<std::int64_t> tokens_in(const std::string& record) {
    std::ifstream in(record);
    std::string line;
    std::vector<std::int64_t> tokens;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string verb, name, pid, token;
        f >> verb >> name >> pid >> token;
        if (verb == "enter" && !token.empty()) {
            tokens.push_back(std::stoll(token));
        }
    }
    return tokens;
}

child_process zkr_worker(const std::string& mode, const std::string& dir, int rounds,
                         const std::string& record, int hold_ms, int session_timeout_ms) {
    return child_process({ZKR_WORKER, mode, shared_hosts(), dir, std::to_string(rounds), record,
                          std::to_string(hold_ms), std::to_string(session_timeout_ms)},
                         true);
}

child_process peer(const std::string& driver, std::vector<std::string> args,
                   std::vector<std::string> env) {
    std::vector<std::string> argv{"env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(source_dir() + "/integration/peers/" + driver);
    argv.push_back(shared_hosts());
    argv.insert(argv.end(), args.begin(), args.end());
    return child_process(argv, true);
}

void expect_ready(child_process& p, const std::string& who) {
    ASSERT_TRUE(p.expect_line("ready", peer_start_limit)) << who;
}

}  // namespace zkr::test
