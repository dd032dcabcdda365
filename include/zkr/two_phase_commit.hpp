// zkr::two_phase_commit: a coordinator proposes a transaction to named participants, each votes
// commit or abort, and one decision, which every participant learns, settles it (the "Two-phased
// Commit" of ZooKeeper's recipes page).
//
// A transaction is the persistent node PATH/<txid>, whose data holds the proposal, the
// participants' names and an absolute deadline, with one persistent child "vote-<name>" per
// participant, created empty in the same multi as the transaction (it exists whole or not at
// all). A vote writes "commit" or "abort" into its node, once. The decision is the node
// PATH/<txid>/decision, created exclusively with "commit" or "abort": whoever creates it first
// decides, so it can never be both. The coordinator decides commit only once every vote says
// commit; a participant's abort vote decides abort in the same multi; once the deadline has passed
// anyone waiting for the decision decides abort, so a dead coordinator blocks nobody past it.
// docs/two-phase-commit.md has the byte layout, the protocol and what each failure leaves.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace zkr {

class session;
namespace detail {
class session_seam;
struct access;
struct two_phase_commit_impl;
}  // namespace detail

/// A participant's vote.
enum class transaction_vote { commit, abort };

/// What a transaction came to: `pending` until it is decided (only async_outcome says pending).
enum class transaction_outcome { pending, commit, abort };

/// A transaction as proposed.
struct transaction {
    std::string id;
    std::string proposal;  ///< the coordinator's bytes, verbatim
    std::vector<std::string> participants;
    /// After it, anyone waiting decides abort: wall-clock time, whole milliseconds since the Unix
    /// epoch as stored (the participants' clocks read it; see docs/two-phase-commit.md, Clocks).
    std::chrono::system_clock::time_point deadline;
};

/// The transactions under one path (see the file comment). The coordinator proposes and decides;
/// each participant waits for a proposal naming it, votes, and waits for the decision.
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Lifetimes: the object may be dropped while operations run; they go on and complete.
/// - Errors: errc::invalid_path (the path, a transaction id or a participant name that makes no
///   valid path); errc::unknown_transaction; errc::not_a_transaction (the node holds data that is
///   not a transaction: nothing is written); zk_errc::no_auth; the session's end. Connection loss
///   is waited out; a write whose answer was lost is found out by reading, never applied twice.
/// - Thread safety: any member from any thread.
class ZKR_API two_phase_commit {
  public:
    /// Nothing is sent here.
    two_phase_commit(session& s, std::string path);
    two_phase_commit(two_phase_commit&&) noexcept;
    two_phase_commit& operator=(two_phase_commit&&) noexcept;
    ~two_phase_commit();

    const std::string& path() const noexcept;

    // ---- Coordinator ----

    /// Proposes `proposal` to `participants` (one multi: the transaction and its empty votes;
    /// missing parents of the path are created as containers). The deadline is now + `timeout`.
    /// `id`: the transaction's node name, or empty for a generated one ("tx-<uuid>").
    /// Handler signature: void(error_code, std::string id).
    /// Errors: errc::invalid_argument (no participants, a name twice, timeout <= 0);
    /// errc::transaction_exists; errc::request_too_large. Nothing is half-written.
    /// Not cancellable: it completes once the transaction is known to exist, or not to.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_propose(std::string id, std::string proposal,
                                     std::vector<std::string> participants,
                                     std::chrono::milliseconds timeout, Token&& token = {}) {
        return detail::initiate<void(error_code, std::string)>(
            std::forward<Token>(token),
            [impl = impl_, id = std::move(id), proposal = std::move(proposal),
             participants = std::move(participants), timeout](auto h) {
                initiate_propose(impl, id, proposal, participants, timeout, std::move(h));
            });
    }

    /// Waits for the votes and decides: commit once every vote says commit, abort at the deadline
    /// (or if the decision is there already, whoever made it: that is the outcome). Watches the
    /// decision and the first vote still missing. Handler signature:
    /// void(error_code, transaction_outcome) (commit or abort).
    /// Cancellation: terminal, partial and total (operation_aborted; the watches are removed;
    /// nothing was decided unless the outcome says so).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_decide(std::string id, Token&& token = {}) {
        return detail::initiate<void(error_code, transaction_outcome)>(
            std::forward<Token>(token), [impl = impl_, id = std::move(id)](auto h) {
                initiate_decide(impl, id, true, std::move(h));
            });
    }

    // ---- Participants ----

    /// Completes with a transaction that names `participant`, has no vote of its own yet and is
    /// not decided (the oldest, if several), at once if there is one. One children watch on the
    /// path while it waits. Handler signature: void(error_code, transaction).
    /// Cancellation: terminal, partial and total (operation_aborted; the watch is removed).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_proposal(std::string participant, Token&& token = {}) {
        return detail::initiate<void(error_code, transaction)>(
            std::forward<Token>(token),
            [impl = impl_, participant = std::move(participant)](auto h) {
                initiate_wait_proposal(impl, participant, std::move(h));
            });
    }

    /// Casts `participant`'s vote, once. An abort vote decides abort in the same multi.
    /// Handler signature: void(error_code): success also for the same vote cast again (after a
    /// lost answer, or by a participant that restarted).
    /// Errors: errc::unknown_participant; errc::already_voted (it voted otherwise);
    /// errc::already_decided (too late: read the outcome).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_vote(std::string id, std::string participant, transaction_vote vote,
                                  Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_, id = std::move(id), participant = std::move(participant), vote](auto h) {
                initiate_vote(impl, id, participant, vote, std::move(h));
            });
    }

    /// Waits for the decision; once the deadline has passed undecided, decides abort itself
    /// (if someone else decided first, that decision is the outcome). A participant that voted
    /// commit must wait here: it is 2PC's blocking window, bounded by the deadline. One watch
    /// while it waits. Handler signature: void(error_code, transaction_outcome) (commit or
    /// abort). Cancellation: terminal, partial and total (operation_aborted; the watch removed).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_decision(std::string id, Token&& token = {}) {
        return detail::initiate<void(error_code, transaction_outcome)>(
            std::forward<Token>(token), [impl = impl_, id = std::move(id)](auto h) {
                initiate_decide(impl, id, false, std::move(h));
            });
    }

    // ---- Anyone (a participant that restarted, an operator) ----

    /// The transaction as proposed. Handler signature: void(error_code, transaction).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_read(std::string id, Token&& token = {}) {
        return detail::initiate<void(error_code, transaction)>(
            std::forward<Token>(token),
            [impl = impl_, id = std::move(id)](auto h) { initiate_read(impl, id, std::move(h)); });
    }

    /// The outcome now, without waiting: pending, commit or abort.
    /// Handler signature: void(error_code, transaction_outcome).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_outcome(std::string id, Token&& token = {}) {
        return detail::initiate<void(error_code, transaction_outcome)>(
            std::forward<Token>(token), [impl = impl_, id = std::move(id)](auto h) {
                initiate_outcome(impl, id, std::move(h));
            });
    }

    /// Removes a decided transaction: its votes, its decision and its node, in one multi (only
    /// the nodes the recipe made). Handler signature: void(error_code): success also when it is
    /// gone already. Errors: errc::not_decided; zk_errc::not_empty (someone else made a node
    /// under it: nothing removed).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_remove(std::string id, Token&& token = {}) {
        return detail::initiate<void(error_code)>(std::forward<Token>(token),
                                                  [impl = impl_, id = std::move(id)](auto h) {
                                                      initiate_remove(impl, id, std::move(h));
                                                  });
    }

  private:
    friend struct detail::access;
    two_phase_commit(std::shared_ptr<detail::session_seam> s, std::string path);

    using impl_ptr = std::shared_ptr<const detail::two_phase_commit_impl>;
    static void initiate_propose(const impl_ptr&, std::string id, std::string proposal,
                                 std::vector<std::string> participants,
                                 std::chrono::milliseconds timeout,
                                 detail::handler<void(error_code, std::string)>);
    /// async_decide (`coordinator`: reads the votes) and async_wait_decision.
    static void initiate_decide(const impl_ptr&, std::string id, bool coordinator,
                                detail::handler<void(error_code, transaction_outcome)>);
    static void initiate_wait_proposal(const impl_ptr&, std::string participant,
                                       detail::handler<void(error_code, transaction)>);
    static void initiate_vote(const impl_ptr&, std::string id, std::string participant,
                              transaction_vote vote, detail::handler<void(error_code)>);
    static void initiate_read(const impl_ptr&, std::string id,
                              detail::handler<void(error_code, transaction)>);
    static void initiate_outcome(const impl_ptr&, std::string id,
                                 detail::handler<void(error_code, transaction_outcome)>);
    static void initiate_remove(const impl_ptr&, std::string id, detail::handler<void(error_code)>);

    impl_ptr impl_;
};

}  // namespace zkr
