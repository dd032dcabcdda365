// The seam between the recipes and the session: the ZooKeeper operations the recipes are built
// from, and what they need to know of the session. session_impl implements it over the C client;
// tests/fake_session implements it over an in-memory tree, with faults injected at any request.
//
// Recipes see nothing else of the session: a recipe written against this interface can be
// tested step by step without a server (docs/design-notes.md, "Adding a recipe").
//
// Threading: requests may be started from any thread; they start on the driver strand, and
// their handlers run there, inline when the answer arrives (recipe code continues in place). A
// request that cannot start completes through a post, never inside the call. Paths are trusted:
// the public API and the recipes' entry points validate what comes from users.
#pragma once

#include "completion.hpp"

#include <zkr/observer.hpp>
#include <zkr/session.hpp>
#include <zkr/watch.hpp>
#include <zkr/znode.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace zkr::detail {

struct watch_state;

/// What a recipe handle needs to hear about its session. Delivered on the driver strand.
enum class session_event {
    suspended,           ///< connection lost, session maybe alive
    reconnected,         ///< connection back, same session
    deadline_passed,     ///< suspended so long the server may have expired the session
    quorum_unreachable,  ///< connected, but the leader may have expired the session (quorum_check)
    expired,             ///< session expired (or authentication failed): final for what it held
    closed,              ///< closed by the user: final
    /// A new ZooKeeper session, the next generation, replaced the expired one and is connected
    /// (session_config::renew_after_expiry). Told to lasting listeners only.
    renewed,
};

/// How long a listener hears its session (session_seam::add_listener).
enum class listener_scope {
    /// Until the ZooKeeper session it was registered in ends: what is held (a lock, a lease,
    /// a leadership) ends with it. The listener hears that generation's expiry, then nothing.
    generation,
    /// For as long as it lives, across renewals: what carries on in the next generation
    /// (a persistent node, a cache, a membership that re-joins) hears `renewed`.
    lasting,
};

class session_listener {
  public:
    virtual void on_session_event(session_event event) = 0;
    /// True if this listener stands for a handle on `node` (session_seam::holds_node).
    virtual bool holds_node(const std::string& /*node*/) const noexcept { return false; }

  protected:
    ~session_listener() = default;
};

/// A directory listing several callers share (see session_seam::first_look_listing), with room
/// for what a recipe derives from it once for all of them. Driver strand.
struct shared_listing {
    children kids;
    std::size_t readers = 1;  ///< callers it was taken for
    std::shared_ptr<void> derived;
};

class session_seam : public std::enable_shared_from_this<session_seam> {
  public:
    /// Strands, held type-erased (copying an any_io_executor that holds a strand only bumps a
    /// count, while converting a strand<> into one allocates).
    using strand_type = boost::asio::any_io_executor;

    /// `owner` keeps what runs `driver` alive (zkr's own I/O thread) for as long as the strands:
    /// a base is destroyed after its derived class, which must not take it down first.
    session_seam(strand_type driver, strand_type user, std::shared_ptr<void> owner = nullptr,
                 std::shared_ptr<zkr::observer> observer = nullptr)
        : owner_(std::move(owner)),
          executors_(std::make_shared<const completion_executors>(
              completion_executors{std::move(driver), std::move(user)})),
          observer_(std::move(observer)) {}
    session_seam(const session_seam&) = delete;
    session_seam& operator=(const session_seam&) = delete;

    /// The driver strand: where requests start and complete, and recipe logic runs.
    const strand_type& strand() const noexcept { return executors_->via; }
    /// The default executor of user handlers.
    const strand_type& executor() const noexcept { return executors_->fallback; }
    /// Where user handlers' completions go (see completion_executors).
    const completion_executors& completions() const noexcept { return *executors_; }
    /// The same, shared: for what may outlive the session (a watch's state), at the cost of a
    /// pointer instead of two executors.
    const std::shared_ptr<const completion_executors>& shared_completions() const noexcept {
        return executors_;
    }

    /// Told of what happens on this session (session_config::observer); null if nobody is.
    const std::shared_ptr<zkr::observer>& observer() const noexcept { return observer_; }

    /// True on the driver strand (requests then start at once instead of being posted there).
    virtual bool running_in_driver() const noexcept = 0;
    /// Runs `f` on the driver strand: now if already there, else posted.
    template <class F>
    void on_driver(F&& f) {
        if (running_in_driver()) {
            std::forward<F>(f)();
        } else {
            boost::asio::post(executors_->via, std::forward<F>(f));
        }
    }

    virtual session_state state() const noexcept = 0;
    virtual std::int64_t session_id() const noexcept = 0;
    /// The error every operation gets once the session reached a final state; empty before.
    virtual error_code final_error() const noexcept = 0;
    /// Completes once the state differs from `seen` (session_closed if `seen` is final).
    virtual void wait_state(session_state seen, handler<void(error_code, session_state)> h) = 0;
    /// The ZooKeeper session this one is in: 1 from the first connection on, one more at each
    /// renewal after expiry (session_config::renew_after_expiry); 0 before async_connect. Any
    /// thread.
    virtual std::uint64_t generation() const noexcept = 0;
    /// Suspended past this outage's loss deadline: session_event::deadline_passed was told
    /// already. Driver strand.
    virtual bool loss_deadline_passed() const noexcept = 0;
    /// Registers a listener for session events (call on the driver strand). Held weakly.
    virtual void add_listener(std::weak_ptr<session_listener> listener,
                              listener_scope scope = listener_scope::generation) = 0;
    /// Unregisters a listener before it ends (driver strand).
    virtual void remove_listener(const session_listener* listener) = 0;
    /// True if a handle of this process holds `node` on this session (a lock, a lease, a
    /// membership, or an adoption under way): a second handle on it is refused with
    /// errc::already_held, since releasing one would leave the other claiming a deleted node.
    /// The handles are the session's listeners (session_listeners::hold). Driver strand.
    virtual bool holds_node(const std::string& node) const = 0;

    // Requests. `ttl_ms` > 0 for the TTL modes.
    virtual void create(std::string path, std::string data, create_mode mode,
                        handler<void(error_code, created_node)> h, std::int64_t ttl_ms = 0) = 0;
    virtual void remove(std::string path, int version, handler<void(error_code)> h) = 0;
    virtual void get_data(std::string path, handler<void(error_code, node_data)> h) = 0;
    virtual void watch_data(std::string path,
                            handler<void(error_code, node_data, zkr::watch)> h) = 0;
    virtual void exists(std::string path, handler<void(error_code, std::optional<stat>)> h) = 0;
    virtual void watch_exists(std::string path,
                              handler<void(error_code, std::optional<stat>, zkr::watch)> h) = 0;
    virtual void get_children(std::string path, handler<void(error_code, children)> h) = 0;
    virtual void watch_children(std::string path,
                                handler<void(error_code, children, zkr::watch)> h) = 0;
    virtual void set_data(std::string path, std::string data, int version,
                          handler<void(error_code, stat)> h) = 0;
    virtual void multi(std::vector<op> ops,
                       handler<void(error_code, std::vector<op_result>)> h) = 0;
    virtual void sync(std::string path, handler<void(error_code)> h) = 0;

    /// The listing a new contender's first look needs: one taken after its create (sent just
    /// before this call), possibly shared with other contenders of `dir` (session_impl batches
    /// a burst of them into one listing). Driver strand.
    virtual void first_look_listing(
        const std::string& dir, handler<void(error_code, std::shared_ptr<shared_listing>)> h) = 0;

    /// Asks the server to drop a watch that nobody will wait for (best effort). Any thread.
    virtual void remove_watch(std::shared_ptr<watch_state> state) = 0;

    /// True while the session's watches fill less than a quarter of their budget (the packet
    /// that re-arms them after a reconnect): room for watches that only save a round trip,
    /// without taking it from those a recipe needs (a waiter's own-node watch). Driver strand.
    virtual bool watch_room_to_spare() const noexcept { return true; }

    /// errc::request_too_large if a request carrying `path` and `data_bytes` of data would exceed
    /// the servers' packet limit. Any thread.
    virtual error_code check_request_size(const std::string& path,
                                          std::size_t data_bytes) const = 0;

    /// Between these two calls (on the driver strand, paired: request_batch), the requests
    /// started go out as one batch: the connection's waits are looked at once, at its end,
    /// instead of after each request.
    virtual void begin_request_batch() {}
    virtual void end_request_batch() {}

    /// A lock, lease or leadership of this session began (ended): while one lasts, the session
    /// checks that its server still reaches the ensemble's leader (session_config::quorum_check,
    /// src/quorum_check.hpp). Began on the driver strand, ended on any thread; once each.
    virtual void hold_began() {}
    virtual void hold_ended() {}

    /// True the first time `name` in `dir` is noticed by this session (for warnings that would
    /// otherwise repeat at every listing). Driver strand.
    virtual bool first_notice(const std::string& dir, const std::string& name) = 0;

  protected:
    ~session_seam() = default;

  private:
    std::shared_ptr<void> owner_;  // declared first: destroyed after the strands
    std::shared_ptr<const completion_executors> executors_;  ///< the driver strand, then the user's
    std::shared_ptr<zkr::observer> observer_;
};

using session_ptr = std::shared_ptr<session_seam>;

/// Starts a batch of requests (session_seam::begin_request_batch) and ends it when it goes.
class request_batch {
  public:
    explicit request_batch(session_seam& s) : session_(s) { session_.begin_request_batch(); }
    ~request_batch() { session_.end_request_batch(); }
    request_batch(const request_batch&) = delete;
    request_batch& operator=(const request_batch&) = delete;

  private:
    session_seam& session_;
};

/// A node being taken over (mutex::async_adopt), held for holds_node until the handle that
/// adopts it is registered itself: two adoptions at once cannot both pass the check.
class node_claim final : public session_listener {
  public:
    explicit node_claim(std::string node) : node_(std::move(node)) {}
    void on_session_event(session_event) override {}
    bool holds_node(const std::string& node) const noexcept override { return node == node_; }

  private:
    std::string node_;
};

}  // namespace zkr::detail
