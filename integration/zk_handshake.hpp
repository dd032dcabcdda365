// A ZooKeeper connect handshake sent by hand (a ConnectRequest for a new session, and its
// answer): whether a port, a proxy or a tunnel leads to a serving ZooKeeper, without a client
// library in between.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace zkr::test {

enum class handshake_outcome {
    answered,  ///< a ConnectResponse with a session id
    closed,    ///< the peer closed (or reset) the connection
    silent,    ///< no complete answer within the limit
    garbled,   ///< an answer that is no ConnectResponse
};
std::ostream& operator<<(std::ostream& out, handshake_outcome outcome);

/// Sends a ConnectRequest on `socket` (connected) and reads the answer for up to `limit`.
boost::asio::awaitable<handshake_outcome> zookeeper_handshake(boost::asio::ip::tcp::socket& socket,
                                                              std::chrono::milliseconds limit);

/// The same on a new connection to 127.0.0.1:`port`, on an io_context of its own.
handshake_outcome zookeeper_handshake_on(std::uint16_t port, std::chrono::milliseconds limit);

/// The port of the first server of a connect string ("127.0.0.1:2181,..." -> 2181).
std::uint16_t first_port(const std::string& hosts);

}  // namespace zkr::test
