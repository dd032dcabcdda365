// The zkr tool's TLS options (--tls-ca, --tls-cert, --tls-key, --tls-key-password-file,
// --tls-no-verify-host and their $ZKR_TLS_... variables) against TLS-only test servers: what
// connects, what is refused and why, and which command lines are usage errors.
#include "test_support.hpp"
#include "tls_material.hpp"
#include "tls_server_suite.hpp"

#include <zkr/error.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

namespace zkr::test {
namespace {

constexpr int cli_tls_exit_usage = 64;
constexpr int cli_tls_exit_unavailable = 69;

/// `text` single-quoted for sh (the test's file names hold no quote).
std::string cli_tls_quoted(const std::string& text) {
    return "'" + text + "'";
}

/// The --tls-ca option trusting the test CA.
std::string cli_tls_trusting_test_ca() {
    return "--tls-ca " + cli_tls_quoted(shared_test_ca().ca());
}

/// --tls-cert and --tls-key with the test CA's client certificate and `key`.
std::string cli_tls_identity(const std::string& key) {
    return " --tls-cert " + cli_tls_quoted(shared_test_ca().client_certificate()) + " --tls-key " +
           cli_tls_quoted(key);
}

/// The message the tool prints for a connection that failed with `e`.
std::string cli_tls_message_of(zkr::errc e) {
    return make_error_code(e).message();
}

class CliTls : public tls_server_suite {};

TEST_F(CliTls, LockTrustingTheCaRunsTheCommand) {
    const auto [status, output] = zkr_shell(
        "$ZKR " + cli_tls_trusting_test_ca() + " lock " + fresh_root() + " -- echo held", hosts());
    EXPECT_EQ(status, 0) << output;
    EXPECT_EQ(output, "held\n");  // nothing else: a connection that succeeds logs nothing
}

TEST_F(CliTls, PlaintextClientIsNotServedOnTheSecurePort) {
    // What the other tests rely on: without the TLS options the tool cannot use this server.
    const auto [status, output] =
        zkr_shell("$ZKR --session-timeout 2000 lock " + fresh_root() + " -- echo held", hosts());
    EXPECT_EQ(status, cli_tls_exit_unavailable) << output;
    EXPECT_FALSE(contains(output, "held")) << output;
}

TEST_F(CliTls, CaFromTheEnvironmentIsTrusted) {
    const auto path = fresh_root();
    const auto env = "ZKR_TLS_CA=" + cli_tls_quoted(shared_test_ca().ca()) + " ";
    const auto [added, added_output] = zkr_shell(env + "$ZKR counter add " + path + " 5", hosts());
    EXPECT_EQ(added, 0) << added_output;
    const auto [read, read_output] = zkr_shell(env + "$ZKR counter get " + path, hosts());
    EXPECT_EQ(read, 0) << read_output;
    EXPECT_EQ(read_output, "5\n");
}

TEST_F(CliTls, CommandLineCaWinsOverTheEnvironment) {
    const auto [status, output] =
        zkr_shell("ZKR_TLS_CA=/no/such/ca.pem $ZKR " + cli_tls_trusting_test_ca() + " lock " +
                      fresh_root() + " -- echo held",
                  hosts());
    EXPECT_EQ(status, 0) << output;
    EXPECT_EQ(output, "held\n");
}

TEST_F(CliTls, CaDirectoryNamedByHashIsTrusted) {
    const auto dir = fresh_temp_dir();
    std::filesystem::copy_file(shared_test_ca().ca(), dir + "/ca.pem");
    const auto [rehashed, rehash_output] = run_shell("openssl rehash " + cli_tls_quoted(dir));
    ASSERT_EQ(rehashed, 0) << rehash_output;
    const auto [status, output] = zkr_shell(
        "$ZKR --tls-ca " + cli_tls_quoted(dir) + " lock " + fresh_root() + " -- echo held",
        hosts());
    std::filesystem::remove_all(dir);
    EXPECT_EQ(status, 0) << output;
    EXPECT_EQ(output, "held\n");
}

TEST_F(CliTls, MissingCaFileFailsWithTheSettingsError) {
    const auto [status, output] =
        zkr_shell("$ZKR --tls-ca /no/such/ca.pem lock " + fresh_root() + " -- echo held", hosts());
    EXPECT_EQ(status, cli_tls_exit_unavailable) << output;
    EXPECT_TRUE(contains(output, cli_tls_message_of(zkr::errc::tls_config_invalid))) << output;
    // The session's log, shown without --verbose, says why.
    EXPECT_TRUE(contains(output, "the CA file /no/such/ca.pem: No such file or directory"))
        << output;
    EXPECT_FALSE(contains(output, "held")) << output;
}

TEST_F(CliTls, UnreadablePasswordFileFailsBeforeConnecting) {
    const auto& ca = shared_test_ca();
    const auto [status, output] = zkr_shell(
        "$ZKR " + cli_tls_trusting_test_ca() + cli_tls_identity(ca.encrypted_client_key()) +
            " --tls-key-password-file /no/such/password lock " + fresh_root() + " -- echo held",
        hosts());
    EXPECT_EQ(status, cli_tls_exit_unavailable) << output;
    EXPECT_TRUE(contains(output, "cannot read the TLS key's password from /no/such/password"))
        << output;
    EXPECT_FALSE(contains(output, "held")) << output;
}

TEST_F(CliTls, HelpSaysTheHostCheckFlagIsUnsafe) {
    const auto [status, output] = zkr_shell("$ZKR --help", hosts());
    EXPECT_EQ(status, 0);
    EXPECT_TRUE(contains(output, "[--tls-no-verify-host]")) << output;
    EXPECT_TRUE(contains(output, "UNSAFE")) << output;
}

/// A local port that listens and never accepts: the kernel still completes connections to it,
/// so whether anything connected can be told afterwards.
class cli_tls_listener {
  public:
    std::string hosts() const {
        return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
    }
    bool was_connected_to() {
        acceptor_.non_blocking(true);
        boost::asio::ip::tcp::socket socket(io_);
        boost::system::error_code ec;
        acceptor_.accept(socket, ec);
        return !ec;
    }

  private:
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_{io_, {boost::asio::ip::address_v4::loopback(), 0}};
};

TEST(CliTlsUsage, IncompleteSettingsAreUsageErrorsThatConnectNowhere) {
    const auto& ca = shared_test_ca();
    const auto cert = " --tls-cert " + cli_tls_quoted(ca.client_certificate());
    const auto key = " --tls-key " + cli_tls_quoted(ca.client_key());
    const auto password =
        " --tls-key-password-file " + cli_tls_quoted(ca.file("client-key-password"));
    const std::pair<std::string, std::string> cases[] = {
        {"$ZKR" + cert, "--tls-cert ($ZKR_TLS_CERT) needs --tls-key"},
        {"$ZKR" + key, "--tls-key ($ZKR_TLS_KEY) needs --tls-cert"},
        {"ZKR_TLS_CERT=" + cli_tls_quoted(ca.client_certificate()) + " $ZKR",
         "--tls-cert ($ZKR_TLS_CERT) needs --tls-key"},
        {"$ZKR " + cli_tls_trusting_test_ca() + password,
         "--tls-key-password-file ($ZKR_TLS_KEY_PASSWORD_FILE) needs --tls-key"},
        {"$ZKR --tls-no-verify-host", "TLS needs --tls-ca FILE ($ZKR_TLS_CA)"},
        {"ZKR_TLS_NO_VERIFY_HOST=1 $ZKR", "TLS needs --tls-ca FILE ($ZKR_TLS_CA)"},
        {"$ZKR" + cert + key, "TLS needs --tls-ca FILE ($ZKR_TLS_CA)"},  // no implied trust
        {"ZKR_TLS_NO_VERIFY_HOST=yes $ZKR " + cli_tls_trusting_test_ca(),
         "ZKR_TLS_NO_VERIFY_HOST takes 1 (or 0), not 'yes'"},
        {"$ZKR --tls-ca ''", "--tls-ca takes a file name"},
    };
    cli_tls_listener listener;
    for (const auto& [command, message] : cases) {
        const auto [status, output] =
            zkr_shell(command + " lock " + fresh_root() + " -- echo held", listener.hosts());
        EXPECT_EQ(status, cli_tls_exit_usage) << command << "\n" << output;
        EXPECT_TRUE(contains(output, "zkr: " + message)) << command << "\n" << output;
        EXPECT_FALSE(contains(output, "held")) << command << "\n" << output;
    }
    EXPECT_FALSE(listener.was_connected_to());
}

TEST(CliTlsUsage, ListenerSeesAConnectionAttempt) {
    // The check of the test above can fail: a command line that is no usage error connects.
    cli_tls_listener listener;
    const auto [status, output] =
        zkr_shell("$ZKR --session-timeout 1000 " + cli_tls_trusting_test_ca() + " lock " +
                      fresh_root() + " -- echo held",
                  listener.hosts());
    EXPECT_EQ(status, cli_tls_exit_unavailable) << output;
    EXPECT_TRUE(listener.was_connected_to());
}

/// A TLS-only server that wants a client certificate (ssl.clientAuth=need), for the suite.
class CliTlsClientAuth : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        server_ = std::make_unique<zk_server>(tls_server_options{shared_test_ca().dir(), "need"});
    }
    static void TearDownTestSuite() { server_.reset(); }
    static const std::string& hosts() { return server_->hosts(); }

    /// `zkr OPTIONS lock PATH -- echo held` trusting the test CA: its status and output.
    static std::pair<int, std::string> lock_with(const std::string& options) {
        return zkr_shell("$ZKR " + cli_tls_trusting_test_ca() + options + " lock " + fresh_root() +
                             " -- echo held",
                         hosts());
    }

  private:
    static inline std::unique_ptr<zk_server> server_;
};

TEST_F(CliTlsClientAuth, WithoutCertificateTheHandshakeFails) {
    const auto [status, output] = lock_with("");
    EXPECT_EQ(status, cli_tls_exit_unavailable) << output;
    EXPECT_TRUE(contains(output, cli_tls_message_of(zkr::errc::tls_handshake_failed))) << output;
    EXPECT_FALSE(contains(output, "held")) << output;
}

TEST_F(CliTlsClientAuth, CertificateAndKeyAreAccepted) {
    const auto [status, output] = lock_with(cli_tls_identity(shared_test_ca().client_key()));
    EXPECT_EQ(status, 0) << output;
    EXPECT_EQ(output, "held\n");
}

TEST_F(CliTlsClientAuth, EncryptedKeyOpensWithThePasswordFile) {
    const auto& ca = shared_test_ca();
    const auto [status, output] =
        lock_with(cli_tls_identity(ca.encrypted_client_key()) + " --tls-key-password-file " +
                  cli_tls_quoted(ca.file("client-key-password")));
    EXPECT_EQ(status, 0) << output;
    EXPECT_EQ(output, "held\n");
}

TEST_F(CliTlsClientAuth, EncryptedKeyWithoutItsPasswordIsASettingsError) {
    const auto [status, output] =
        lock_with(cli_tls_identity(shared_test_ca().encrypted_client_key()));
    EXPECT_EQ(status, cli_tls_exit_unavailable) << output;
    EXPECT_TRUE(contains(output, cli_tls_message_of(zkr::errc::tls_config_invalid))) << output;
}

TEST_F(CliTlsClientAuth, IdentityFromTheEnvironmentIsAccepted) {
    const auto& ca = shared_test_ca();
    const auto [status, output] = zkr_shell(
        "ZKR_TLS_CA=" + cli_tls_quoted(ca.ca()) +
            " ZKR_TLS_CERT=" + cli_tls_quoted(ca.client_certificate()) +
            " ZKR_TLS_KEY=" + cli_tls_quoted(ca.encrypted_client_key()) +
            " ZKR_TLS_KEY_PASSWORD_FILE=" + cli_tls_quoted(ca.file("client-key-password")) +
            " $ZKR lock " + fresh_root() + " -- echo held",
        hosts());
    EXPECT_EQ(status, 0) << output;
    EXPECT_EQ(output, "held\n");
}

/// `zkr --tls-ca CA [EXTRA] lock PATH -- echo held` against a TLS server whose certificate is
/// `key_store` of the test CA's directory: its status and output.
std::pair<int, std::string> cli_tls_lock_on_server_with(const std::string& key_store,
                                                        const std::string& extra = {}) {
    const auto& ca = shared_test_ca();
    tls_server_options options(ca.dir());
    options.key_store = ca.file(key_store);
    zk_server server(options);
    return zkr_shell(
        "$ZKR " + cli_tls_trusting_test_ca() + extra + " lock " + fresh_root() + " -- echo held",
        server.hosts());
}

TEST(CliTlsCertificates, ServerCertificateOfAnotherCaIsRejectedWithOpenSslsReason) {
    const auto [status, output] = cli_tls_lock_on_server_with("other-server.pem");
    EXPECT_EQ(status, cli_tls_exit_unavailable) << output;
    EXPECT_TRUE(contains(output, cli_tls_message_of(zkr::errc::tls_certificate_rejected)))
        << output;
    // The session's warning, shown without --verbose: OpenSSL's reason.
    EXPECT_TRUE(contains(output, "unable to get local issuer certificate")) << output;
    EXPECT_FALSE(contains(output, "held")) << output;
}

TEST(CliTlsCertificates, WrongHostIsRejectedUnlessTheUnsafeFlagSkipsTheCheck) {
    const auto [status, output] = cli_tls_lock_on_server_with("wrong-host-server.pem");
    EXPECT_EQ(status, cli_tls_exit_unavailable) << output;
    EXPECT_TRUE(contains(output, "IP address mismatch")) << output;
    const auto [unchecked, unchecked_output] =
        cli_tls_lock_on_server_with("wrong-host-server.pem", " --tls-no-verify-host");
    EXPECT_EQ(unchecked, 0) << unchecked_output;
    EXPECT_EQ(unchecked_output, "held\n");
}

}  // namespace
}  // namespace zkr::test
