// Shared helpers for the real-server tests (the one header they include): a fresh root per test,
// running a coroutine with a deadline and with its sessions connected (with_sessions), waiting on
// conditions, reading the server's state and forcing a session to expire. The servers
// (zk_server.hpp), child processes (child_process.hpp) and records (records.hpp) have files of
// their own.
#pragma once

#include "child_process.hpp"
#include "records.hpp"
#include "zk_server.hpp"

#include <zkr/observer.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
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

/// The tests' completion token in coroutines: the error comes back as the first element of a
/// tuple (`auto [ec, ...] = co_await op(tuple);`) instead of being thrown.
inline constexpr auto tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

/// Counts the requests a session sends (session_config::observer; driver thread).
struct request_counter final : observer {
    void request_completed(request_kind, std::chrono::nanoseconds, error_code) noexcept override {
        ++requests;
    }
    std::atomic<long> requests{0};
};

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

/// A test session's configuration for `hosts`; over TLS for the shared server in TLS test mode
/// (tls_test_mode(), zk_server.hpp).
session_config config_for(const std::string& hosts,
                          std::chrono::milliseconds session_timeout = 4000ms);
/// `config` reaching its servers over TLS, trusting only `ca_file`.
session_config over_tls(session_config config, const std::string& ca_file);
/// How many configurations config_for() made for TLS.
std::size_t tls_sessions_configured();

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

/// with_sessions() with N sessions of one `config`: with config_for_peer_tests(), say, for a test
/// whose thread blocks while it reads a peer driver.
template <std::size_t N, class Body>
void with_sessions_like(const session_config& config, Body body,
                        std::chrono::milliseconds limit = 30s) {
    session_config configs[N];
    std::fill(std::begin(configs), std::end(configs), config);
    with_sessions(configs, std::move(body), limit);
}

/// with_sessions() with N sessions on the shared server, each with config_for(shared_hosts()).
template <std::size_t N = 1, class Body>
void with_sessions(Body body, std::chrono::milliseconds limit = 30s) {
    with_sessions_like<N>(config_for(shared_hosts()), std::move(body), limit);
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
/// pointed back at the server, where it learns of the expiry. `while_cut_off` runs once `s` is
/// cut off from the server and before its session ends: a test waits there for what a
/// disconnection must do first (a leader giving up at once, say).
void expire_session(session& s, const std::string& hosts,
                    const std::function<void()>& while_cut_off = {});

/// Children of `path` read through a session of its own (independent of the session under test).
std::vector<std::string> list_children(const std::string& hosts, const std::string& path);
bool node_exists(const std::string& hosts, const std::string& path);
void create_node(const std::string& hosts, const std::string& path, const std::string& data,
                 bool sequential = false, std::string* created = nullptr);
void delete_node(const std::string& hosts, const std::string& path);

/// Whether `text` holds `part` (a message in a command's output, say).
bool contains(const std::string& text, const std::string& part);

/// Runs `command` with sh: its exit status (128+N if killed by signal N) and its output, stdout
/// and stderr together.
std::pair<int, std::string> run_shell(const std::string& command);

/// run_shell(command) with $ZKR the CLI under test and $ZKR_HOSTS `hosts`.
std::pair<int, std::string> zkr_shell(const std::string& command,
                                      const std::string& hosts = shared_hosts());

/// `zkr ARGS...` in the background on `hosts`, its stdout captured (read_line).
child_process zkr_in_background(std::vector<std::string> args,
                                const std::string& hosts = shared_hosts());

/// The node at `path` read through `s`; nullopt if there is none (or the read failed).
boost::asio::awaitable<std::optional<node_data>> get_node(session& s, const std::string& path);

/// The node at `path` read through a session of its own; nullopt if there is none.
std::optional<node_data> read_node(const std::string& path,
                                   const std::string& hosts = shared_hosts());

/// The node at `path` once a session other than `owner` holds it (a node kept or a registration
/// renewed after its session expired: created again by the new session), within `limit`;
/// nullopt if that did not happen.
std::optional<node_data> recreated_by_another_session(const std::string& path, std::int64_t owner,
                                                      const std::string& hosts,
                                                      std::chrono::milliseconds limit = 30s);

/// The body of http://127.0.0.1:PORT/TARGET, or "" if the answer is not 200 (a deadline of 5 s).
std::string http_get(unsigned short port, const std::string& target = "/metrics");

/// The port of the first "http://HOST:PORT/" in `line` (0 if there is none).
unsigned short port_in(const std::string& line);

/// The value of the Prometheus text `page`'s sample line that starts with `series` (the name
/// and its labels, as printed); nullopt if there is none.
std::optional<double> sample_in(const std::string& page, const std::string& series);

}  // namespace zkr::test
