// What the zkr drivers of the benchmarks start from: one zkr session on an io_context run by a
// thread of its own, connected by the constructor; the protocol's thread starts operations on it
// with bench::wait_on.
#pragma once

#include "wait_on.hpp"

#include <zkr/session.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace bench {

class session_thread {
  public:
    session_thread(std::string hosts, std::chrono::milliseconds session_timeout) {
        zkr::session_config config;
        config.hosts = std::move(hosts);
        config.session_timeout = session_timeout;
        session_ = std::make_unique<zkr::session>(ioc_.get_executor(), config);
        io_ = std::thread([this] { ioc_.run(); });
        wait_on(ioc_, [this] { return session_->async_connect(boost::asio::use_future); });
    }

    session_thread(const session_thread&) = delete;
    session_thread& operator=(const session_thread&) = delete;

    ~session_thread() { close(); }

    /// Closes the session and stops the thread (once). An owner whose recipe objects must
    /// outlive the thread calls it first in its own destructor.
    void close() {
        if (!io_.joinable()) {
            return;
        }
        wait_on(ioc_, [this] { return session_->async_close(boost::asio::use_future); });
        work_.reset();
        io_.join();
    }

    boost::asio::io_context& ioc() { return ioc_; }
    zkr::session& session() { return *session_; }

  private:
    boost::asio::io_context ioc_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
        boost::asio::make_work_guard(ioc_);
    std::unique_ptr<zkr::session> session_;
    std::thread io_;
};

}  // namespace bench
