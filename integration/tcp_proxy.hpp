// A TCP proxy between a client and ZooKeeper that a test can cut and restore: the fault
// injector for connection loss at a moment of the test's choosing (a paused server needs 2/3
// of the session timeout before the client notices; a cut connection is noticed at once).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace zkr::test {

class tcp_proxy {
  public:
    /// Listens on `listen_address` (a free port) and forwards to `target` ("host:port").
    explicit tcp_proxy(const std::string& target, const std::string& listen_address = "127.0.0.1");
    /// Forwards each new connection to where `target` says at that moment ("host:port"; "" while
    /// there is nowhere to go: the connection is closed). For a proxy that must listen before its
    /// target's port is chosen, such as the links of a partitionable ensemble.
    explicit tcp_proxy(std::function<std::string()> target,
                       const std::string& listen_address = "127.0.0.1");
    ~tcp_proxy();
    tcp_proxy(const tcp_proxy&) = delete;
    tcp_proxy& operator=(const tcp_proxy&) = delete;

    /// "127.0.0.1:<port>" ("[::1]:<port>" for IPv6): give this to the client instead of the
    /// server's address.
    std::string address() const;

    /// A target that refuses a connection is tried again for up to `patience` (default 0)
    /// before the client's connection is closed. The client's connect has succeeded already (the
    /// proxy accepted it), so a refusal it would have retried would otherwise read as a
    /// connection that broke once made: a ZooKeeper follower that reaches its new leader's
    /// quorum port a moment before the leader listens gives up following and elects again.
    void wait_for_target(std::chrono::milliseconds patience);

    /// Closes every connection and refuses new ones until restore() (each end notices at once).
    void cut();
    void restore();

    /// Stops forwarding without closing anything, until restore(): what each side sends, and a
    /// close, waits (in the proxy and the kernels' buffers) and arrives at restore(), as TCP
    /// retransmits across a network that drops packets for a while. A new connection is accepted
    /// and reaches its target only at restore(). Neither end notices but by its own timeouts.
    void silence();

    /// Keeps forwarding requests but drops the server's replies: the server acts on a request
    /// whose answer the client never gets (a lost create, for instance). Undone by restore().
    void drop_replies();

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace zkr::test
