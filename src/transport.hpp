// The transport: the single-threaded ZooKeeper C client (libzookeeper_st), driven from a strand.
//
// The C client tells what it waits for (zookeeper_interest: a socket, read and/or write, and a
// timeout) and does its I/O when told the socket is ready (zookeeper_process), running request
// completions and watchers right there. Here Asio waits: on the socket through a descriptor, on the
// timeout through a steady timer; every C call happens on the driver strand with the process-wide
// client_gate held. So the C client has no thread of its own and recipe logic continues inside
// its callbacks, on the strand, without a hand-off (docs/design-notes.md, "The transport").
//
// Four things the C client does not do the Asio way, and how they are handled:
// - Its socket changes on every reconnect and it closes it itself, sometimes silently (a failed
//   send inside a request call). Asio waits on a duplicate of it (dup): a number the C client
//   cannot close or recycle under the reactor. After every C call the client's state says whether
//   it still has a socket; the duplicate goes as soon as it does not.
// - zookeeper_close blocks: it sends the close request, then waits up to 4.5 s for the server.
//   close() does that part asynchronously (flush, close request, wait for the server to hang up),
//   then lets zookeeper_close find a socket that can no longer block.
// - It can lose its connection without saying so: a send that fails inside a request call closes
//   the socket and nothing else. The transport notices (the client has no socket any more) and
//   reports the disconnection the C client did not.
// - zookeeper_process reads one answer per call: readiness is drained in a loop, so that answers
//   that arrived together (a pipelined create and list) are handled in one wake-up.
#pragma once

#include "callback_registry.hpp"
#include "client_gate.hpp"

#include <zkr/detail/initiate.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct _zhandle;

namespace zkr::detail {

/// What the session learns from the C client: its state changes, with the session's identity.
/// Called on the driver strand, inside a C call.
class client_observer {
  public:
    virtual void on_client_state(int state, std::int64_t session_id, int timeout_ms,
                                 const std::array<char, 16>& password) = 0;
    /// The client cannot open a connection, for `reason` (errc::too_many_open_files): true if
    /// the session ends for it (then the transport stops retrying), false to retry as usual.
    /// Called inside the transport: end the session through a post, not in place.
    virtual bool on_client_failure(error_code reason) = 0;

  protected:
    ~client_observer() = default;
};

class transport : public std::enable_shared_from_this<transport> {
  public:
    using executor_type = boost::asio::any_io_executor;

    /// The C client's code for "the handle is gone" (ZINVALIDSTATE).
    static constexpr int invalid_state = -9;

    /// `keep_alive`: what the driver's executor needs to stay usable (zkr's own I/O thread).
    transport(executor_type driver, std::shared_ptr<void> keep_alive);
    /// Frees a handle nobody closed (its io_context was destroyed first): zookeeper_close
    /// itself, which may block for the server's answer; operations are dropped, not completed.
    ~transport();
    transport(const transport&) = delete;
    transport& operator=(const transport&) = delete;

    /// Creates the C handle and starts connecting. On the driver strand. `existing_id` non-zero
    /// resumes that session. False if the C client refused (see errno).
    bool open(const std::string& hosts, int session_timeout_ms, std::int64_t existing_id,
              const std::array<char, 16>& password, std::weak_ptr<client_observer> observer);

    /// Runs one C-client call `c(handle)` with the gate held, then looks at what to wait for.
    /// On the driver strand. Returns invalid_state without calling once the handle is closing.
    template <class Call>
    int call(Call&& c) {
        if (zh_ == nullptr || phase_ != phase::open) {
            return invalid_state;
        }
        client_gate gate;
        const int rc = nested(std::forward<Call>(c));
        after_call();
        return rc;
    }

    /// Between these two (paired, on the driver strand), C calls leave the look at what to wait
    /// for to the end: a batch of requests asks the C client once. (The requests themselves go
    /// out during each call, as the C client writes what it can at once.)
    void hold_updates() noexcept { ++depth_; }
    void release_updates();

    /// Replaces the server list; callable from any thread (the gate orders it with the driver).
    int set_servers(const std::string& hosts);

    /// Ends the session: flushes what is queued, sends the close request, waits (without
    /// blocking) for the server to hang up or for close_answer_limit, then frees the handle.
    /// Requests the C client still held complete with ZCLOSING, armed watches with
    /// `reason` (the session's final error). `done` runs on the driver strand afterwards. On
    /// the driver strand.
    void close(error_code reason, handler<void()> done);

    /// Requests in flight and armed watches: what the C client may still call back.
    callback_registry& registry() noexcept { return registry_; }

    /// The local port of the C client's current connection, 0 without one. Driver strand.
    std::uint16_t client_port() noexcept;

    /// True from open() until close() begins. Callable from any thread.
    bool is_open() const noexcept { return phase_.load(std::memory_order_acquire) == phase::open; }

    /// How long close() waits for the server's goodbye (the C client's own: 1.5 s).
    static constexpr std::chrono::milliseconds close_answer_limit{1500};

  private:
    enum class phase { idle, open, closing, closed };
    enum class close_stage { flush, request, answer };

    /// Runs a C call one nesting level deeper (the gate held).
    template <class Call>
    int nested(Call&& c) {
        struct level {
            int& depth;
            explicit level(int& d) : depth(++d) {}
            ~level() { --depth; }
        } guard(depth_);
        return std::forward<Call>(c)(zh_);
    }
    /// After every C call: drop our socket if the client lost its own, and look again at what
    /// to wait for (once the outermost call returns).
    void after_call();
    /// Asks the C client what to wait for and arranges the waits (at depth 0 only).
    void update();
    void on_ready(int events, std::uint64_t generation, const boost::system::error_code& ec);
    void on_timer(std::uint64_t generation, const boost::system::error_code& ec);
    void arm_timer(std::chrono::steady_clock::time_point when);
    void wait_for(int events);
    /// Follows the C client's socket: takes a duplicate of `fd` if we have none.
    bool adopt_socket(int fd);
    /// After a failure to connect or to follow the connection: true if the process has run out
    /// of descriptors and the observer ended the session for it (nothing to wait for then).
    bool gave_up_for_descriptors();
    void drop_socket();
    /// After a C call: lets our socket go if the client lost its own, and reports a
    /// disconnection the client did not report itself.
    void follow_connection();
    bool client_has_socket() const;

    void close_step();
    void finish_close();

    static void on_session_watch(_zhandle* zh, int type, int state, const char* path, void* ctx);
    void report_state(int state);

    executor_type driver_;
    std::shared_ptr<void> keep_alive_;
    _zhandle* zh_ = nullptr;
    std::atomic<phase> phase_{phase::idle};  // written with the gate held
    std::weak_ptr<client_observer> observer_;
    int reported_state_ = 0;  // the last state the observer heard of
    callback_registry registry_;

    boost::asio::posix::stream_descriptor socket_;  // a dup of the C client's socket
    boost::asio::steady_timer timer_;
    std::chrono::steady_clock::time_point timer_deadline_{};
    bool timer_armed_ = false;
    bool read_armed_ = false;
    bool write_armed_ = false;
    std::uint64_t generation_ = 0;  // bumped when waits are abandoned: stale completions ignored
    std::uint64_t timer_generation_ = 0;

    int depth_ = 0;  // nesting of C calls (completions issue requests in place), and batches
    bool update_wanted_ = false;  // a nested call changed what to wait for

    close_stage close_stage_ = close_stage::flush;
    std::size_t close_sent_ = 0;
    std::chrono::steady_clock::time_point close_deadline_{};
    error_code close_reason_;
    std::vector<handler<void()>> close_waiters_;
};

}  // namespace zkr::detail
