// The TLS test servers themselves (tools/zk.sh start --tls, tools/test-ca.sh), checked with
// clients that are not zkr: kazoo with use_ssl, openssl s_client, and a ZooKeeper handshake sent
// in plaintext. What zkr's TLS is tested against must first be shown to be what it claims.
#include "shell.hpp"
#include "test_support.hpp"
#include "tls_material.hpp"
#include "tls_server_suite.hpp"
#include "zk_handshake.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

namespace zkr::test {
namespace {

/// kazoo_tls_probe.py's line: "served CHILDREN" or "refused REASON".
std::string kazoo_over_tls(const std::string& hosts, const std::string& ca,
                           const std::string& identity = {}) {
    return run_shell("/usr/bin/python3 '" + source_dir() +
                     "/integration/peers/kazoo_tls_probe.py' '" + hosts + "' '" + ca + "' " +
                     identity)
        .second;
}

std::string client_identity(const test_ca& ca) {
    return "'" + ca.client_certificate() + "' '" + ca.client_key() + "'";
}

/// openssl s_client's verdict on the server at `hosts` with `ca` as the only trust, checking the
/// host name localhost and the address 127.0.0.1: its exit status (0: verified) and output.
std::pair<int, std::string> s_client_verdict(const std::string& hosts, const std::string& ca) {
    return run_shell("echo | timeout 10 openssl s_client -connect 127.0.0.1:" +
                     std::to_string(first_port(hosts)) + " -CAfile '" + ca +
                     "' -no-CApath -no-CAstore -verify_hostname localhost -verify_ip 127.0.0.1"
                     " -verify_return_error");
}

class TlsServer : public tls_server_suite {};

TEST_F(TlsServer, ServesKazooTrustingItsCa) {
    EXPECT_EQ(kazoo_over_tls(hosts(), shared_test_ca().ca()), "served zookeeper\n");
}

TEST_F(TlsServer, CertificateVerifiesForLocalhostAndTheLoopbackAddress) {
    const auto [status, out] = s_client_verdict(hosts(), shared_test_ca().ca());
    EXPECT_EQ(status, 0) << out;
    EXPECT_TRUE(contains(out, "Verify return code: 0 (ok)")) << out;
}

TEST_F(TlsServer, RefusesKazooTrustingAnotherCa) {
    EXPECT_TRUE(contains(kazoo_over_tls(hosts(), shared_test_ca().other_ca()), "refused "));
}

TEST_F(TlsServer, PlaintextHandshakeOnTheSecurePortGetsNoAnswer) {
    EXPECT_EQ(zookeeper_handshake_on(first_port(hosts()), 3s), handshake_outcome::closed);
}

TEST(TlsServerAuth, ClientAuthNeedRefusesAClientWithoutCertificate) {
    const auto& ca = shared_test_ca();
    zk_server server(tls_server_options{ca.dir(), "need"});
    EXPECT_TRUE(contains(kazoo_over_tls(server.hosts(), ca.ca()), "refused ")) << server.hosts();
    EXPECT_EQ(kazoo_over_tls(server.hosts(), ca.ca(), client_identity(ca)), "served zookeeper\n");
    EXPECT_EQ(kazoo_over_tls(server.hosts(), ca.ca(),
                             "'" + ca.client_certificate() + "' '" + ca.encrypted_client_key() +
                                 "' '" + ca.file("client-key-password") + "'"),
              "served zookeeper\n");
}

TEST(TlsServerAuth, PlaintextPortAlongsideServesPlaintextOnly) {
    const auto& ca = shared_test_ca();
    tls_server_options options(ca.dir());
    options.plaintext = true;
    zk_server server(options);
    const auto plaintext = server.plaintext_hosts();
    ASSERT_NE(plaintext, server.hosts());
    EXPECT_EQ(zookeeper_handshake_on(first_port(plaintext), 5s), handshake_outcome::answered);
    EXPECT_EQ(zookeeper_handshake_on(first_port(server.hosts()), 3s), handshake_outcome::closed);
    EXPECT_EQ(kazoo_over_tls(server.hosts(), ca.ca()), "served zookeeper\n");
}

TEST(TlsServerAuth, KeyStoreOfAnotherCaVerifiesOnlyWithThatCa) {
    const auto& ca = shared_test_ca();
    tls_server_options options(ca.dir());
    options.key_store = ca.file("other-server.pem");
    zk_server server(options);
    const auto [status, out] = s_client_verdict(server.hosts(), ca.ca());
    EXPECT_NE(status, 0) << out;
    EXPECT_TRUE(contains(out, "unable to get local issuer certificate")) << out;
    EXPECT_EQ(s_client_verdict(server.hosts(), ca.other_ca()).first, 0);
}

/// The certificates made for the failure tests fail as they are meant to (no server needed).
TEST(TlsMaterial, BadServerCertificatesFailVerificationForTheirReason) {
    const auto& ca = shared_test_ca();
    const auto verify = [&](const std::string& certificate, const std::string& options = {}) {
        return run_shell("openssl verify -CAfile '" + ca.ca() + "' " + options + " '" +
                         ca.file(certificate) + "'");
    };
    EXPECT_EQ(verify("server.crt", "-verify_hostname localhost -verify_ip 127.0.0.1").first, 0);
    EXPECT_TRUE(contains(verify("expired-server.crt").second, "certificate has expired"));
    EXPECT_TRUE(contains(verify("wrong-host-server.crt", "-verify_hostname localhost").second,
                         "hostname mismatch"));
    EXPECT_TRUE(
        contains(verify("other-server.crt").second, "unable to get local issuer certificate"));
    EXPECT_EQ(verify("client.pem", "-purpose sslclient").first, 0);
}

}  // namespace
}  // namespace zkr::test
