// Leader election on the lock queue: the first participant in line leads.
//
// Each participant creates "<path>/_c_<uuid>-latch-<seq>" holding its participant id (Apache
// Curator's LeaderLatch naming, so Java and C++ participants can share an election) and waits,
// watching only the participant just ahead of it. Leadership is a zkr::leadership handle with the
// same contract as a lock: it knows when it is lost, carries a fencing token, and resigns when
// destroyed.
//
// Like a lock, leadership protects nothing by itself: a deposed leader can still be running. Pass
// fencing_token() to whatever the leader writes, or write through async_guarded_multi.
//
// A leader publishes by writing its own election node (leadership::async_publish: its address,
// an epoch), and observers see each value (leader_observer::async_wait_update), as with etcd's
// Proclaim and Observe. The published value is the node's data, the participant id at first:
// that is what Curator's LeaderLatch reads as the leader's id, so Curator participants see it too.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/lock.hpp>

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zkr {

class session;
namespace detail {
class session_seam;
struct access;
struct election_impl;
struct observer_state;
}  // namespace detail

/// Proof of leadership: a zkr::lock under the names of an election.
class leadership {
  public:
    leadership() noexcept = default;
    explicit leadership(lock l) noexcept : lock_(std::move(l)) {}

    /// True while we lead: elected, not resigned, not known to be deposed.
    bool is_leader() const noexcept { return lock_.owns(); }
    explicit operator bool() const noexcept { return is_leader(); }
    /// Our election node's czxid: increases from one leader to the next.
    std::int64_t fencing_token() const noexcept { return lock_.fencing_token(); }
    const std::string& path() const noexcept { return lock_.path(); }
    error_code lost_reason() const { return lock_.lost_reason(); }
    /// Our election node and its token, for a resource to check (lock::sequencer).
    zkr::sequencer sequencer() const { return lock_.sequencer(); }

    /// Steps down: deletes our node, so the next participant leads at once. Like
    /// lock::async_release. Handler signature: void(error_code).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_resign(Token&& token = {}) {
        return lock_.async_release(std::forward<Token>(token));
    }

    /// Completes when leadership is lost, with the reason. Like lock::async_wait_lost.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_lost(Token&& token = {}) {
        return lock_.async_wait_lost(std::forward<Token>(token));
    }

    /// A ZooKeeper transaction applied only while our election node exists.
    /// Like lock::async_guarded_multi.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_guarded_multi(std::vector<op> ops, Token&& token = {}) {
        return lock_.async_guarded_multi(std::move(ops), std::forward<Token>(token));
    }

    /// Publishes `data` while we lead: it becomes our election node's data, in place of the
    /// participant id (or of the value published before), and what observers report as the
    /// leader's id (leader_observer::async_wait_update, Curator's LeaderLatch.getLeader()).
    /// One request; the server writes only to our node, so a value is never published once that
    /// node is gone, and nothing is ever created.
    ///
    /// Handler signature: void(error_code): success once the server has written it while our
    /// node existed. Errors:
    /// - errc::lock_lost: we do not lead any more (lost before, or found lost by this write:
    ///   lost_reason() says why). The server never writes it once our node is gone.
    /// - errc::not_owner: an empty handle, or resigned; no request is sent.
    /// - errc::invalid_argument: `data` is names::revoke_request, which would ask us to resign.
    /// - errc::request_too_large: over session_config::max_packet_bytes.
    /// A disconnection does not fail it: the write is sent again once the connection is back (it
    /// sets a whole value, so sending it twice changes nothing but the data version: observers
    /// may then report the same value twice), unless leadership is lost first (lock_lost).
    /// Cancellation: terminal, partial, total, while it waits for the connection
    /// (operation_aborted: the value may or may not have been written). Start a publication once
    /// the previous one has completed: concurrent ones are written in the order they were
    /// started, except across a disconnection.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_publish(std::string data, Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = lock_.impl_](auto h, std::string d) {
                initiate_publish(impl, std::move(d), std::move(h));
            },
            std::move(data));
    }

  private:
    ZKR_API static void initiate_publish(const std::shared_ptr<detail::lock_state>&,
                                         std::string data, detail::handler<void(error_code)>);
    lock lock_;
};

/// The current leader as seen in ZooKeeper.
struct leader_info {
    std::string id;    ///< its node's data: the participant id, or the value it published last
    std::string node;  ///< its node's name
    std::int64_t fencing_token = 0;
    /// How many times its node's data was written since the node was created (0 before any
    /// publication): a new value of the same leader has a higher one.
    std::int32_t data_version = 0;
};

/// One participant, in queue order.
struct participant {
    std::string id;
    std::string node;
    bool leader = false;
};

struct election_options {
    loss_policy on_loss = loss_policy::on_expiry;
    /// How async_lead reacts when leadership is lost while the work runs: campaign again
    /// (true), or complete with the loss reason (false). An expiry ends it either way, unless
    /// the session renews (session_config::renew_after_expiry): then async_lead campaigns
    /// again in the next generation, once it is connected.
    bool requeue = true;
};

/// One participant's view of an election (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Lifetimes: this object may be destroyed while operations are pending (they keep what they
///   need); arguments are copied.
/// - Thread safety: distinct objects are independent; one object may be used from several
///   threads (operations are serialised on the session's strand).
class ZKR_API leader_election {
  public:
    /// Work run while leading (see async_lead).
    using work_function = std::function<boost::asio::awaitable<void>()>;

    /// Lifetimes and path checks: as for zkr::mutex (it may outlive the session object).
    leader_election(session& s, std::string path, std::string participant_id,
                    election_options options = {});

    const std::string& path() const noexcept;
    const std::string& id() const noexcept;

    /// Joins the election and completes when we lead. Before claiming leadership, zkr reads its
    /// own node back and checks that our session owns it.
    ///
    /// Handler signature: void(error_code, leadership). Cancellation: terminal, partial, total
    /// (our node is deleted, operation_aborted). Errors: as mutex::async_lock.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_campaign(Token&& token = {}) {
        return detail::initiate<void(error_code, leadership)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_campaign(impl, std::move(h)); });
    }

    /// Takes over an election node of ours (leadership::path()) after a restart that resumed
    /// the session, as mutex::async_adopt does: completes once that node leads, at once if it
    /// did. Handler signature: void(error_code, leadership). Errors and cancellation: as
    /// mutex::async_adopt.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_adopt(std::string node_path, Token&& token = {}) {
        return detail::initiate<void(error_code, leadership)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string node) {
                initiate_adopt(impl, std::move(node), std::move(h));
            },
            std::move(node_path));
    }

    /// Creates the election's directory now: like mutex::async_prepare.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_prepare(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_prepare(impl, std::move(h)); });
    }

    /// Handler signature: void(error_code, std::optional<leader_info>): empty if nobody leads.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_current_leader(Token&& token = {}) {
        return detail::initiate<void(error_code, std::optional<leader_info>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_current_leader(impl, std::move(h)); });
    }

    /// Every participant in queue order, the leader first.
    /// Handler signature: void(error_code, std::vector<participant>).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_participants(Token&& token = {}) {
        return detail::initiate<void(error_code, std::vector<participant>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_participants(impl, std::move(h)); });
    }

    /// Campaigns, runs `work` while leading, and resigns when it returns. If leadership is lost
    /// first, `work` is cancelled (terminal cancellation reaches its pending operation) and, with
    /// options.requeue, zkr campaigns again and restarts it: after an expiry too, in the next
    /// generation, when the session renews (session_config::renew_after_expiry).
    ///
    /// Handler signature: void(error_code): success when `work` returned; the loss reason when
    /// leadership was lost and requeue is off; operation_aborted when cancelled. An exception
    /// thrown by `work` ends the operation with errc::invalid_argument after resigning.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_lead(work_function work, Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, work_function w) {
                initiate_lead(impl, std::move(w), std::move(h));
            },
            std::move(work));
    }

  private:
    friend struct detail::access;
    leader_election(std::shared_ptr<detail::session_seam> s, std::string path,
                    std::string participant_id, election_options options);

    using impl_ptr = std::shared_ptr<const detail::election_impl>;
    static void initiate_adopt(const impl_ptr&, std::string node,
                               detail::handler<void(error_code, leadership)> h);
    static void initiate_campaign(const impl_ptr&, detail::handler<void(error_code, leadership)>);
    static void initiate_prepare(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_current_leader(
        const impl_ptr&, detail::handler<void(error_code, std::optional<leader_info>)>);
    static void initiate_participants(const impl_ptr&,
                                      detail::handler<void(error_code, std::vector<participant>)>);
    static void initiate_lead(const impl_ptr&, work_function, detail::handler<void(error_code)>);

    impl_ptr impl_;
};

/// Follows an election without taking part in it.
class ZKR_API leader_observer {
  public:
    /// Lifetimes: as for zkr::mutex (it may outlive the session object).
    leader_observer(session& s, std::string path);

    /// Completes with the leader when it differs from the one this observer reported last (the
    /// first call reports the current leader at once). Changes are reported in order; a leader
    /// that led for less than a round trip may be skipped. Costs one watch while waiting (on the
    /// leader's node, which a publication wakes too: the wait then reads again and goes on).
    /// A value the same leader publishes is not a change here: see async_wait_update.
    ///
    /// Handler signature: void(error_code, std::optional<leader_info>): empty when nobody
    /// leads. Cancellation: terminal, partial, total. One wait at a time per observer.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_leader_change(Token&& token = {}) {
        return detail::initiate<void(error_code, std::optional<leader_info>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_wait_change(impl, false, std::move(h)); });
    }

    /// As async_wait_leader_change, and completes also when the leader publishes
    /// (leadership::async_publish): with each value (a higher leader_info::data_version), in the
    /// order they were written. Values published faster than a round trip of the observer may be
    /// skipped: it reports the latest; none is reported out of order. Costs one watch while
    /// waiting, the same one.
    ///
    /// Handler signature: void(error_code, std::optional<leader_info>): empty when nobody
    /// leads. Cancellation: terminal, partial, total. One wait at a time per observer (of
    /// either kind: both compare with what the observer reported last).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_update(Token&& token = {}) {
        return detail::initiate<void(error_code, std::optional<leader_info>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_wait_change(impl, true, std::move(h)); });
    }

  private:
    friend struct detail::access;
    using impl_ptr = std::shared_ptr<detail::observer_state>;
    /// `with_data`: a new value of the same leader counts as a change (async_wait_update).
    static void initiate_wait_change(const impl_ptr&, bool with_data,
                                     detail::handler<void(error_code, std::optional<leader_info>)>);
    impl_ptr impl_;
};

}  // namespace zkr
