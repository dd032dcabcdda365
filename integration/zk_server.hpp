// The ZooKeeper servers the real-server tests run against: one started with tools/zk.sh per
// zk_server (a standalone server or an ensemble), and the one the whole run shares.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>

namespace zkr::test {

/// How tools/zk.sh start --tls sets up a server's secure client port.
struct tls_server_options {
    explicit tls_server_options(std::string ca, std::string auth = "none")
        : ca_dir(std::move(ca)), client_auth(std::move(auth)) {}
    std::string ca_dir;       ///< tools/test-ca.sh's output (test_ca::dir())
    std::string client_auth;  ///< ssl.clientAuth: none, want or need
    std::string key_store;    ///< PEM key + certificate; default ca_dir/server.pem
    bool plaintext = false;   ///< keep the plaintext client port open as well
};

/// A ZooKeeper server (or three-node ensemble) started with tools/zk.sh, stopped on
/// destruction.
class zk_server {
  public:
    /// `java_opts`: extra JVM options for every start of the servers (ZK_JAVA_OPTS of zk.sh),
    /// e.g. "-Djute.maxbuffer=65536".
    explicit zk_server(int members = 1, std::string java_opts = {});
    /// An ensemble of `members` servers in `dir` (".../zk" in a directory of fresh_temp_dir();
    /// `dir` is removed on destruction, and its parent if empty) whose servers reach one another
    /// where `peers_file` says (tools/zk.sh start --peers), with a TLS client port when `tls`
    /// says so (hosts() then names the secure ports).
    zk_server(int members, std::string dir, const std::string& peers_file,
              const std::optional<tls_server_options>& tls = std::nullopt);
    /// `members` servers with a TLS client port; hosts() names the secure ports.
    explicit zk_server(const tls_server_options& tls, int members = 1);
    ~zk_server();
    zk_server(const zk_server&) = delete;
    zk_server& operator=(const zk_server&) = delete;

    const std::string& hosts() const { return hosts_; }
    /// The plaintext connect string of a server started with tls_server_options::plaintext.
    std::string plaintext_hosts();
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
    /// Server n's java process, 0 when it does not run.
    pid_t pid_of(int n) const;
    void signal(int n, int sig);
    std::string dir_;
    std::string hosts_;
    std::string java_opts_;
};

/// The server shared by the whole run (started once; ZKR_TEST_HOSTS overrides it). With
/// ZKR_TEST_TLS=1 (tls_test_mode()) it also has a TLS port (shared_secure_hosts()); this
/// stays its plaintext connect string, which the tests observe through, while every session
/// config_for() makes for it goes over TLS.
const std::string& shared_hosts();
/// The TLS connect string of the shared server in TLS test mode, else empty.
const std::string& shared_secure_hosts();
/// True when ZKR_TEST_TLS=1: the run's sessions on the shared server go over TLS.
bool tls_test_mode();
zk_server* shared_server();  // null when ZKR_TEST_HOSTS is used

}  // namespace zkr::test
