#include "test_support.hpp"

#include "shell.hpp"
#include "tls_material.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <tuple>

namespace zkr::test {

namespace asio = boost::asio;

std::string source_dir() {
    return ZKR_SOURCE_DIR;
}

namespace {

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

/// Joins the session `id` from a handle of its own, then closes that handle, which makes the
/// server end the session. What the join gave: nothing, or session_expired once it has ended.
error_code join_and_close(const std::string& hosts, const client_id& id) {
    asio::io_context io;
    auto config = config_for(hosts, 10s);
    config.resume = id;
    session s(io.get_executor(), config);
    error_code joined = make_error_code(errc::connect_timeout);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            std::tie(joined) = co_await s.async_connect(tuple);
            co_await s.async_close(tuple);
        },
        asio::detached);
    io.run_for(20s);
    return joined;
}

}  // namespace

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
                                  << config.connect_timeout.count() << " ms): " << ec.message();
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

namespace {
std::atomic<std::size_t> tls_configs{0};
}  // namespace

std::size_t tls_sessions_configured() {
    return tls_configs.load();
}

session_config config_for(const std::string& hosts, std::chrono::milliseconds session_timeout) {
    session_config config;
    config.hosts = hosts;
    config.session_timeout = session_timeout;
    config.connect_timeout = 10s;
    // TLS test mode: the shared server's sessions go to its TLS port (a chroot kept).
    if (tls_test_mode() && hosts.starts_with(shared_hosts()) &&
        (hosts.size() == shared_hosts().size() || hosts[shared_hosts().size()] == '/')) {
        config.hosts = shared_secure_hosts() + hosts.substr(shared_hosts().size());
        ++tls_configs;
        return over_tls(std::move(config), shared_test_ca().ca());
    }
    return config;
}

session_config over_tls(session_config config, const std::string& ca_file) {
    config.tls.emplace();
    config.tls->ca_file = ca_file;
    return config;
}

session_config config_for_peer_tests(const std::string& hosts) {
    auto config = config_for(hosts);
    config.dedicated_io_thread = true;
    return config;
}

void expire_session(session& s, const std::string& hosts,
                    const std::function<void()>& while_cut_off) {
    const auto id = s.id();
    // Cut `s` off first (a different IP: the C client compares addresses by IP only), so that it
    // does not take the session back while the second handle holds it.
    ASSERT_FALSE(s.set_servers("127.0.0.2:1")) << "set_servers";
    if (while_cut_off) {
        while_cut_off();
    }
    // The second handle joins the session, then closing it makes the server end the session. A
    // close the server never got (a loaded machine: the handle is freed after waiting 1.5 s for
    // the answer, or its connection dropped just before) leaves the session alive, and `s` would
    // take it back: joined again until the server refuses it as expired.
    error_code joined;
    for (int attempt = 0; attempt < 5 && !joined; ++attempt) {
        joined = join_and_close(hosts, id);
    }
    ASSERT_EQ(joined, zk_errc::session_expired)
        << "the session still stands after 5 closes: " << joined.message();
    // Back to the server (over TLS in TLS mode), unless `s` has heard of the expiry already.
    const auto back = s.set_servers(config_for(hosts).hosts);
    ASSERT_TRUE(!back || s.state() == session_state::expired || s.state() == session_state::closed)
        << "set_servers back: " << back.message();
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::pair<int, std::string> run_shell(const std::string& command) {
    return run_command(command + " 2>&1");
}

std::pair<int, std::string> zkr_shell(const std::string& command, const std::string& hosts) {
    return run_shell("export ZKR_HOSTS='" + hosts + "' ZKR='" + std::string(ZKR_CLI) + "'; " +
                     command);
}

child_process zkr_in_background(std::vector<std::string> args, const std::string& hosts) {
    std::vector<std::string> argv{"env", "ZKR_HOSTS=" + hosts, ZKR_CLI};
    argv.insert(argv.end(), args.begin(), args.end());
    return child_process(argv, true);
}

asio::awaitable<std::optional<node_data>> get_node(session& s, const std::string& path) {
    auto [ec, got] = co_await s.async_get_data(path, tuple);
    if (ec) {
        co_return std::nullopt;
    }
    co_return got;
}

std::optional<node_data> read_node(const std::string& path, const std::string& hosts) {
    return with_plain_session<std::optional<node_data>>(
        hosts, [&](session& s) -> asio::awaitable<std::optional<node_data>> {
            co_return co_await get_node(s, path);
        });
}

std::optional<node_data> recreated_by_another_session(const std::string& path, std::int64_t owner,
                                                      const std::string& hosts,
                                                      std::chrono::milliseconds limit) {
    std::optional<node_data> now;
    const auto by_another = [&] { return now && now->stat.ephemeral_owner != owner; };
    wait_until(
        [&] {
            now = read_node(path, hosts);
            return by_another();
        },
        limit, 100ms);
    return by_another() ? now : std::nullopt;
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

}  // namespace zkr::test
