#include "tcp_proxy.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <list>
#include <thread>
#include <vector>

namespace zkr::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

/// "host:port" (the host an IP address, IPv6 without brackets).
tcp::endpoint endpoint_of(const std::string& address) {
    const auto colon = address.rfind(':');
    return {asio::ip::make_address(address.substr(0, colon)),
            static_cast<unsigned short>(std::stoi(address.substr(colon + 1)))};
}

/// Keeps `socket` out of child processes. A child that inherits a proxied socket keeps the
/// connection open after the proxy closes it: a cut that the other end never sees (the fault
/// harness forks its clients while the proxies of an ensemble carry the servers' links).
void close_on_exec(tcp::socket& socket) {
    ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
}

/// While closed (silence()), the steps of every connection wait here for restore(), in order.
/// Used on the proxy's thread only.
struct gate {
    bool closed = false;
    std::vector<std::function<void()>> held;

    void pass(std::function<void()> step) {
        if (closed) {
            held.push_back(std::move(step));
        } else {
            step();
        }
    }

    void open() {
        closed = false;
        auto steps = std::move(held);
        held.clear();
        for (auto& step : steps) {
            step();
        }
    }
};

/// One proxied connection: two sockets and a copy loop in each direction.
struct link : std::enable_shared_from_this<link> {
    link(tcp::socket c, const std::atomic<bool>& drop, gate& g)
        : client(std::move(c)),
          server(client.get_executor()),
          retry(client.get_executor()),
          drop_replies(drop),
          silence(g) {}

    /// Connects to `target`, again every 20 ms while it refuses until `deadline`, then copies;
    /// closes the client's connection if the target never accepted.
    void connect(const tcp::endpoint& target, std::chrono::steady_clock::time_point deadline) {
        boost::system::error_code ec;
        server.open(target.protocol(), ec);
        if (ec) {
            close();
            return;
        }
        close_on_exec(server);
        server.async_connect(
            target, [self = shared_from_this(), target, deadline](boost::system::error_code ec) {
                if (self->closed) {
                    return;
                }
                if (!ec) {
                    self->start();
                    return;
                }
                if (std::chrono::steady_clock::now() >= deadline) {
                    self->close();
                    return;
                }
                self->server.close(ec);  // a failed connect leaves the socket open
                self->retry.expires_after(std::chrono::milliseconds(20));
                self->retry.async_wait([self, target, deadline](boost::system::error_code) {
                    if (!self->closed) {
                        self->connect(target, deadline);
                    }
                });
            });
    }

    void start() {
        // Forward each write as it comes, as a direct link would: with Nagle's algorithm on the
        // proxy's own sockets, a small message waits for the peer's delayed ACK (tens of ms per
        // quorum round trip, which slowed every write of a proxied ensemble).
        boost::system::error_code ignored;
        client.set_option(tcp::no_delay(true), ignored);
        server.set_option(tcp::no_delay(true), ignored);
        pump(client, server, up);
        pump(server, client, down);
    }

    void pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buf) {
        from.async_read_some(asio::buffer(buf), [self = shared_from_this(), &from, &to, &buf](
                                                    boost::system::error_code ec, std::size_t n) {
            // Nothing more is read from `from` until this is forwarded: while silenced, what
            // it sends next stays in the kernel's buffers, as unacknowledged data would.
            self->silence.pass(
                [self, &from, &to, &buf, ec, n] { self->forward(from, to, buf, ec, n); });
        });
    }

    void forward(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buf,
                 boost::system::error_code ec, std::size_t n) {
        if (closed) {
            return;
        }
        if (ec) {
            close();
            return;
        }
        if (&from == &server && drop_replies.load()) {
            pump(from, to, buf);  // swallowed
            return;
        }
        asio::async_write(to, asio::buffer(buf.data(), n),
                          [self = shared_from_this(), &from, &to, &buf](
                              boost::system::error_code ec, std::size_t) {
                              if (ec) {
                                  self->close();
                                  return;
                              }
                              self->pump(from, to, buf);
                          });
    }

    void close() {
        closed = true;
        retry.cancel();
        boost::system::error_code ignored;
        client.close(ignored);
        server.close(ignored);
    }

    tcp::socket client;
    tcp::socket server;
    asio::steady_timer retry;
    bool closed = false;
    const std::atomic<bool>& drop_replies;
    gate& silence;
    std::array<char, 16384> up{};
    std::array<char, 16384> down{};
};

}  // namespace

struct tcp_proxy::impl {
    asio::io_context ioc;
    tcp::acceptor acceptor;
    std::function<std::string()> target;
    bool blocked = false;
    std::chrono::milliseconds patience{0};
    std::atomic<bool> drop_replies{false};
    gate silence;
    std::list<std::weak_ptr<link>> links;
    std::thread runner;

    explicit impl(const std::string& listen_address)
        : acceptor(ioc, tcp::endpoint(asio::ip::make_address(listen_address), 0)) {}

    void accept() {
        acceptor.async_accept([this](boost::system::error_code ec, tcp::socket client) {
            if (ec) {
                return;
            }
            close_on_exec(client);
            const auto to = blocked ? std::string() : target();
            if (to.empty()) {
                client.close(ec);  // the client sees the connection drop at once
            } else {
                auto l = std::make_shared<link>(std::move(client), drop_replies, silence);
                links.push_back(l);
                silence.pass([this, l, target = endpoint_of(to)] {
                    l->connect(target, std::chrono::steady_clock::now() + patience);
                });
            }
            accept();
        });
    }

    /// Runs `f` on the proxy's thread and waits for it.
    template <class F>
    void on_thread(F f) {
        std::promise<void> done;
        asio::post(ioc, [&] {
            f();
            done.set_value();
        });
        done.get_future().wait();
    }
};

tcp_proxy::tcp_proxy(const std::string& target, const std::string& listen_address)
    : tcp_proxy([target] { return target; }, listen_address) {
    endpoint_of(target);  // a malformed target fails here, not at the first connection
}

tcp_proxy::tcp_proxy(std::function<std::string()> target, const std::string& listen_address)
    : impl_(std::make_unique<impl>(listen_address)) {
    impl_->target = std::move(target);
    ::fcntl(impl_->acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
    impl_->accept();
    impl_->runner = std::thread([this] { impl_->ioc.run(); });
}

tcp_proxy::~tcp_proxy() {
    impl_->on_thread([this] {
        boost::system::error_code ignored;
        impl_->acceptor.close(ignored);
        for (auto& weak : impl_->links) {
            if (auto l = weak.lock()) {
                l->close();
            }
        }
    });
    impl_->ioc.stop();
    impl_->runner.join();
}

std::string tcp_proxy::address() const {
    const auto local = impl_->acceptor.local_endpoint();
    const auto host = local.address().to_string();
    const auto port = std::to_string(local.port());
    return local.address().is_v6() ? "[" + host + "]:" + port : host + ":" + port;
}

void tcp_proxy::cut() {
    impl_->on_thread([this] {
        impl_->blocked = true;
        impl_->silence.held.clear();  // what waited is lost with its connection
        for (auto& weak : impl_->links) {
            if (auto l = weak.lock()) {
                l->close();
            }
        }
        impl_->links.clear();
    });
}

void tcp_proxy::restore() {
    impl_->on_thread([this] {
        impl_->blocked = false;
        impl_->drop_replies = false;
        impl_->silence.open();
    });
}

void tcp_proxy::silence() {
    impl_->on_thread([this] { impl_->silence.closed = true; });
}

void tcp_proxy::wait_for_target(std::chrono::milliseconds patience) {
    impl_->on_thread([&] { impl_->patience = patience; });
}

void tcp_proxy::drop_replies() {
    impl_->drop_replies = true;
}

}  // namespace zkr::test
