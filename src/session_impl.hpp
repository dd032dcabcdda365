// The shared state behind zkr::session: the C-client handle, the session's state machine, and the
// requests the recipes are built from.
//
// Ownership: public objects (session, mutex, lock, watch) hold shared_ptrs to this. The C client
// holds only raw pointers to contexts that this object owns and frees once the C client can no
// longer call them (after the callback, or after zookeeper_close). So the last reference is
// never dropped on a C-client thread, and zookeeper_close never runs there.
#pragma once

#include "completion.hpp"
#include "op_registry.hpp"
#include "waiter_list.hpp"

#include <zkr/session.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

struct _zhandle;

namespace zkr::detail {

/// What a recipe handle needs to hear about its session. Delivered on the session strand.
enum class session_event {
    suspended,        ///< connection lost, session maybe alive
    reconnected,      ///< connection back, same session
    deadline_passed,  ///< suspended so long the server may have expired the session
    expired,          ///< session expired (or authentication failed): final
    closed,           ///< closed by the user: final
};

class session_listener {
  public:
    virtual void on_session_event(session_event event) = 0;

  protected:
    ~session_listener() = default;
};

class session_impl : public std::enable_shared_from_this<session_impl> {
  public:
    /// The session's strand, held type-erased once: every handler and work guard copies it, and
    /// copying an any_io_executor that already holds the strand only bumps a count, while
    /// converting a strand<> into one allocates (measured: a sixth of the allocations per lock
    /// cycle were such conversions).
    using strand_type = boost::asio::any_io_executor;

    session_impl(boost::asio::any_io_executor ex, session_config config);
    ~session_impl();
    session_impl(const session_impl&) = delete;
    session_impl& operator=(const session_impl&) = delete;

    const strand_type& strand() const noexcept { return strand_; }
    const session_config& config() const noexcept { return config_; }
    session_state state() const noexcept { return state_.load(); }
    std::int64_t session_id() const noexcept { return session_id_.load(); }
    client_id id() const noexcept;
    std::chrono::milliseconds negotiated_timeout() const noexcept;
    /// The error every operation gets once the session reached a final state; empty before.
    error_code final_error() const noexcept;
    /// How long after a disconnect a lock must consider itself lost (see docs/design.md).
    std::chrono::milliseconds local_loss_delay() const noexcept;

    void connect(handler<void(error_code)> h);
    void close(handler<void(error_code)> h);
    /// Closes synchronously (destructor of the public session).
    void close_now();
    void wait_state(session_state seen, handler<void(error_code, session_state)> h);
    error_code set_servers(const std::string& hosts);

    void create(std::string path, std::string data, create_mode mode,
                handler<void(error_code, created_node)> h);
    void remove(std::string path, int version, handler<void(error_code)> h);
    void get_data(std::string path, handler<void(error_code, node_data)> h);
    void watch_data(std::string path, handler<void(error_code, node_data, zkr::watch)> h);
    void exists(std::string path, handler<void(error_code, std::optional<stat>)> h);
    void watch_exists(std::string path,
                      handler<void(error_code, std::optional<stat>, zkr::watch)> h);
    void get_children(std::string path, handler<void(error_code, children)> h);
    void watch_children(std::string path, handler<void(error_code, children, zkr::watch)> h);
    void set_data(std::string path, std::string data, int version,
                  handler<void(error_code, stat)> h);
    void multi(std::vector<op> ops, handler<void(error_code, std::vector<op_result>)> h);
    void sync(std::string path, handler<void(error_code)> h);

    /// Asks the server to drop a watch; the answer is ignored (best effort). Thread-safe.
    void remove_watch(const std::string& path, int watch_type, void* context);

    /// Registers a listener for session events (call on the strand). Held weakly.
    void add_listener(std::weak_ptr<session_listener> listener);

    /// Operations and watches the C client may still call back (for leak checks in tests).
    std::size_t pending_operations() const { return registry_.size(); }

    // Entry points for the C client's threads (used by the bridge only).
    void on_client_state(int state, std::int64_t id, int timeout_ms, const char* password);

  private:
    friend struct bridge;
    /// The global watcher's context: reaches the session only weakly, through its strand.
    struct watcher_context {
        std::weak_ptr<session_impl> session;
        strand_type strand;
    };
    struct acl_storage;

    template <class Op, class Start>
    void start_request(std::unique_ptr<Op> op, Start&& start);
    template <class Op>
    void read(std::string path, int watch_type, handler<typename Op::signature> h);
    error_code unavailable_error() const noexcept;
    void apply_state(session_state next);
    void notify(session_event event);
    void arm_connect_timer();
    void arm_deadline_timer();
    _zhandle* release_handle();
    void finish_close(_zhandle* zh);
    /// Closes the handle in the background; completes `done` (if any) afterwards. On the strand.
    void shut_down(pending_handler<void(error_code)> done);
    void close_in_background(_zhandle* zh, pending_handler<void(error_code)> done);

    strand_type strand_;
    session_config config_;
    std::atomic<session_state> state_{session_state::not_started};
    std::atomic<std::int64_t> session_id_{0};
    std::atomic<int> negotiated_timeout_ms_{0};
    std::array<char, 16> password_{};  // written once per (re)connect under handle_mutex_

    mutable std::shared_mutex handle_mutex_;  // guards handle_ against a concurrent close
    _zhandle* handle_ = nullptr;
    op_registry registry_;

    // Strand-only state.
    waiter_list<void(error_code)> connect_waiters_;
    waiter_list<void(error_code, session_state)> state_waiters_;
    std::vector<std::weak_ptr<session_listener>> listeners_;
    boost::asio::steady_timer connect_timer_;
    boost::asio::steady_timer deadline_timer_;
    bool ever_connected_ = false;

    std::unique_ptr<acl_storage> acl_;
    std::unique_ptr<watcher_context> watcher_context_;
};

}  // namespace zkr::detail
