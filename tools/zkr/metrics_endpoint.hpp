// --metrics ADDR:PORT: zkr's metrics (zkr::metrics) served on http://ADDR:PORT/metrics, in
// Prometheus' text format, while a long-running command holds its lock or leadership.
#pragma once

#include <zkr/metrics.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <optional>
#include <string>

namespace zkr::cli {

/// "127.0.0.1:9464", "[::1]:9464", port 0 for any free port; nullopt if it is not one.
std::optional<boost::asio::ip::tcp::endpoint> parse_listen_address(const std::string& text);

class metrics_endpoint {
  public:
    /// Listens at once (throws boost::system::system_error if it cannot).
    metrics_endpoint(const boost::asio::any_io_executor& ex,
                     const boost::asio::ip::tcp::endpoint& where,
                     std::shared_ptr<const metrics> source);

    /// Where it listens (the port chosen when asked for port 0).
    boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

    /// Answers scrapes until cancelled, then closes every connection. Connections are served
    /// side by side, each within its own deadline, so that idle or slow clients delay no scrape;
    /// at most a few dozen at once (a new one beyond closes the oldest).
    boost::asio::awaitable<void> serve();

  private:
    struct connections;
    /// One connection: its request, its answer, within its deadline.
    static boost::asio::awaitable<void> answer(
        std::shared_ptr<connections> all, std::shared_ptr<boost::asio::ip::tcp::socket> socket);

    boost::asio::ip::tcp::acceptor acceptor_;
    std::shared_ptr<connections> open_;
};

}  // namespace zkr::cli
