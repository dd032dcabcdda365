// zkr's own I/O thread, for sessions configured with session_config::dedicated_io_thread.
//
// With the single-threaded C client a session's pings are sent by whatever thread runs its
// executor: an application handler that blocks that thread delays them, and a long enough block
// loses the session. Sessions that must not depend on the application's threads are driven from
// this thread instead: one io_context and one thread for the whole process, started with the first
// such session and ended after the last one closed.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <thread>

namespace zkr::detail {

class io_thread {
  public:
    /// The process's I/O thread, started if no session holds it.
    static std::shared_ptr<io_thread> acquire();

    ~io_thread();
    io_thread(const io_thread&) = delete;
    io_thread& operator=(const io_thread&) = delete;

    boost::asio::io_context::executor_type get_executor() const noexcept {
        return io_->get_executor();
    }

  private:
    io_thread();

    // Shared with the thread, which may outlive this object (see the destructor).
    std::shared_ptr<boost::asio::io_context> io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    std::thread thread_;
};

}  // namespace zkr::detail
