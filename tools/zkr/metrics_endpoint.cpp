#include "metrics_endpoint.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <charconv>
#include <chrono>

namespace zkr::cli {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
/// A scraper that sends no complete request within this is dropped.
constexpr auto request_deadline = std::chrono::seconds(5);
/// Requests are one line and a few headers; more than this is not a scraper.
constexpr std::size_t request_limit = 16 * 1024;

std::string response(std::string_view status, std::string_view content_type,
                     const std::string& body) {
    std::string out = "HTTP/1.1 ";
    out.append(status)
        .append("\r\nContent-Type: ")
        .append(content_type)
        .append("\r\nContent-Length: ")
        .append(std::to_string(body.size()))
        .append("\r\nConnection: close\r\n\r\n")
        .append(body);
    return out;
}

}  // namespace

std::optional<tcp::endpoint> parse_listen_address(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) {
        return std::nullopt;
    }
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const auto port_text = std::string_view(text).substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
        port > 65535) {
        return std::nullopt;
    }
    boost::system::error_code bad;
    const auto address = asio::ip::make_address(host, bad);
    if (bad) {
        return std::nullopt;
    }
    return tcp::endpoint(address, static_cast<unsigned short>(port));
}

metrics_endpoint::metrics_endpoint(const asio::any_io_executor& ex, const tcp::endpoint& where,
                                   std::shared_ptr<const metrics> source)
    : acceptor_(ex, where), source_(std::move(source)) {}

asio::awaitable<void> metrics_endpoint::serve() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(tuple);
        if (ec == asio::error::operation_aborted) {
            co_return;
        }
        if (!ec) {
            co_await answer(std::move(socket));
        }
    }
}

asio::awaitable<void> metrics_endpoint::answer(tcp::socket socket) {
    std::string request;
    asio::steady_timer deadline(socket.get_executor(), request_deadline);
    auto read =
        co_await (asio::async_read_until(socket, asio::dynamic_buffer(request, request_limit),
                                         "\r\n\r\n", tuple) ||
                  deadline.async_wait(tuple));
    if (read.index() != 0 || std::get<0>(std::get<0>(read))) {
        co_return;  // too slow, too long, or gone
    }
    std::string reply;
    if (request.starts_with("GET /metrics ") || request.starts_with("GET /metrics?")) {
        reply = response("200 OK", "text/plain; version=0.0.4; charset=utf-8",
                         to_prometheus_text(source_->collect()));
    } else {
        reply = response("404 Not Found", "text/plain", "zkr serves /metrics only\n");
    }
    co_await asio::async_write(socket, asio::buffer(reply), tuple);
}

}  // namespace zkr::cli
