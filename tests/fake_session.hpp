// A session without a server, for testing recipes step by step: an in-memory ZooKeeper tree
// (fake_server) and sessions on it (fake_session) that implement the recipes' seam
// (src/session_seam.hpp), record every request, and inject one fault at a chosen request.
//
// The model keeps ZooKeeper's rules that the recipes rely on: sequence numbers from the parent's
// counter, czxid increasing, ephemeral nodes owned by a session and deleted when it expires,
// one-shot watches (data, exists, children), answers in request order and never inline. A
// connection loss suspends the session and reconnects it at once (posted); watches survive it, as
// the C client re-arms them.
//
// What a session does over its own requests (the first-look batching, the notice memory, the
// listeners) is not modelled: the fake holds the real session's (src/queue_services.hpp,
// src/session_listeners.hpp).
#pragma once

#include "queue_services.hpp"
#include "session_listeners.hpp"
#include "session_seam.hpp"

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zkr::test {

struct fake_node {
    std::string data;
    zkr::stat stat;
    int next_sequence = 0;  // the counter of its sequential children (ZooKeeper's cversion)
};

/// The tree every fake_session of a test shares. Single-threaded: everything runs on one
/// io_context thread.
class fake_server {
  public:
    fake_server();

    std::map<std::string, fake_node, std::less<>> nodes;  ///< by full path; "/" always exists

    bool exists(const std::string& path) const { return nodes.count(path) != 0; }
    std::vector<std::string> children_of(const std::string& path) const;
    /// Ephemeral nodes owned by `session_id`.
    std::vector<std::string> owned_by(std::int64_t session_id) const;

    /// Another client's doing, outside any session under test: creates `path` (parents must
    /// exist), sequential if `sequential` (the full path is returned).
    std::string create_as(std::int64_t owner, const std::string& path, std::string data,
                          bool sequential);
    /// Another client's doing: deletes `path` (no children) and fires the watches on it.
    void remove(const std::string& path);

    // ---- For the sessions. ----
    error_code apply_create(const std::string& path, std::string data, create_mode mode,
                            std::int64_t owner, created_node& out);
    error_code apply_remove(const std::string& path, int version);
    error_code apply_set(const std::string& path, std::string data, int version, zkr::stat& out);
    /// A multi: every op or none (nothing changed and no watch fired when one fails); a check
    /// compares the version as ZooKeeper does. Returns the first failing op's error.
    error_code apply_ops(const std::vector<op>& ops, std::int64_t owner,
                         std::vector<op_result>& results);
    /// Deletes every ephemeral node of `session_id` (its expiry).
    void expire(std::int64_t session_id);

    enum class watch_kind { data, exists, children };
    struct armed_watch {
        std::string path;
        watch_kind kind;
        std::shared_ptr<detail::watch_state> state;
    };
    void arm(armed_watch w) { watches_.push_back(std::move(w)); }
    /// Watches armed on `path` (by any session).
    std::size_t watches_on(const std::string& path) const;
    /// Watches armed by `owner`.
    std::size_t watches_of(const detail::session_seam* owner) const;
    void disarm(const detail::watch_state* state);
    /// Fires the watches of `session_id` with `ec` (its expiry); they are gone afterwards.
    void end_watches_of(const detail::session_seam* owner, error_code ec);

    std::int64_t next_zxid() { return ++zxid_; }

  private:
    void fire(const std::string& path, watch_event_type type);
    std::int64_t zxid_ = 0;
    bool quiet_ = false;  ///< a multi's trial run: no watch fires
    std::vector<armed_watch> watches_;
};

/// What a session under test does at one request.
enum class fault {
    none,
    /// The connection drops before the request reaches the server: not applied, answered with
    /// connection_loss; the session reconnects.
    loss_before,
    /// The connection drops after the server applied it: the answer is lost (connection_loss).
    loss_after,
    /// The session expires at this request: not applied, session_expired, ephemerals gone.
    expiry,
    /// Another client changes the world just before the request, as the server could see it: a
    /// node read or deleted is deleted first (if it has no children); a non-sequential create
    /// finds the node created by someone else; a sequential create finds its parent deleted (if
    /// empty). Not every request has one (see conflict_applies).
    conflict,
    /// The recipe's caller cancels its operation just before the answer arrives.
    cancel,
    /// The connection drops before the request reaches the server (as loss_before), and the
    /// caller cancels while the recipe waits for the connection to come back, which it does only
    /// after that.
    cancel_while_disconnected,
};

const char* fault_name(fault f);

/// The session ids the step tests give the recipe's session and another client's.
inline constexpr std::int64_t our_session = 0x100;
inline constexpr std::int64_t other_session = 0x200;

/// Every fault but none: what the step tests inject at every request.
inline constexpr fault every_fault[] = {fault::loss_before, fault::loss_after,
                                        fault::expiry,      fault::conflict,
                                        fault::cancel,      fault::cancel_while_disconnected};

/// One request as the recipe made it.
struct request_record {
    std::string kind;  ///< "create", "remove", "get_data", "watch_data", "exists", ...
    std::string path;
    std::string str() const { return kind + " " + path; }
};

/// Runs every handler that is ready, until none is: the fake's answers and reconnections are
/// posted, never timed. What keeps going without end (a retry loop that never settles) fails
/// the test here, naming `what`, rather than hanging it.
void drain(boost::asio::io_context& ioc, const char* what = "the operation");

class fake_session final : public detail::session_seam {
  public:
    fake_session(boost::asio::io_context& ioc, fake_server& server, std::int64_t id);

    /// Injects `f` at request number `step` (0-based, in the order the recipe makes them).
    void inject(std::size_t step, fault f) {
        fault_step_ = step;
        fault_ = f;
    }
    /// What fault::cancel calls.
    std::function<void()> on_cancel;
    /// After fault::expiry, the session renews (session_config::renew_after_expiry): a new id,
    /// the next generation, connected through a post and told to lasting listeners.
    bool renews = false;
    /// The watches this session may hold at once: a watch read past it is refused with
    /// errc::too_many_watches (the real session's budget, session_config::max_packet_bytes).
    std::size_t watch_budget = static_cast<std::size_t>(-1);
    /// True if the injected fault was applied (a conflict may not apply to its request).
    bool fault_applied() const noexcept { return fault_applied_; }

    const std::vector<request_record>& requests() const noexcept { return requests_; }
    std::int64_t id() const noexcept { return id_; }

    // session_seam
    bool running_in_driver() const noexcept override;
    session_state state() const noexcept override { return state_; }
    std::int64_t session_id() const noexcept override { return id_; }
    std::uint64_t generation() const noexcept override { return generation_; }
    bool loss_deadline_passed() const noexcept override { return loss_deadline_passed_; }
    /// Suspended (requests are still answered), and this outage's loss deadline past if
    /// `deadline_passed`: told to the listeners as the real session tells them.
    void suspend(bool deadline_passed) {
        set_state(session_state::suspended);
        notify(detail::session_event::suspended);
        if (deadline_passed) {
            loss_deadline_passed_ = true;
            notify(detail::session_event::deadline_passed);
        }
    }
    /// Connected again after suspend(), told as the real session tells it.
    void reconnect() {
        set_state(session_state::connected);
        notify(detail::session_event::reconnected);
    }
    error_code final_error() const noexcept override;
    void wait_state(session_state seen,
                    detail::handler<void(error_code, session_state)> h) override;
    void add_listener(std::weak_ptr<detail::session_listener> listener,
                      detail::listener_scope scope) override {
        listeners_.add(std::move(listener), scope);
    }
    void remove_listener(const detail::session_listener* listener) override {
        listeners_.remove(listener);
    }
    bool holds_node(const std::string& node) const override { return listeners_.hold(node); }
    void create(std::string path, std::string data, create_mode mode,
                detail::handler<void(error_code, created_node)> h,
                std::int64_t ttl_ms = 0) override;
    void remove(std::string path, int version, detail::handler<void(error_code)> h) override;
    void get_data(std::string path, detail::handler<void(error_code, node_data)> h) override;
    void watch_data(std::string path,
                    detail::handler<void(error_code, node_data, zkr::watch)> h) override;
    void exists(std::string path,
                detail::handler<void(error_code, std::optional<zkr::stat>)> h) override;
    void watch_exists(
        std::string path,
        detail::handler<void(error_code, std::optional<zkr::stat>, zkr::watch)> h) override;
    void get_children(std::string path, detail::handler<void(error_code, children)> h) override;
    void watch_children(std::string path,
                        detail::handler<void(error_code, children, zkr::watch)> h) override;
    void set_data(std::string path, std::string data, int version,
                  detail::handler<void(error_code, zkr::stat)> h) override;
    void multi(std::vector<op> ops,
               detail::handler<void(error_code, std::vector<op_result>)> h) override;
    void sync(std::string path, detail::handler<void(error_code)> h) override;
    /// The session's own batching (queue_services.hpp), over this fake's get_children.
    void first_look_listing(
        const std::string& dir,
        detail::handler<void(error_code, std::shared_ptr<detail::shared_listing>)> h) override {
        listings_.first_look_listing(dir, std::move(h));
    }
    void remove_watch(std::shared_ptr<detail::watch_state> state) override;
    error_code check_request_size(const std::string&, std::size_t) const override { return {}; }
    bool first_notice(const std::string& dir, const std::string& name) override {
        return notices_.first_notice(dir, name);
    }
    /// True when no first-look listing is in flight or waiting.
    bool listings_idle() const noexcept { return listings_.idle(); }

  private:
    /// Runs one request: records it, applies the fault planned for it, and posts the answer.
    /// `apply` does the request against the tree and returns the function that answers it (given
    /// the error to answer with, if the answer is not the request's own).
    template <class Apply>
    void request(const char* kind, const std::string& path, Apply apply);
    template <class... Values>
    struct answer;
    template <class... Values>
    answer<Values...> make_answer(detail::handler<void(error_code, Values...)> h);
    /// The six reads: another client's change first (fault::conflict), then `look()` answers
    /// with a tuple of the handler's arguments.
    template <class Look, class... Values>
    void read(const char* kind, const std::string& path,
              detail::handler<void(error_code, Values...)> h, Look look);
    std::optional<node_data> node_at(const std::string& path) const;
    std::optional<children> children_at(const std::string& path) const;
    void set_state(session_state next);
    void notify(detail::session_event event) { listeners_.notify(event); }
    /// The expiry of fault::expiry, then the renewal if the session renews.
    void expire();
    zkr::watch arm(const std::string& path, fake_server::watch_kind kind);

    fake_server& server_;
    std::int64_t id_;
    std::uint64_t generation_ = 1;
    session_state state_ = session_state::connected;
    bool loss_deadline_passed_ = false;
    std::vector<request_record> requests_;
    std::size_t fault_step_ = static_cast<std::size_t>(-1);
    fault fault_ = fault::none;
    bool fault_applied_ = false;
    bool answer_lost_ = false;  // the next answer is lost with the connection
    detail::session_listeners listeners_;
    std::vector<std::pair<session_state, detail::handler<void(error_code, session_state)>>>
        state_waiters_;
    detail::listing_batcher listings_{*this};
    detail::notice_memory notices_;
};

}  // namespace zkr::test
