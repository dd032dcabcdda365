// The TLS material of the real-server tests: a throw-away certificate authority that
// tools/test-ca.sh makes at test time, and the paths of what it made.
#pragma once

#include <string>

namespace zkr::test {

/// A CA, server and client certificates in a fresh directory (see tools/test-ca.sh for the
/// list), removed on destruction.
class test_ca {
  public:
    test_ca();  // throws when tools/test-ca.sh fails
    ~test_ca();
    test_ca(const test_ca&) = delete;
    test_ca& operator=(const test_ca&) = delete;

    /// The directory tools/zk.sh start --tls takes (tls_server_options::ca_dir).
    const std::string& dir() const { return dir_; }
    /// A file of it by name: "ca.pem", "other-server.pem", "client.key"...
    std::string file(const std::string& name) const { return dir_ + "/" + name; }
    std::string ca() const { return file("ca.pem"); }
    std::string other_ca() const { return file("other-ca.pem"); }
    std::string client_certificate() const { return file("client.pem"); }
    std::string client_key() const { return file("client.key"); }
    std::string encrypted_client_key() const { return file("client-encrypted.key"); }
    /// The password of encrypted_client_key().
    std::string client_key_password() const;

  private:
    std::string dir_;
};

/// The CA shared by the whole run (made on first use, removed at exit).
const test_ca& shared_test_ca();

}  // namespace zkr::test
