// zkr's own I/O thread, for sessions configured with session_config::dedicated_io_thread.
//
// With the single-threaded C client a session's pings are sent by whatever thread runs its
// executor: an application handler that blocks that thread delays them, and a long enough block
// loses the session. Sessions that must not depend on the application's threads are driven from
// this thread instead: one io_context and one thread for the whole process, started with the first
// such session and ended after the last one closed.
//
// The process may exit while the thread still runs the last handlers of a session that was just
// closed (the aborted waits of its transport, its TLS tunnels' ends). Exit therefore waits for
// every such thread before the libraries it uses clean up (OpenSSL keeps state per thread, which
// its clean-up at exit cannot reach on a thread that still runs). A thread that still drives an
// open session at exit is stopped and joined instead.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>

namespace zkr::detail {

class io_thread {
  public:
    /// The process's I/O thread, started if no session holds it.
    static std::shared_ptr<io_thread> acquire();

    ~io_thread();
    io_thread(const io_thread&) = delete;
    io_thread& operator=(const io_thread&) = delete;

    boost::asio::io_context::executor_type get_executor() const noexcept;

    struct thread_state;  // shared with the thread and with the registry that joins it at exit

    /// Held by a session driven here from its construction until it is closed: at exit a thread
    /// with no open session is let finish what is queued, one with an open session is stopped.
    class open_session {
      public:
        open_session() = default;
        explicit open_session(std::shared_ptr<thread_state> state);
        open_session(open_session&& other) noexcept = default;
        open_session& operator=(open_session&& other) noexcept;
        ~open_session() { release(); }

        /// The session is closed (idempotent).
        void release() noexcept;

      private:
        std::shared_ptr<thread_state> state_;
    };

    open_session mark_open() const;

  private:
    io_thread();

    std::shared_ptr<thread_state> state_;
};

}  // namespace zkr::detail
