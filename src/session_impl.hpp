// The shared state behind zkr::session: the session's state machine and the requests the recipes
// are built from, over the transport (transport.hpp) that drives the C client.
//
// Two executors:
// - the driver strand, where the C client is driven and its callbacks run: every request
//   completion and watch event reaches recipe code here, inline, without a hand-off. A strand
//   over the executor the session was given, or over zkr's own I/O thread
//   (session_config::dedicated_io_thread);
// - the user-facing executor, where handlers without an executor of their own run (the driver
//   strand itself unless dedicated_io_thread). User handlers are always posted, never run inside
//   a C-client call.
//
// Ownership: public objects (session, mutex, lock, watch) hold shared_ptrs to this; the
// transport outlives it while it closes the C handle.
#pragma once

#include "completion.hpp"
#include "transport.hpp"
#include "waiter_list.hpp"

#include <zkr/session.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace zkr::detail {

struct watch_state;
class io_thread;

/// What a recipe handle needs to hear about its session. Delivered on the driver strand.
enum class session_event {
    suspended,        ///< connection lost, session maybe alive
    reconnected,      ///< connection back, same session
    deadline_passed,  ///< suspended so long the server may have expired the session
    expired,          ///< session expired (or authentication failed): final
    closed,           ///< closed by the user: final
};

/// A directory listing several callers share (see session_impl::first_look_listing), with room
/// for what a recipe derives from it once for all of them. Driver strand.
struct shared_listing {
    children kids;
    std::size_t readers = 1;  ///< callers it was taken for
    std::shared_ptr<void> derived;
};

class session_listener {
  public:
    virtual void on_session_event(session_event event) = 0;

  protected:
    ~session_listener() = default;
};

class session_impl final : public std::enable_shared_from_this<session_impl>,
                           public client_observer {
  public:
    /// Strands, held type-erased once: every handler and work guard copies them, and copying an
    /// any_io_executor that holds a strand only bumps a count, while converting a strand<> into
    /// one allocates.
    using strand_type = boost::asio::any_io_executor;

    session_impl(boost::asio::any_io_executor ex, session_config config);
    ~session_impl();
    session_impl(const session_impl&) = delete;
    session_impl& operator=(const session_impl&) = delete;

    /// The driver strand: where requests start and complete, and recipe logic runs.
    const strand_type& strand() const noexcept { return driver_; }
    /// The default executor of user handlers.
    const strand_type& executor() const noexcept { return user_; }
    /// Where user handlers' completions go (see completion_executors).
    const completion_executors& completions() const noexcept { return completions_; }
    /// True on the driver strand (requests then start at once instead of being posted there).
    bool running_in_driver() const noexcept;

    const session_config& config() const noexcept { return config_; }
    session_state state() const noexcept { return state_.load(); }
    std::int64_t session_id() const noexcept { return session_id_.load(); }
    client_id id() const;
    std::chrono::milliseconds negotiated_timeout() const noexcept;
    /// The error every operation gets once the session reached a final state; empty before.
    error_code final_error() const noexcept;
    /// How long after a disconnect a lock must consider itself lost (see docs/mutex.md).
    std::chrono::milliseconds local_loss_delay() const noexcept;

    void connect(handler<void(error_code)> h);
    void close(handler<void(error_code)> h);
    /// Starts closing without waiting (the public session's destructor). Never blocks.
    void close_detached();
    void wait_state(session_state seen, handler<void(error_code, session_state)> h);
    error_code set_servers(const std::string& hosts);

    // Requests. Callable from any thread; they start on the driver strand. The handler is
    // called there, inline, when the answer arrives (recipe code continues in place); callers
    // that complete a user's handler go through pending_handler. A request that cannot start
    // completes through a post, never inside the call. Paths are trusted: the public API and
    // the recipes' entry points validate what comes from users (validate_path).
    /// `ttl_ms` > 0 for the TTL modes.
    void create(std::string path, std::string data, create_mode mode,
                handler<void(error_code, created_node)> h, std::int64_t ttl_ms = 0);
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

    /// The listing a new contender's first look needs: one taken after its create (sent just
    /// before this call). The first contender of `dir` gets a request of its own, right behind
    /// its create: one round trip. Contenders that come while it is answered share one listing
    /// taken after all their creates: a burst of waiters of one session costs two listings, not
    /// one each (each would carry the whole queue). Driver strand.
    void first_look_listing(const std::string& dir,
                            handler<void(error_code, std::shared_ptr<shared_listing>)> h);

    /// Asks the server to drop a watch that nobody will wait for; the answer is ignored (best
    /// effort). Callable from any thread.
    void remove_watch(std::shared_ptr<watch_state> state);

    /// errc::request_too_large if a request carrying `path` and `data_bytes` of data would exceed
    /// the servers' packet limit (session_config::max_packet_bytes). Any thread.
    error_code check_request_size(const std::string& path, std::size_t data_bytes) const;

    /// Runs `f` on the driver strand: now if already there, else posted.
    template <class F>
    void on_driver(F&& f);

    /// True the first time `name` in `dir` is noticed by this session (for warnings that would
    /// otherwise repeat at every listing). Remembers a bounded number of names; past that it
    /// says false, once it said so in the log. Driver strand.
    bool first_notice(const std::string& dir, const std::string& name);

    /// Registers a listener for session events (call on the driver strand). Held weakly.
    void add_listener(std::weak_ptr<session_listener> listener);

    /// Operations and watches the C client may still call back (for leak checks in tests).
    std::size_t pending_operations() const noexcept;

    /// From the transport: the C client's session state changed.
    void on_client_state(int state, std::int64_t id, int timeout_ms,
                         const std::array<char, 16>& password) override;

  private:
    template <class Op, class Start>
    void start_request(std::unique_ptr<Op> op, Start start);
    template <class Op>
    void read(std::string path, int watch_type, handler<typename Op::signature> h);
    error_code unavailable_error() const noexcept;
    /// errc::too_many_watches if one more watch on `path` would make the re-arming packet
    /// after a reconnect exceed the servers' packet limit.
    error_code check_watch_budget(const std::string& path);
    /// What a watch on `path` weighs in that packet.
    std::size_t watch_bytes(const std::string& path) const noexcept;
    void apply_state(session_state next);
    void notify(session_event event);
    void arm_connect_timer();
    void arm_deadline_timer();
    /// The first connection: completes async_connect once the chroot (if any) is known to exist.
    void check_chroot_then_complete_connect();
    /// Ends the session as expired if no connection lasts until give_up_timer_ fires.
    void wait_to_give_up();
    /// A reconnection: once it has lasted, the session stops giving up.
    void confirm_recovery();
    /// Closes the transport; completes `done` (if any) once the C handle is freed.
    void shut_down(pending_handler<void(error_code)> done);

    strand_type user_;
    session_config config_;
    std::shared_ptr<io_thread> io_thread_;  // zkr's own I/O thread, when dedicated_io_thread
    strand_type driver_;
    completion_executors completions_;
    std::atomic<session_state> state_{session_state::not_started};
    std::atomic<std::int64_t> session_id_{0};
    std::atomic<int> negotiated_timeout_ms_{0};
    mutable std::mutex password_mutex_;  // id() reads it from any thread
    std::array<char, 16> password_{};

    std::shared_ptr<transport> transport_;

    // Driver-strand state.
    waiter_list<void(error_code)> connect_waiters_;
    waiter_list<void(error_code, session_state)> state_waiters_;
    std::vector<std::weak_ptr<session_listener>> listeners_;
    boost::asio::steady_timer connect_timer_;
    boost::asio::steady_timer deadline_timer_;
    boost::asio::steady_timer give_up_timer_;
    boost::asio::steady_timer stable_timer_;
    bool giving_up_ = false;  // disconnected, and not yet back for long
    bool ever_connected_ = false;

    struct acl_storage;
    std::unique_ptr<acl_storage> acl_;
    std::size_t chroot_length_ = 0;               // the servers see our paths with it in front
    std::unordered_set<std::string> noticed_;     // driver strand: see first_notice
    std::atomic<bool> watch_budget_full_{false};  // the last watch asked for was refused

    /// Listings of first looks per directory (driver strand): requests in flight, and the
    /// contenders waiting for the next one.
    struct listing_batch {
        int in_flight = 0;
        bool flush_posted = false;
        std::vector<handler<void(error_code, std::shared_ptr<shared_listing>)>> waiting;
    };
    std::unordered_map<std::string, listing_batch> listings_;
    void list_for(const std::string& dir,
                  std::vector<handler<void(error_code, std::shared_ptr<shared_listing>)>> callers);
};

template <class F>
void session_impl::on_driver(F&& f) {
    if (running_in_driver()) {
        std::forward<F>(f)();
    } else {
        boost::asio::post(driver_, std::forward<F>(f));
    }
}

}  // namespace zkr::detail
