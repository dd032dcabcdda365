// The TLS tunnel (src/tls_tunnel.hpp) against real TLS servers (tools/zk.sh start --tls): a
// ZooKeeper handshake sent in plaintext to the tunnel is answered by the server behind it, and
// each way the TLS set-up can fail closes the connection with its reason.
#include "tls_tunnel.hpp"
#include "test_support.hpp"
#include "tls_material.hpp"
#include "tls_server_suite.hpp"
#include "zk_handshake.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using zkr::detail::tls_failure;
using tls_settings = zkr::tls_config;

/// What one connection through a tunnel came to.
struct tunnelled_handshake {
    handshake_outcome outcome = handshake_outcome::garbled;
    tls_failure failure = tls_failure::none;
    std::string reason;
    std::size_t refused = 0;
};

tls_settings trusting(const std::string& ca_file) {
    tls_settings settings;
    settings.ca_file = ca_file;
    settings.handshake_timeout = 3s;
    return settings;
}

/// A ZooKeeper handshake through a tunnel to the first server of `hosts` (named `host`), from
/// the tunnel owner's client socket.
tunnelled_handshake handshake_through_tunnel(const tls_settings& settings, const std::string& hosts,
                                             const std::string& host = "127.0.0.1") {
    tunnelled_handshake result;
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        const auto loopback = asio::ip::address_v4::loopback();
        // Bound before it connects, as the C client's socket is known before its connection.
        tcp::socket client(ioc, tcp::endpoint(loopback, 0));
        const auto own_port = client.local_endpoint().port();
        auto context = zkr::detail::make_tls_context(settings);
        zkr::detail::tls_tunnel tunnel(ioc.get_executor(), context, settings, host,
                                       first_port(hosts),
                                       [own_port](std::uint16_t peer) { return peer == own_port; });
        auto [ec] = co_await client.async_connect({loopback, tunnel.local_port()}, tuple);
        CO_REQUIRE(!ec);
        result.outcome = co_await zookeeper_handshake(client, 8s);
        result.failure = tunnel.last_failure();
        result.reason = tunnel.last_failure_reason();
        result.refused = tunnel.refused_connections();
    });
    return result;
}

class TlsTunnel : public tls_server_suite {};

TEST_F(TlsTunnel, HandshakeThroughTheTunnelIsAnsweredByTheServer) {
    const auto through = handshake_through_tunnel(trusting(shared_test_ca().ca()), hosts());
    EXPECT_EQ(through.outcome, handshake_outcome::answered) << through.reason;
    EXPECT_EQ(through.failure, tls_failure::none);
}

TEST_F(TlsTunnel, ServerNamedByItsDnsNameIsVerifiedAndAnswers) {
    const auto through =
        handshake_through_tunnel(trusting(shared_test_ca().ca()), hosts(), "localhost");
    EXPECT_EQ(through.outcome, handshake_outcome::answered) << through.reason;
}

TEST_F(TlsTunnel, CertificateFromAnotherCaIsRejectedWithOpenSslsReason) {
    const auto through = handshake_through_tunnel(trusting(shared_test_ca().other_ca()), hosts());
    EXPECT_EQ(through.outcome, handshake_outcome::closed);
    EXPECT_EQ(through.failure, tls_failure::certificate_rejected);
    EXPECT_TRUE(contains(through.reason, "unable to get local issuer certificate"))
        << through.reason;
    EXPECT_TRUE(contains(through.reason, "127.0.0.1:" + std::to_string(first_port(hosts()))))
        << "the reason names the real server: " << through.reason;
}

TEST_F(TlsTunnel, ConnectionFromAnotherLocalSocketIsRefusedAndTheOwnersIsServed) {
    const auto settings = trusting(shared_test_ca().ca());
    std::size_t refused = 0;
    handshake_outcome foreign = handshake_outcome::garbled;
    handshake_outcome own = handshake_outcome::garbled;
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        const auto loopback = asio::ip::address_v4::loopback();
        tcp::socket owner(ioc, tcp::endpoint(loopback, 0));
        tcp::socket intruder(ioc);
        const auto own_port = owner.local_endpoint().port();
        auto context = zkr::detail::make_tls_context(settings);
        zkr::detail::tls_tunnel tunnel(ioc.get_executor(), context, settings, "127.0.0.1",
                                       first_port(hosts()),
                                       [own_port](std::uint16_t peer) { return peer == own_port; });
        auto [intruder_ec] =
            co_await intruder.async_connect({loopback, tunnel.local_port()}, tuple);
        CO_REQUIRE(!intruder_ec);
        foreign = co_await zookeeper_handshake(intruder, 5s);
        auto [owner_ec] = co_await owner.async_connect({loopback, tunnel.local_port()}, tuple);
        CO_REQUIRE(!owner_ec);
        own = co_await zookeeper_handshake(owner, 8s);
        refused = tunnel.refused_connections();
    });
    EXPECT_EQ(foreign, handshake_outcome::closed);
    EXPECT_EQ(refused, 1u);
    EXPECT_EQ(own, handshake_outcome::answered);
}

TEST(TlsTunnelCertificates, ExpiredAndWrongHostCertificatesAreRejected) {
    const auto& ca = shared_test_ca();
    for (const auto& [key_store, reason] :
         {std::pair{"expired-server.pem", "certificate has expired"},
          std::pair{"wrong-host-server.pem", "IP address mismatch"}}) {
        tls_server_options options(ca.dir());
        options.key_store = ca.file(key_store);
        zk_server server(options);
        const auto through = handshake_through_tunnel(trusting(ca.ca()), server.hosts());
        EXPECT_EQ(through.outcome, handshake_outcome::closed) << key_store;
        EXPECT_EQ(through.failure, tls_failure::certificate_rejected) << key_store;
        EXPECT_TRUE(contains(through.reason, reason)) << through.reason;
    }
}

TEST(TlsTunnelCertificates, ClientCertificateWithEncryptedKeyIsRequiredByClientAuthNeed) {
    const auto& ca = shared_test_ca();
    zk_server server(tls_server_options(ca.dir(), "need"));
    const auto anonymous = handshake_through_tunnel(trusting(ca.ca()), server.hosts());
    EXPECT_EQ(anonymous.outcome, handshake_outcome::closed);
    EXPECT_EQ(anonymous.failure, tls_failure::handshake_failed) << anonymous.reason;
    auto identified = trusting(ca.ca());
    identified.certificate_file = ca.client_certificate();
    identified.key_file = ca.encrypted_client_key();
    identified.key_password = ca.client_key_password();
    const auto through = handshake_through_tunnel(identified, server.hosts());
    EXPECT_EQ(through.outcome, handshake_outcome::answered) << through.reason;
}

TEST(TlsTunnelCertificates, PlaintextServerFailsTheHandshake) {
    const auto through = handshake_through_tunnel(trusting(shared_test_ca().ca()), shared_hosts());
    EXPECT_EQ(through.outcome, handshake_outcome::closed);
    EXPECT_EQ(through.failure, tls_failure::handshake_failed) << through.reason;
}

TEST(TlsTunnelCertificates, SilentServerFailsTheHandshakeAtItsDeadline) {
    // A port that listens and never answers: the kernel completes the TCP connection, nobody
    // reads the TLS client hello.
    asio::io_context never_run;
    tcp::acceptor silent(never_run, {asio::ip::address_v4::loopback(), 0});
    auto settings = trusting(shared_test_ca().ca());
    settings.handshake_timeout = 500ms;
    const auto start = std::chrono::steady_clock::now();
    const auto through = handshake_through_tunnel(
        settings, "127.0.0.1:" + std::to_string(silent.local_endpoint().port()));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(through.outcome, handshake_outcome::closed);
    EXPECT_EQ(through.failure, tls_failure::handshake_failed);
    EXPECT_TRUE(contains(through.reason, "no TLS connection within 500 ms")) << through.reason;
    EXPECT_GE(took, 500ms);
    EXPECT_LT(took, 3s);
}

}  // namespace
}  // namespace zkr::test
