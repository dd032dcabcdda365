#include "zk_handshake.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <vector>

namespace zkr::test {

namespace asio = boost::asio;
using asio::ip::tcp;

std::ostream& operator<<(std::ostream& out, handshake_outcome outcome) {
    switch (outcome) {
        case handshake_outcome::answered:
            return out << "answered";
        case handshake_outcome::closed:
            return out << "closed";
        case handshake_outcome::silent:
            return out << "silent";
        case handshake_outcome::garbled:
            return out << "garbled";
    }
    return out << "?";
}

namespace {

void put_big_endian(std::vector<unsigned char>& out, std::uint64_t value, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        out.push_back(static_cast<unsigned char>(value >> (8 * i)));
    }
}

std::uint64_t big_endian_at(const unsigned char* in, int bytes) {
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) {
        value = (value << 8) | in[i];
    }
    return value;
}

/// Length-prefixed ConnectRequest (jute): protocolVersion 0, lastZxidSeen 0, timeOut 10 s,
/// sessionId 0 (a new session), a 16-byte zero password, readOnly false.
std::vector<unsigned char> connect_request() {
    std::vector<unsigned char> body;
    put_big_endian(body, 0, 4);
    put_big_endian(body, 0, 8);
    put_big_endian(body, 10000, 4);
    put_big_endian(body, 0, 8);
    put_big_endian(body, 16, 4);
    body.insert(body.end(), 16, 0);
    body.push_back(0);
    std::vector<unsigned char> framed;
    put_big_endian(framed, body.size(), 4);
    framed.insert(framed.end(), body.begin(), body.end());
    return framed;
}

asio::awaitable<handshake_outcome> connect_exchange(tcp::socket& socket) {
    constexpr auto tuple_token = asio::as_tuple(asio::use_awaitable);
    const auto request = connect_request();
    if (auto [ec, n] = co_await asio::async_write(socket, asio::buffer(request), tuple_token); ec) {
        co_return handshake_outcome::closed;
    }
    std::array<unsigned char, 4> length{};
    if (auto [ec, n] = co_await asio::async_read(socket, asio::buffer(length), tuple_token); ec) {
        co_return handshake_outcome::closed;
    }
    // ConnectResponse: protocolVersion, timeOut, sessionId, passwd (4 + 16), readOnly.
    const auto size = big_endian_at(length.data(), 4);
    if (size < 36 || size > 64) {
        co_return handshake_outcome::garbled;
    }
    std::vector<unsigned char> body(size);
    if (auto [ec, n] = co_await asio::async_read(socket, asio::buffer(body), tuple_token); ec) {
        co_return handshake_outcome::closed;
    }
    const bool new_session = big_endian_at(body.data(), 4) == 0 && big_endian_at(&body[8], 8) != 0;
    co_return new_session ? handshake_outcome::answered : handshake_outcome::garbled;
}

}  // namespace

asio::awaitable<handshake_outcome> zookeeper_handshake(tcp::socket& socket,
                                                       std::chrono::milliseconds limit) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer deadline(co_await asio::this_coro::executor, limit);
    auto first = co_await (connect_exchange(socket) ||
                           deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    co_return first.index() == 0 ? std::get<0>(first) : handshake_outcome::silent;
}

std::uint16_t first_port(const std::string& hosts) {
    const auto colon = hosts.find(':');
    return static_cast<std::uint16_t>(std::stoi(hosts.substr(colon + 1)));
}

handshake_outcome zookeeper_handshake_on(std::uint16_t port, std::chrono::milliseconds limit) {
    asio::io_context ioc;
    auto outcome = asio::co_spawn(
        ioc,
        [port, limit]() -> asio::awaitable<handshake_outcome> {
            tcp::socket socket(co_await asio::this_coro::executor);
            auto [ec] =
                co_await socket.async_connect({asio::ip::make_address_v4("127.0.0.1"), port},
                                              asio::as_tuple(asio::use_awaitable));
            if (ec) {
                co_return handshake_outcome::closed;
            }
            co_return co_await zookeeper_handshake(socket, limit);
        },
        asio::use_future);
    ioc.run();
    return outcome.get();
}

}  // namespace zkr::test
