// A TCP proxy between a client and ZooKeeper that a test can cut and restore: the fault
// injector for connection loss at a moment of the test's choosing (a paused server needs 2/3
// of the session timeout before the client notices; a cut connection is noticed at once).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace zkr::test {

class tcp_proxy {
  public:
    /// Listens on `listen_address` (a free port) and forwards to `target` ("host:port").
    explicit tcp_proxy(const std::string& target, const std::string& listen_address = "127.0.0.1");
    ~tcp_proxy();
    tcp_proxy(const tcp_proxy&) = delete;
    tcp_proxy& operator=(const tcp_proxy&) = delete;

    /// "127.0.0.1:<port>" ("[::1]:<port>" for IPv6): give this to the client instead of the
    /// server's address.
    std::string address() const;

    /// Closes every connection and refuses new ones until restore().
    void cut();
    void restore();

    /// Keeps forwarding requests but drops the server's replies: the server acts on a request
    /// whose answer the client never gets (a lost create, for instance). Undone by restore().
    void drop_replies();

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace zkr::test
