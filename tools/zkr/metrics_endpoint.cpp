#include "metrics_endpoint.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <charconv>
#include <chrono>
#include <deque>
#include <utility>

namespace zkr::cli {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
/// A connection is closed this long after it was accepted, answered or not: a scraper sends its
/// request at once and reads a page of a few kilobytes.
constexpr auto connection_deadline = std::chrono::seconds(5);
/// Requests are one line and a few headers; more than this is not a scraper.
constexpr std::size_t request_limit = 16 * 1024;
/// Connections served at once: a few scrapers and whoever looks by hand. The oldest gives way to
/// a new one, so that a flood of idle connections cannot lock a scraper out for long.
constexpr std::size_t connection_limit = 32;

/// The end of a request's head, an empty line: "\r\n\r\n", or "\n\n" from clients that end
/// lines with a bare line feed (HTTP/1.1 allows a server to accept those, RFC 9112 2.2).
struct end_of_head {
    template <class Iterator>
    std::pair<Iterator, bool> operator()(Iterator begin, Iterator end) const {
        for (auto i = begin; i != end; ++i) {
            if (*i != '\n') {
                continue;
            }
            auto next = std::next(i);
            if (next != end && *next == '\r') {
                ++next;
            }
            if (next == end) {
                return {i, false};  // perhaps the end: look again from this line feed
            }
            if (*next == '\n') {
                return {std::next(next), true};
            }
        }
        return {end, false};
    }
};

}  // namespace
}  // namespace zkr::cli

template <>
struct boost::asio::is_match_condition<zkr::cli::end_of_head> : std::true_type {};

namespace zkr::cli {
namespace {

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

/// Reads one request and answers it.
asio::awaitable<void> exchange(tcp::socket& socket, const metrics& source) {
    std::string request;
    auto [ec, length] = co_await asio::async_read_until(
        socket, asio::dynamic_buffer(request, request_limit), end_of_head{}, tuple);
    if (ec) {
        co_return;  // too long, or gone
    }
    std::string reply;
    if (request.starts_with("GET /metrics ") || request.starts_with("GET /metrics?")) {
        reply = response("200 OK", "text/plain; version=0.0.4; charset=utf-8",
                         to_prometheus_text(source.collect()));
    } else {
        reply = response("404 Not Found", "text/plain", "zkr serves /metrics only\n");
    }
    co_await asio::async_write(socket, asio::buffer(reply), tuple);
}

}  // namespace

/// The connections being answered, oldest first. Shared with each connection's coroutine, which
/// may finish after the endpoint is gone.
struct metrics_endpoint::connections {
    std::shared_ptr<const metrics> source;
    std::deque<std::shared_ptr<tcp::socket>> sockets;

    void close(const std::shared_ptr<tcp::socket>& socket) {
        boost::system::error_code ignored;
        socket->close(ignored);  // wakes its coroutine, which then ends
        std::erase(sockets, socket);
    }
};

asio::awaitable<void> metrics_endpoint::answer(std::shared_ptr<connections> all,
                                               std::shared_ptr<tcp::socket> socket) {
    asio::steady_timer deadline(socket->get_executor(), connection_deadline);
    co_await (exchange(*socket, *all->source) || deadline.async_wait(tuple));
    all->close(socket);
}

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
    : acceptor_(ex, where), open_(std::make_shared<connections>(std::move(source))) {}

asio::awaitable<void> metrics_endpoint::serve() {
    for (;;) {
        auto socket = std::make_shared<tcp::socket>(acceptor_.get_executor());
        auto [ec] = co_await acceptor_.async_accept(*socket, tuple);
        if (ec == asio::error::operation_aborted) {
            break;
        }
        if (ec) {
            continue;
        }
        if (open_->sockets.size() >= connection_limit) {
            open_->close(open_->sockets.front());
        }
        open_->sockets.push_back(socket);
        asio::co_spawn(acceptor_.get_executor(), answer(open_, std::move(socket)), asio::detached);
    }
    while (!open_->sockets.empty()) {
        open_->close(open_->sockets.front());
    }
}

}  // namespace zkr::cli
