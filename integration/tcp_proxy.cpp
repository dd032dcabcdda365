#include "tcp_proxy.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <atomic>
#include <future>
#include <list>
#include <thread>

namespace zkr::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

/// One proxied connection: two sockets and a copy loop in each direction.
struct link : std::enable_shared_from_this<link> {
    link(tcp::socket c, tcp::socket s, const std::atomic<bool>& drop)
        : client(std::move(c)), server(std::move(s)), drop_replies(drop) {}

    void start() {
        pump(client, server, up);
        pump(server, client, down);
    }

    void pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buf) {
        from.async_read_some(asio::buffer(buf), [self = shared_from_this(), &from, &to, &buf](
                                                    boost::system::error_code ec, std::size_t n) {
            if (ec) {
                self->close();
                return;
            }
            if (&from == &self->server && self->drop_replies.load()) {
                self->pump(from, to, buf);  // swallowed
                return;
            }
            asio::async_write(to, asio::buffer(buf.data(), n),
                              [self, &from, &to, &buf](boost::system::error_code ec, std::size_t) {
                                  if (ec) {
                                      self->close();
                                      return;
                                  }
                                  self->pump(from, to, buf);
                              });
        });
    }

    void close() {
        boost::system::error_code ignored;
        client.close(ignored);
        server.close(ignored);
    }

    tcp::socket client;
    tcp::socket server;
    const std::atomic<bool>& drop_replies;
    std::array<char, 16384> up{};
    std::array<char, 16384> down{};
};

}  // namespace

struct tcp_proxy::impl {
    asio::io_context ioc;
    tcp::acceptor acceptor;
    tcp::endpoint target;
    bool blocked = false;
    std::atomic<bool> drop_replies{false};
    std::list<std::weak_ptr<link>> links;
    std::thread runner;

    explicit impl(const std::string& listen_address)
        : acceptor(ioc, tcp::endpoint(asio::ip::make_address(listen_address), 0)) {}

    void accept() {
        acceptor.async_accept([this](boost::system::error_code ec, tcp::socket client) {
            if (ec) {
                return;
            }
            if (blocked) {
                client.close(ec);  // the client sees the connection drop at once
            } else {
                tcp::socket server(ioc);
                server.connect(target, ec);
                if (!ec) {
                    auto l =
                        std::make_shared<link>(std::move(client), std::move(server), drop_replies);
                    links.push_back(l);
                    l->start();
                }
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
    : impl_(std::make_unique<impl>(listen_address)) {
    const auto colon = target.rfind(':');
    impl_->target = tcp::endpoint(asio::ip::make_address(target.substr(0, colon)),
                                  static_cast<unsigned short>(std::stoi(target.substr(colon + 1))));
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
    });
}

void tcp_proxy::drop_replies() {
    impl_->drop_replies = true;
}

}  // namespace zkr::test
