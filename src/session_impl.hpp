// The shared state behind zkr::session: the session's connection and the requests the recipes
// are built from, over the transport (transport.hpp) that drives the C client. Three parts, in
// three files:
// - session_connection.cpp: connecting, closing, the C client's state, the timers, the
//   listeners: the actions of the connection state machine (connection_fsm.hpp, no I/O);
// - session_impl.cpp: the requests;
// - queue_services.hpp: the first-look batching and the notice memory, over the requests (the
//   step tests' fake session uses the same).
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
#include "connection_fsm.hpp"
#include "deadline_set.hpp"
#include "io_thread.hpp"
#include "queue_services.hpp"
#include "quorum_check.hpp"
#include "session_listeners.hpp"
#include "session_seam.hpp"
#include "tls_tunnels.hpp"
#include "transport.hpp"
#include "waiter_list.hpp"

#include <zkr/session.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace zkr::detail {

struct watch_state;

class session_impl final : public session_seam, public client_observer {
  public:
    session_impl(boost::asio::any_io_executor ex, session_config config);
    ~session_impl();
    session_impl(const session_impl&) = delete;
    session_impl& operator=(const session_impl&) = delete;

    /// True on the driver strand (requests then start at once instead of being posted there).
    bool running_in_driver() const noexcept override;

    const session_config& config() const noexcept { return config_; }
    session_state state() const noexcept override { return fsm_.state(); }
    std::int64_t session_id() const noexcept override { return session_id_.load(); }
    bool watch_room_to_spare() const noexcept override;
    std::uint64_t generation() const noexcept override { return fsm_.generation(); }
    bool loss_deadline_passed() const noexcept override { return fsm_.loss_deadline_passed(); }
    client_id id() const;
    std::chrono::milliseconds negotiated_timeout() const noexcept {
        return fsm_.negotiated_timeout();
    }
    /// The error every operation gets once the session reached a final state; empty before.
    error_code final_error() const noexcept override { return fsm_.final_error(); }
    /// How long after a disconnect a lock must consider itself lost (see docs/mutex.md).
    std::chrono::milliseconds local_loss_delay() const noexcept { return fsm_.local_loss_delay(); }

    void connect(handler<void(error_code)> h);
    void close(handler<void(error_code)> h);
    /// Starts closing without waiting (the public session's destructor). Never blocks.
    void close_detached();
    void wait_state(session_state seen, handler<void(error_code, session_state)> h) override;
    error_code set_servers(const std::string& hosts);

    // The requests (session_seam). A watch costs room in the packet that re-arms the session's
    // watches after a reconnect: errc::too_many_watches past the servers' packet limit.
    void create(std::string path, std::string data, create_mode mode,
                handler<void(error_code, created_node)> h, std::int64_t ttl_ms = 0) override;
    void remove(std::string path, int version, handler<void(error_code)> h) override;
    void get_data(std::string path, handler<void(error_code, node_data)> h) override;
    void watch_data(std::string path, handler<void(error_code, node_data, zkr::watch)> h) override;
    void exists(std::string path, handler<void(error_code, std::optional<stat>)> h) override;
    void watch_exists(std::string path,
                      handler<void(error_code, std::optional<stat>, zkr::watch)> h) override;
    void get_children(std::string path, handler<void(error_code, children)> h) override;
    void watch_children(std::string path,
                        handler<void(error_code, children, zkr::watch)> h) override;
    void set_data(std::string path, std::string data, int version,
                  handler<void(error_code, stat)> h) override;
    void multi(std::vector<op> ops, handler<void(error_code, std::vector<op_result>)> h) override;
    void sync(std::string path, handler<void(error_code)> h) override;

    /// Batched over get_children (queue_services.hpp).
    void first_look_listing(const std::string& dir,
                            handler<void(error_code, std::shared_ptr<shared_listing>)> h) override {
        listings_.first_look_listing(dir, std::move(h));
    }
    void remove_watch(std::shared_ptr<watch_state> state) override;
    error_code check_request_size(const std::string& path, std::size_t data_bytes) const override;
    /// Remembers a bounded number of names (queue_services.hpp).
    bool first_notice(const std::string& dir, const std::string& name) override {
        return notices_.first_notice(dir, name);
    }
    void add_listener(std::weak_ptr<session_listener> listener, listener_scope scope) override {
        listeners_.add(std::move(listener), scope);
    }
    void remove_listener(const session_listener* listener) override { listeners_.remove(listener); }
    bool holds_node(const std::string& node) const override { return listeners_.hold(node); }

    /// Operations and watches the C client may still call back (for leak checks in tests).
    std::size_t pending_operations() const noexcept;

    void begin_request_batch() override;
    void end_request_batch() override;
    void hold_began() override;
    void hold_ended() override;

    /// From the transport: the C client's session state changed.
    void on_client_state(int state, std::int64_t id, int timeout_ms,
                         const std::array<char, 16>& password) override;
    bool on_client_failure(error_code reason) override;

  private:
    template <class Op, class Start>
    void start_request(std::unique_ptr<Op> op, Start start);
    template <class Op>
    void read(std::string path, int watch_type, handler<typename Op::signature> h,
              bool server_config = false);
    /// Reads the servers' dynamic configuration, /zookeeper/config (for the quorum check).
    void read_config(bool watch, handler<void(error_code, node_data, zkr::watch)> h);
    error_code unavailable_error() const noexcept;
    /// errc::too_many_watches if one more watch on `path` would make the re-arming packet
    /// after a reconnect exceed the servers' packet limit.
    error_code check_watch_budget(const std::string& path);
    /// What a watch on `path` weighs in that packet.
    std::size_t watch_bytes(const std::string& path) const noexcept;
    /// Carries out what the state machine decided (connection_fsm::actions, in their order).
    void run(const connection_fsm::actions& a);
    void notify(session_event event) { listeners_.notify(event); }
    /// Arms `t` to fire after `after`; the state machine decides what its firing means.
    void arm_timer(connection_fsm::timer t, std::chrono::milliseconds after);
    void cancel_timer(connection_fsm::timer t);
    /// Makes the one connection timer wait for the earliest deadline armed (or for none).
    void schedule_timer();
    /// The connection timer fired: runs each deadline passed, earliest first.
    void on_deadlines_passed();
    /// Runs the state machine for `t`, which fired.
    void on_timer(connection_fsm::timer t);
    /// The first connection: completes async_connect once the chroot (if any) is known to exist.
    void check_chroot_then_complete_connect();
    /// Creates the C handle on transport_ (resuming `resume` if its id is not 0) and gives it
    /// the credentials. False if the C client refused (logged).
    bool open_client(const client_id& resume);
    /// The session expired and renews (connection_fsm::actions::renew): a new transport, a
    /// new ZooKeeper session, the next generation.
    void renew();
    /// transport_, from any thread (the driver strand replaces it at a renewal).
    std::shared_ptr<transport> current_transport() const;
    /// What the C client is given for `hosts`: the TLS tunnels' addresses with
    /// session_config::tls, else `hosts` as the C client reads them.
    std::string client_hosts(const std::string& hosts);
    /// The error to complete async_connect with: a TLS failure says more than a timeout.
    error_code connect_error(error_code ec) const;
    /// Closes the transport; completes `done` (if any) once the C handle is freed.
    void shut_down(pending_handler<void(error_code)> done);

    /// The executors a session runs on, chosen before the base is built.
    struct executors {
        strand_type user;
        std::shared_ptr<io_thread> thread;  // zkr's own I/O thread, when dedicated_io_thread
        strand_type driver;
    };
    static executors choose_executors(const boost::asio::any_io_executor& ex,
                                      bool dedicated_io_thread);
    session_impl(executors ex, session_config config);
    std::shared_ptr<session_impl> self() {
        return std::static_pointer_cast<session_impl>(shared_from_this());
    }
    std::weak_ptr<session_impl> weak_self() { return self(); }

    session_config config_;
    std::shared_ptr<io_thread> io_thread_;
    // Marks the session open on zkr's own I/O thread until it is closed (what exit waits for).
    io_thread::open_session open_on_thread_;
    connection_fsm fsm_;
    std::atomic<std::int64_t> session_id_{0};
    mutable std::mutex password_mutex_;  // id() reads it from any thread
    std::array<char, 16> password_{};

    // The C handle's driver, one per generation. Replaced on the driver strand, under the
    // mutex; read there freely, elsewhere through current_transport().
    std::shared_ptr<transport> transport_;
    /// The transport a batch of requests began on (driver strand): its end goes to the same one
    /// even if the session moved to a new transport meanwhile.
    std::shared_ptr<transport> batch_transport_;
    int batch_depth_ = 0;
    mutable std::mutex transport_mutex_;
    std::string servers_;  // the servers set_servers listed last (no chroot); under the mutex
    // With session_config::tls: the tunnels the C client connects through, for every
    // generation; closed once the last C handle is freed.
    std::shared_ptr<tls_tunnels> tunnels_;

    // Driver-strand state.
    waiter_list<void(error_code)> connect_waiters_;
    waiter_list<void(error_code, session_state)> state_waiters_;
    session_listeners listeners_;
    // The connection's deadlines (connection_fsm::timer), all served by one timer.
    deadline_set<connection_fsm::timer_count> deadlines_;
    boost::asio::steady_timer timer_;
    std::optional<deadline_set<connection_fsm::timer_count>::clock::time_point> timer_waits_for_;
    std::uint64_t timer_wait_ = 0;  ///< counts the timer's waits: a stale completion is ignored
    quorum_check quorum_;

    struct acl_storage;
    std::unique_ptr<acl_storage> acl_;
    std::size_t chroot_length_ = 0;               // the servers see our paths with it in front
    std::atomic<bool> watch_budget_full_{false};  // the last watch asked for was refused

    // Driver strand: the queues' services, over this session's own requests.
    listing_batcher listings_{*this};
    notice_memory notices_;
};

}  // namespace zkr::detail
