// Sessions over TLS (session_config::tls) against TLS-only test servers: what connects, what is
// refused and with which error, and that nobody else can use a session's tunnel. The recipes'
// own suites run over TLS as well (CTest's integration.tls: ZKR_TEST_TLS=1, zk_server.hpp).
#include "log_capture.hpp"
#include "shell.hpp"
#include "test_support.hpp"
#include "tls_material.hpp"
#include "tls_server_suite.hpp"
#include "zk_handshake.hpp"

#include <zkr/log.hpp>
#include <zkr/mutex.hpp>
#include <zkr/observer.hpp>
#include <zkr/session.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

/// A configuration for `hosts` trusting `ca_file` only.
session_config tls_session_config(const std::string& hosts, const std::string& ca_file) {
    session_config config;
    config.hosts = hosts;
    config.session_timeout = 6s;
    config.connect_timeout = 3s;
    return over_tls(std::move(config), ca_file);
}

/// What async_connect ends with for `config` (the session closed afterwards).
error_code connect_outcome(const session_config& config) {
    error_code outcome;
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), config);
        auto [ec] = co_await s.async_connect(tuple);
        outcome = ec;
        co_await s.async_close(tuple);
    });
    return outcome;
}

/// Connects with `config`, then takes and releases a lock: true when both worked.
bool locks_over(const session_config& config) {
    bool locked = false;
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), config);
        auto [ec] = co_await s.async_connect(tuple);
        EXPECT_FALSE(ec) << ec.message();
        if (!ec) {
            mutex m(s, fresh_root() + "/lock");
            auto [lock_ec, lk] = co_await m.async_lock(tuple);
            EXPECT_FALSE(lock_ec) << lock_ec.message();
            if (!lock_ec) {
                locked = lk.fencing_token() > 0;
                co_await lk.async_release(tuple);
            }
        }
        co_await s.async_close(tuple);
    });
    return locked;
}

/// The ports this process listens on at 127.0.0.1 (from /proc: its sockets' inodes matched
/// against the kernel's table of TCP sockets).
std::set<std::uint16_t> own_loopback_listeners() {
    std::set<std::string> inodes;
    if (DIR* fds = ::opendir("/proc/self/fd")) {
        while (const dirent* entry = ::readdir(fds)) {
            std::array<char, 64> target{};
            const auto path = std::string("/proc/self/fd/") + entry->d_name;
            const auto n = ::readlink(path.c_str(), target.data(), target.size() - 1);
            const std::string link(target.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
            if (link.starts_with("socket:[")) {
                inodes.insert(link.substr(8, link.size() - 9));
            }
        }
        ::closedir(fds);
    }
    std::set<std::uint16_t> ports;
    std::ifstream table("/proc/net/tcp");
    std::string line;
    std::getline(table, line);  // the header
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
            timeout >> inode;
        if (state == "0A" && local.starts_with("0100007F:") && inodes.contains(inode)) {
            ports.insert(static_cast<std::uint16_t>(std::stoul(local.substr(9), nullptr, 16)));
        }
    }
    return ports;
}

class TlsSession : public tls_server_suite {
  protected:
    static std::string port() { return std::to_string(first_port(hosts())); }
};

TEST_F(TlsSession, LocksOverTlsAndTheClientLogNamesTheRealServer) {
    const auto before = zkr::log::get_level();
    zkr::log::set_level(zkr::log::level::debug);  // the C client's connection lines
    log_capture client_log(zkr::log::channels::client);
    EXPECT_TRUE(locks_over(tls_session_config(hosts(), shared_test_ca().ca())));
    zkr::log::set_level(before);
    const auto text = client_log.text();
    EXPECT_TRUE(contains(text, "127.0.0.1:" + port() + " (TLS)")) << text;
}

TEST_F(TlsSession, ServerReachedByItsDnsNameIsVerifiedForThatName) {
    EXPECT_TRUE(locks_over(tls_session_config("localhost:" + port(), shared_test_ca().ca())));
}

TEST_F(TlsSession, CertificateFromAnotherCaFailsTheConnectAndTheLogSaysWhy) {
    log_capture session_log(zkr::log::channels::session);
    EXPECT_EQ(connect_outcome(tls_session_config(hosts(), shared_test_ca().other_ca())),
              errc::tls_certificate_rejected);
    const auto text = session_log.text();
    EXPECT_TRUE(contains(text, "127.0.0.1:" + port() + ": unable to get local issuer certificate"))
        << text;
    EXPECT_EQ(session_log.count("unable to get local issuer certificate"), 1U)
        << "one warning per reason, not one per attempt: " << text;
}

TEST_F(TlsSession, PlaintextSessionOnTheTlsPortTimesOutWithoutHanging) {
    auto config = tls_session_config(hosts(), shared_test_ca().ca());
    config.tls.reset();
    EXPECT_EQ(connect_outcome(config), errc::connect_timeout);
}

TEST_F(TlsSession, AnotherLocalProcessIsRefusedByTheTunnelAndTheSessionCarriesOn) {
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        const auto others = own_loopback_listeners();
        // The tunnel serves on the session's own thread while this one waits for the other
        // process.
        auto config = tls_session_config(hosts(), shared_test_ca().ca());
        config.dedicated_io_thread = true;
        session s(ioc.get_executor(), config);
        co_await connect(s);
        const auto id = s.id().id;
        std::set<std::uint16_t> tunnels;
        for (auto p : own_loopback_listeners()) {
            if (!others.contains(p)) {
                tunnels.insert(p);
            }
        }
        CO_REQUIRE(tunnels.size() == 1);
        // Another process connects to the tunnel and sends a ZooKeeper handshake: it is closed
        // at once, unanswered.
        const auto [status, out] = run_shell(
            "python3 -c 'import socket,struct\n"
            "s=socket.create_connection((\"127.0.0.1\"," +
            std::to_string(*tunnels.begin()) +
            "))\n"
            "s.settimeout(5)\n"
            "try:\n"
            // length, protocol version, last zxid, timeout, session id, password
            "  s.sendall(struct.pack(\">iiqiqi16s\",44,0,0,6000,0,16,bytes(16)))\n"
            "  print(\"closed\" if s.recv(64)==b\"\" else \"answered\")\n"
            "except (ConnectionResetError, BrokenPipeError):\n"
            "  print(\"closed\")'");
        EXPECT_EQ(out, "closed\n") << status;
        // The session's own connection was not touched: same session, still connected, working.
        EXPECT_EQ(s.state(), session_state::connected);
        EXPECT_EQ(s.id().id, id);
        mutex m(s, fresh_root() + "/lock");
        auto [lock_ec, lk] = co_await m.async_lock(tuple);
        EXPECT_FALSE(lock_ec) << lock_ec.message();
        if (!lock_ec) {
            co_await lk.async_release(tuple);
        }
        co_await s.async_close(tuple);
    });
}

TEST_F(TlsSession, SetServersReachesTheNewServersThroughTunnelsToo) {
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), tls_session_config(hosts(), shared_test_ca().ca()));
        co_await connect(s);
        EXPECT_FALSE(s.set_servers("localhost:" + port()));
        auto [ec, st] = co_await s.async_exists("/", tuple);
        EXPECT_FALSE(ec) << ec.message();
        co_await s.async_close(tuple);
    });
}

TEST(TlsSessionPorts, TlsToThePlaintextPortFailsTheHandshake) {
    auto config = tls_session_config(shared_hosts(), shared_test_ca().ca());
    EXPECT_EQ(connect_outcome(config), errc::tls_handshake_failed);
}

TEST(TlsSessionConfig, UnusableSettingsFailTheConnectAtOnce) {
    const auto& ca = shared_test_ca();
    const auto with = [&](auto change) {
        auto config = tls_session_config(shared_hosts(), ca.ca());
        change(*config.tls);
        return connect_outcome(config);
    };
    EXPECT_EQ(with([](tls_config& t) { t.ca_file.clear(); }), errc::tls_config_invalid);
    log_capture session_log(zkr::log::channels::session);
    EXPECT_EQ(with([&](tls_config& t) { t.ca_file = ca.file("no-such-ca.pem"); }),
              errc::tls_config_invalid);
    EXPECT_TRUE(contains(session_log.text(), "the CA file " + ca.file("no-such-ca.pem") +
                                                 ": No such file or directory"))
        << session_log.text();
    EXPECT_EQ(with([&](tls_config& t) { t.certificate_file = ca.client_certificate(); }),
              errc::tls_config_invalid);  // a certificate without its key
    EXPECT_EQ(with([&](tls_config& t) {
                  t.certificate_file = ca.client_certificate();
                  t.key_file = ca.encrypted_client_key();
                  t.key_password = "not the password";
              }),
              errc::tls_config_invalid);
    EXPECT_EQ(with([](tls_config& t) { t.handshake_timeout = 6s; }), errc::invalid_argument);
    EXPECT_EQ(with([](tls_config& t) { t.handshake_timeout = -1ms; }), errc::invalid_argument);
}

TEST(TlsSessionAuth, ClientAuthNeedWantsACertificateAndTakesAnEncryptedKey) {
    const auto& ca = shared_test_ca();
    zk_server server(tls_server_options{ca.dir(), "need"});
    auto config = tls_session_config(server.hosts(), ca.ca());
    EXPECT_EQ(connect_outcome(config), errc::tls_handshake_failed);
    config.tls->certificate_file = ca.client_certificate();
    config.tls->key_file = ca.client_key();
    EXPECT_TRUE(locks_over(config));
    config.tls->key_file = ca.encrypted_client_key();
    config.tls->key_password = ca.client_key_password();
    EXPECT_TRUE(locks_over(config));
}

TEST(TlsSessionCertificates, ExpiredAndWrongHostCertificatesFailTheConnect) {
    const auto& ca = shared_test_ca();
    tls_server_options expired(ca.dir());
    expired.key_store = ca.file("expired-server.pem");
    tls_server_options wrong_host(ca.dir());
    wrong_host.key_store = ca.file("wrong-host-server.pem");
    zk_server expired_server(expired);
    zk_server wrong_host_server(wrong_host);

    log_capture session_log(zkr::log::channels::session);
    EXPECT_EQ(connect_outcome(tls_session_config(expired_server.hosts(), ca.ca())),
              errc::tls_certificate_rejected);
    EXPECT_TRUE(contains(session_log.text(), "certificate has expired")) << session_log.text();
    auto config = tls_session_config(wrong_host_server.hosts(), ca.ca());
    EXPECT_EQ(connect_outcome(config), errc::tls_certificate_rejected);
    EXPECT_TRUE(contains(session_log.text(), "IP address mismatch")) << session_log.text();
    // What verify_host = false gives away: a certificate for another host is taken.
    config.tls->verify_host = false;
    EXPECT_TRUE(locks_over(config));
}

/// Counts the session's disconnections (session_config::observer; driver thread).
struct tls_disconnection_counter final : observer {
    std::atomic<int> suspensions{0};
    void session_state_changed(session_state, session_state to) noexcept override {
        if (to == session_state::suspended) {
            ++suspensions;
        }
    }
};

TEST(TlsSessionEnsemble, ReconnectionsReachTheNextServerThroughItsOwnTunnel) {
    const auto& ca = shared_test_ca();
    zk_server ensemble(tls_server_options{ca.dir()}, 3);
    auto counter = std::make_shared<tls_disconnection_counter>();
    auto config = tls_session_config(ensemble.hosts(), ca.ca());
    config.session_timeout = 10s;       // outlives every restart
    config.dedicated_io_thread = true;  // the restarts block this thread, not the session
    config.observer = counter;
    run(
        [&](asio::io_context& ioc) -> asio::awaitable<void> {
            session s(ioc.get_executor(), config);
            co_await connect(s);
            const auto id = s.id().id;
            mutex m(s, fresh_root() + "/lock");
            auto lk = co_await m.async_lock(asio::use_awaitable);
            // Every member killed and started again in turn: the one the session uses among
            // them, so that it moves to another member, through that member's tunnel.
            for (int n = 1; n <= 3; ++n) {
                ensemble.kill(n);
                ensemble.restart(n);
                CO_REQUIRE(co_await eventually(
                    [&] { return s.state() == session_state::connected; }, 30s));
            }
            EXPECT_GE(counter->suspensions.load(), 1);
            EXPECT_EQ(s.id().id, id) << "the same session throughout";
            EXPECT_TRUE(lk.owns());
            auto [ec] = co_await lk.async_release(tuple);
            EXPECT_FALSE(ec) << ec.message();
            co_await s.async_close(tuple);
        },
        180s);
}

}  // namespace
}  // namespace zkr::test
