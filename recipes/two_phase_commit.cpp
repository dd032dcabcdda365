// The two-phase commit over session_seam (docs/two-phase-commit.md). Three rules make it safe:
// the decision is one exclusive create, so it is made once; it is made in the same multi that
// moves the transaction node's version from 0, and a vote checks that version 0 in its own multi,
// so no vote lands after the decision; and a commit decision checks every vote's version 1 (a vote
// is written once, at version 0), so it commits only the votes the coordinator read.
#include "access.hpp"
#include "contender.hpp"
#include "coroutines.hpp"
#include "path.hpp"
#include "transaction_record.hpp"

#include <zkr/names.hpp>
#include <zkr/session.hpp>
#include <zkr/two_phase_commit.hpp>
#include <zkr/watch.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/system_timer.hpp>

#include <algorithm>
#include <iterator>
#include <optional>
#include <set>

namespace zkr {
namespace detail {

/// What a zkr::two_phase_commit is made of (its impl_).
struct two_phase_commit_impl {
    session_ptr session;
    std::string path;
};

namespace {

namespace asio = boost::asio;
using clock = std::chrono::system_clock;
using outcome_result = std::tuple<error_code, transaction_outcome>;

/// The nodes of one transaction.
struct transaction_paths {
    std::string node;      ///< PATH/<txid>
    std::string decision;  ///< PATH/<txid>/decision
    std::string vote(std::string_view participant) const {
        return join_path(node, std::string(names::vote_prefix).append(participant));
    }
};

transaction_paths paths_of(const two_phase_commit_impl& t, std::string_view id) {
    auto node = join_path(t.path, id);
    auto decision = join_path(node, names::decision_node);
    return {std::move(node), std::move(decision)};
}

/// A transaction as read: what it says, its bytes, and its node's version (0 until decided).
struct stored_transaction {
    transaction tx;
    std::string data;
    int version = 0;
};

asio::awaitable<std::tuple<error_code, stored_transaction>> read_transaction(
    session_ptr s, std::string node, std::string id, std::uint64_t generation) {
    auto [ec, read] = co_await call_retrying<void(error_code, node_data)>(
        s, [&](auto h) { s->get_data(node, std::move(h)); }, generation);
    stored_transaction st;
    if (ec == zk_errc::no_node) {
        ec = make_error_code(errc::unknown_transaction);
    }
    if (!ec) {
        st.tx.id = std::move(id);
        ec = decode_transaction(read.data, st.tx);
        st.data = std::move(read.data);
        st.version = read.stat.version;
    }
    co_return std::tuple{ec, std::move(st)};
}

/// The decision: pending while there is none.
asio::awaitable<outcome_result> read_decision(session_ptr s, std::string decision,
                                              std::uint64_t generation) {
    auto [ec, read] = co_await call_retrying<void(error_code, node_data)>(
        s, [&](auto h) { s->get_data(decision, std::move(h)); }, generation);
    if (ec == zk_errc::no_node) {
        co_return outcome_result{error_code{}, transaction_outcome::pending};
    }
    const auto decided = outcome_of(read.data);
    if (!ec && !decided) {
        ec = make_error_code(errc::not_a_transaction);
    }
    co_return outcome_result{ec, decided.value_or(transaction_outcome::pending)};
}

/// Decides `decided` unless a decision stands: creates the decision node and moves the
/// transaction's version from 0 (no vote lands after it) in one multi, with `checks` (the
/// coordinator's commit: every vote still as read). Completes with the decision that stands:
/// ours, or the one found when refused (another's, or ours after a lost answer, sent again and
/// refused: reading it back is the only way to tell, and either way it is the outcome); pending
/// if there is none (a check failed: the transaction changed, look again).
asio::awaitable<outcome_result> decide(session_ptr s, const transaction_paths& p,
                                       const stored_transaction& st, transaction_outcome decided,
                                       std::vector<op> checks, std::uint64_t generation) {
    checks.push_back(op::set_data(p.node, st.data, 0));
    checks.push_back(op::create(p.decision, std::string(word_of(decided))));
    auto [ec, results] = co_await call_retrying<void(error_code, std::vector<op_result>)>(
        s, [&](auto h) { s->multi(checks, std::move(h)); }, generation);
    if (!ec) {
        co_return outcome_result{error_code{}, decided};
    }
    if (ec != zk_errc::node_exists && ec != zk_errc::bad_version && ec != zk_errc::no_node) {
        co_return outcome_result{ec, transaction_outcome::pending};
    }
    co_return co_await read_decision(s, p.decision, generation);
}

/// The votes not yet seen cast (`cast` remembers those that were: a vote never changes once
/// cast): abort if one says abort, commit if all say commit, or nullopt while some are missing,
/// with a watch on the first one missing.
asio::awaitable<std::tuple<error_code, std::optional<transaction_outcome>, watch>> count_votes(
    session_ptr s, const transaction_paths& p, const transaction& tx, std::vector<bool>& cast,
    std::uint64_t generation) {
    using result = std::tuple<error_code, std::optional<transaction_outcome>, watch>;
    for (;;) {
        std::vector<std::string> missing;
        std::vector<std::size_t> index;
        for (std::size_t i = 0; i < tx.participants.size(); ++i) {
            if (!cast[i]) {
                missing.push_back(p.vote(tx.participants[i]));
                index.push_back(i);
            }
        }
        // One round trip for all of them.
        auto answers = co_await call_all<void(error_code, node_data)>(
            s, missing.size(),
            [&](std::size_t i, auto h) { s->get_data(missing[i], std::move(h)); });
        error_code ec;
        bool abort = false;
        std::optional<std::size_t> first_missing;
        for (std::size_t i = 0; i < answers.size() && !ec; ++i) {
            auto& [read_ec, read] = answers[i];
            ec = read_ec;
            if (ec || read.stat.version == 0) {
                if (!first_missing) {
                    first_missing = i;
                }
                continue;
            }
            const auto vote = outcome_of(read.data);
            if (!vote) {
                ec = make_error_code(errc::not_a_transaction);
            }
            cast[index[i]] = true;
            abort = abort || vote == transaction_outcome::abort;
        }
        if (is_retryable(ec)) {
            if (auto end = co_await wait_connected(s, generation)) {
                co_return result{end, std::nullopt, watch{}};
            }
            continue;
        }
        if (ec == zk_errc::no_node) {
            ec = make_error_code(errc::unknown_transaction);  // removed under us
        }
        if (ec || abort || !first_missing) {
            const auto verdict = abort ? transaction_outcome::abort : transaction_outcome::commit;
            co_return result{ec, ec ? std::nullopt : std::optional(verdict), watch{}};
        }
        auto [watch_ec, read, w] = co_await call_retrying<void(error_code, node_data, watch)>(
            s, [&](auto h) { s->watch_data(missing[*first_missing], std::move(h)); }, generation);
        if (watch_ec == zk_errc::no_node) {
            watch_ec = make_error_code(errc::unknown_transaction);
        }
        if (watch_ec || read.stat.version == 0) {
            co_return result{watch_ec, std::nullopt, std::move(w)};
        }
        // Cast meanwhile: count again (the watch goes).
    }
}

/// Waits until one of `watches` fires (a change, or the connection dropping: the caller looks
/// again) or the deadline passes. Cancellation: operation_aborted; the watches go with it.
asio::awaitable<error_code> wake_on(session_ptr s, std::vector<watch> watches,
                                    clock::time_point deadline) {
    auto timer = std::make_shared<asio::system_timer>(s->strand(), deadline);
    for (auto& w : watches) {
        if (w.armed()) {
            w.async_wait(asio::bind_executor(
                s->strand(), [timer](error_code, const watch_event&) { timer->cancel(); }));
        }
    }
    co_await timer->async_wait(use_tuple);
    if (co_await cancellation_requested()) {
        co_return asio::error::operation_aborted;
    }
    co_return error_code{};
}

/// async_decide (`coordinator`) and async_wait_decision: the loop until a decision stands.
asio::awaitable<outcome_result> settle(std::shared_ptr<const two_phase_commit_impl> t,
                                       std::string id, bool coordinator) {
    const auto s = t->session;
    const auto generation = s->generation();
    const auto p = paths_of(*t, id);
    const auto pending = transaction_outcome::pending;
    auto [ec, st] = co_await read_transaction(s, p.node, id, generation);
    std::vector<bool> cast(st.tx.participants.size(), false);
    while (!ec) {
        auto [exists_ec, exists, decision_watch] =
            co_await call_retrying<void(error_code, std::optional<stat>, watch)>(
                s, [&](auto h) { s->watch_exists(p.decision, std::move(h)); }, generation);
        if (co_await cancellation_requested()) {
            co_return outcome_result{asio::error::operation_aborted, pending};
        }
        if (exists_ec || exists) {
            auto [read_ec, found] = exists_ec ? outcome_result{exists_ec, pending}
                                              : co_await read_decision(s, p.decision, generation);
            if (read_ec || found != pending) {
                co_return outcome_result{read_ec, found};
            }
            continue;  // removed since: the transaction is read again below, or gone
        }
        std::vector<watch> watches;
        watches.push_back(std::move(decision_watch));
        std::optional<transaction_outcome> verdict;
        if (coordinator) {
            auto [votes_ec, counted, vote_watch] =
                co_await count_votes(s, p, st.tx, cast, generation);
            if (co_await cancellation_requested()) {
                co_return outcome_result{asio::error::operation_aborted, pending};
            }
            if (votes_ec) {
                co_return outcome_result{votes_ec, pending};
            }
            verdict = counted;
            watches.push_back(std::move(vote_watch));
        }
        if (!verdict && clock::now() >= st.tx.deadline) {
            verdict = transaction_outcome::abort;  // too late for the votes still missing
        }
        if (!verdict) {
            if (auto wait_ec = co_await wake_on(s, std::move(watches), st.tx.deadline)) {
                co_return outcome_result{wait_ec, pending};
            }
            continue;
        }
        std::vector<op> checks;
        if (*verdict == transaction_outcome::commit) {
            for (const auto& name : st.tx.participants) {
                checks.push_back(op::check(p.vote(name), 1));
            }
        }
        auto [decide_ec, decided] =
            co_await decide(s, p, st, *verdict, std::move(checks), generation);
        if (decide_ec || decided != pending) {
            co_return outcome_result{decide_ec, decided};
        }
        // Refused, and no decision stands: the transaction changed under us (removed?).
        std::tie(ec, st) = co_await read_transaction(s, p.node, id, generation);
        if (!ec && st.version != 0) {
            ec = make_error_code(errc::not_a_transaction);  // moved on without a decision
        }
    }
    co_return outcome_result{ec, pending};
}

asio::awaitable<std::tuple<error_code, std::string>> propose(
    std::shared_ptr<const two_phase_commit_impl> t, transaction tx) {
    // Not cancellable: once sent, the caller must learn whether the transaction exists.
    co_await asio::this_coro::reset_cancellation_state(asio::disable_cancellation());
    const auto s = t->session;
    const auto generation = s->generation();
    const auto p = paths_of(*t, tx.id);
    const auto data = encode_transaction(tx);
    std::vector<op> ops{op::create(p.node, data)};
    for (const auto& name : tx.participants) {
        ops.push_back(op::create(p.vote(name), {}));
    }
    for (;;) {
        auto [ec, results] = co_await call_retrying<void(error_code, std::vector<op_result>)>(
            s, [&](auto h) { s->multi(ops, std::move(h)); }, generation);
        if (ec == zk_errc::no_node) {
            if (auto parents_ec = co_await ensure_path(s, t->path)) {
                co_return std::tuple{parents_ec, std::string()};
            }
            continue;
        }
        if (ec == zk_errc::node_exists) {
            // Ours after a lost answer (the same bytes, to the millisecond of the deadline), or
            // another proposal's.
            auto [read_ec, read] = co_await call_retrying<void(error_code, node_data)>(
                s, [&](auto h) { s->get_data(p.node, std::move(h)); }, generation);
            if (read_ec == zk_errc::no_node) {
                continue;  // removed meanwhile: again
            }
            ec = read_ec             ? read_ec
                 : read.data == data ? error_code{}
                                     : make_error_code(errc::transaction_exists);
        }
        co_return std::tuple{ec, ec ? std::string() : tx.id};
    }
}

/// The oldest of `kids` (transactions under the path) that names `participant`, has no vote of
/// it and is not decided; nullopt if none. `passed`: the kids found otherwise, which stay so.
asio::awaitable<std::tuple<error_code, std::optional<transaction>>> find_proposal(
    session_ptr s, const two_phase_commit_impl& t, const std::string& participant,
    const children& kids, std::set<std::string>& passed, std::uint64_t generation) {
    using result = std::tuple<error_code, std::optional<transaction>>;
    std::vector<std::string> fresh;
    std::copy_if(kids.names.begin(), kids.names.end(), std::back_inserter(fresh),
                 [&](const std::string& kid) { return !passed.contains(kid); });
    for (;;) {
        auto answers = co_await call_all<void(error_code, node_data)>(
            s, fresh.size(), [&](std::size_t i, auto h) {
                s->get_data(paths_of(t, fresh[i]).vote(participant), std::move(h));
            });
        error_code ec;
        std::vector<std::pair<std::int64_t, std::string>> unvoted;  // by creation
        for (std::size_t i = 0; i < answers.size() && !ec; ++i) {
            const auto& [read_ec, read] = answers[i];
            if (!read_ec && read.stat.version == 0) {
                unvoted.emplace_back(read.stat.czxid, fresh[i]);
            } else if (!read_ec || read_ec == zk_errc::no_node) {
                passed.insert(fresh[i]);  // voted, or not ours
            } else {
                ec = read_ec;
            }
        }
        if (is_retryable(ec)) {
            if (auto end = co_await wait_connected(s, generation)) {
                co_return result{end, std::nullopt};
            }
            continue;
        }
        if (ec) {
            co_return result{ec, std::nullopt};
        }
        std::sort(unvoted.begin(), unvoted.end());
        for (auto& [czxid, id] : unvoted) {
            auto [read_ec, st] = co_await read_transaction(s, paths_of(t, id).node, id, generation);
            const bool ours = !read_ec && st.version == 0 &&
                              std::ranges::count(st.tx.participants, participant) != 0;
            if (ours) {
                co_return result{error_code{}, std::move(st.tx)};
            }
            if (read_ec && read_ec != errc::unknown_transaction &&
                read_ec != errc::not_a_transaction) {
                co_return result{read_ec, std::nullopt};
            }
            passed.insert(id);  // decided, removed, or not a transaction
        }
        co_return result{error_code{}, std::nullopt};
    }
}

asio::awaitable<std::tuple<error_code, transaction>> wait_proposal(
    std::shared_ptr<const two_phase_commit_impl> t, std::string participant) {
    using result = std::tuple<error_code, transaction>;
    const auto s = t->session;
    const auto generation = s->generation();
    std::set<std::string> passed;
    for (;;) {
        auto [ec, kids, w] = co_await call_retrying<void(error_code, children, watch)>(
            s, [&](auto h) { s->watch_children(t->path, std::move(h)); }, generation);
        if (co_await cancellation_requested()) {
            co_return result{asio::error::operation_aborted, transaction{}};
        }
        if (ec == zk_errc::no_node) {
            // No transaction yet, nor the path: its creation, then.
            auto [exists_ec, st, created] =
                co_await call_retrying<void(error_code, std::optional<stat>, watch)>(
                    s, [&](auto h) { s->watch_exists(t->path, std::move(h)); }, generation);
            if (co_await cancellation_requested()) {
                co_return result{asio::error::operation_aborted, transaction{}};
            }
            if (exists_ec || st) {
                if (exists_ec) {
                    co_return result{exists_ec, transaction{}};
                }
                continue;  // created meanwhile: list it
            }
            w = std::move(created);
        } else if (ec) {
            co_return result{ec, transaction{}};
        } else {
            auto [find_ec, found] =
                co_await find_proposal(s, *t, participant, kids, passed, generation);
            if (co_await cancellation_requested()) {
                co_return result{asio::error::operation_aborted, transaction{}};
            }
            if (find_ec || found) {
                co_return result{find_ec, found ? std::move(*found) : transaction{}};
            }
        }
        auto [wait_ec, event] = co_await w.async_wait(use_tuple);
        if (wait_ec == asio::error::operation_aborted || is_session_lost(wait_ec)) {
            co_return result{wait_ec, transaction{}};
        }
        // A transaction came or went, or the connection dropped: look again.
    }
}

asio::awaitable<std::tuple<error_code>> cast_vote(std::shared_ptr<const two_phase_commit_impl> t,
                                                  std::string id, std::string participant,
                                                  transaction_vote vote) {
    const auto s = t->session;
    const auto generation = s->generation();
    const auto p = paths_of(*t, id);
    auto [ec, st] = co_await read_transaction(s, p.node, id, generation);
    if (ec) {
        co_return ec;
    }
    if (std::ranges::count(st.tx.participants, participant) == 0) {
        co_return make_error_code(errc::unknown_participant);
    }
    const auto vote_path = p.vote(participant);
    const std::string word(word_of(vote));
    if (st.version == 0) {
        // Only while undecided (the transaction at version 0); an abort decides at once.
        std::vector<op> ops;
        if (vote == transaction_vote::commit) {
            ops = {op::check(p.node, 0), op::set_data(vote_path, word, 0)};
        } else {
            ops = {op::set_data(p.node, st.data, 0), op::set_data(vote_path, word, 0),
                   op::create(p.decision, std::string(names::abort_word))};
        }
        auto [multi_ec, results] = co_await call_retrying<void(error_code, std::vector<op_result>)>(
            s, [&](auto h) { s->multi(ops, std::move(h)); }, generation);
        if (!multi_ec || (multi_ec != zk_errc::bad_version && multi_ec != zk_errc::node_exists &&
                          multi_ec != zk_errc::no_node)) {
            co_return multi_ec;
        }
    }
    // Refused, or decided already: is our vote there (this one after a lost answer, or the same
    // one cast before)?
    auto [read_ec, read] = co_await call_retrying<void(error_code, node_data)>(
        s, [&](auto h) { s->get_data(vote_path, std::move(h)); }, generation);
    if (read_ec) {
        co_return read_ec == zk_errc::no_node ? make_error_code(errc::unknown_transaction)
                                              : read_ec;
    }
    if (read.stat.version == 0) {
        co_return make_error_code(errc::already_decided);
    }
    if (read.data == word) {
        co_return error_code{};
    }
    co_return make_error_code(outcome_of(read.data) ? errc::already_voted
                                                    : errc::not_a_transaction);
}

asio::awaitable<std::tuple<error_code, transaction>> read_proposal(
    std::shared_ptr<const two_phase_commit_impl> t, std::string id) {
    auto [ec, st] =
        co_await read_transaction(t->session, paths_of(*t, id).node, id, t->session->generation());
    co_return std::tuple{ec, std::move(st.tx)};
}

asio::awaitable<outcome_result> read_outcome(std::shared_ptr<const two_phase_commit_impl> t,
                                             std::string id) {
    const auto s = t->session;
    const auto generation = s->generation();
    const auto p = paths_of(*t, id);
    auto [ec, st] = co_await read_transaction(s, p.node, id, generation);
    if (ec) {
        co_return outcome_result{ec, transaction_outcome::pending};
    }
    co_return co_await read_decision(s, p.decision, generation);
}

asio::awaitable<std::tuple<error_code>> remove_transaction(
    std::shared_ptr<const two_phase_commit_impl> t, std::string id) {
    const auto s = t->session;
    const auto generation = s->generation();
    const auto p = paths_of(*t, id);
    for (;;) {
        auto [ec, st] = co_await read_transaction(s, p.node, id, generation);
        if (ec) {
            co_return ec == errc::unknown_transaction ? error_code{} : ec;  // gone already
        }
        auto [decision_ec, decided] = co_await read_decision(s, p.decision, generation);
        if (decision_ec || decided == transaction_outcome::pending) {
            co_return decision_ec ? decision_ec : make_error_code(errc::not_decided);
        }
        std::vector<op> ops;
        for (const auto& name : st.tx.participants) {
            ops.push_back(op::remove(p.vote(name)));
        }
        ops.push_back(op::remove(p.decision));
        ops.push_back(op::remove(p.node));
        auto [remove_ec, results] =
            co_await call_retrying<void(error_code, std::vector<op_result>)>(
                s, [&](auto h) { s->multi(ops, std::move(h)); }, generation);
        if (remove_ec != zk_errc::no_node) {
            co_return remove_ec;
        }
        // A node of it gone: removed after a lost answer (read again: gone), or by someone else.
    }
}

/// Starts an operation on transaction `id`: invalid_path (nothing sent) unless the path, the id
/// and `participant` (when given) make valid paths.
template <class Body, class... Values>
void start(const std::shared_ptr<const two_phase_commit_impl>& t, std::string_view id,
           const std::optional<std::string>& participant, Body body,
           handler<void(error_code, Values...)> h) {
    const auto p = paths_of(*t, id);
    const bool valid = !validate_path(t->path) && t->path != "/" && is_node_name(id) &&
                       !validate_path(p.decision) &&
                       (!participant || (!check_participants({*participant}) &&
                                         !validate_path(p.vote(*participant))));
    if (!valid) {
        fail(std::move(h), t->session->completions(), make_error_code(errc::invalid_path));
        return;
    }
    spawn(t->session, body(), std::move(h));
}

}  // namespace
}  // namespace detail

two_phase_commit::two_phase_commit(session& s, std::string path)
    : two_phase_commit(detail::access::seam(s), std::move(path)) {}

two_phase_commit::two_phase_commit(std::shared_ptr<detail::session_seam> s, std::string path)
    : impl_(std::make_shared<const detail::two_phase_commit_impl>(
          detail::two_phase_commit_impl{std::move(s), std::move(path)})) {}

two_phase_commit::two_phase_commit(two_phase_commit&&) noexcept = default;
two_phase_commit& two_phase_commit::operator=(two_phase_commit&&) noexcept = default;
two_phase_commit::~two_phase_commit() = default;

const std::string& two_phase_commit::path() const noexcept {
    return detail::access::path_of(*this);
}

void two_phase_commit::initiate_propose(const impl_ptr& t, std::string id, std::string proposal,
                                        std::vector<std::string> participants,
                                        std::chrono::milliseconds timeout,
                                        detail::handler<void(error_code, std::string)> h) {
    if (id.empty()) {
        id = "tx-" + detail::make_uuid();
    }
    error_code refused = detail::check_participants(participants);
    if (!refused && timeout <= std::chrono::milliseconds::zero()) {
        refused = make_error_code(errc::invalid_argument);
    }
    if (refused) {
        detail::fail(std::move(h), t->session->completions(), refused);
        return;
    }
    const auto deadline = std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now() + timeout);
    transaction tx{id, std::move(proposal), std::move(participants), deadline};
    detail::start(
        t, id, std::nullopt,
        [t, tx = std::move(tx)]() mutable { return detail::propose(t, std::move(tx)); },
        std::move(h));
}

void two_phase_commit::initiate_decide(const impl_ptr& t, std::string id, bool coordinator,
                                       detail::handler<void(error_code, transaction_outcome)> h) {
    detail::start(
        t, id, std::nullopt, [t, id, coordinator] { return detail::settle(t, id, coordinator); },
        std::move(h));
}

void two_phase_commit::initiate_wait_proposal(const impl_ptr& t, std::string participant,
                                              detail::handler<void(error_code, transaction)> h) {
    // Checked as a participant of a transaction with a name as long as the generated ones.
    detail::start(
        t, "tx-" + detail::make_uuid(), participant,
        [t, participant] { return detail::wait_proposal(t, participant); }, std::move(h));
}

void two_phase_commit::initiate_vote(const impl_ptr& t, std::string id, std::string participant,
                                     transaction_vote vote, detail::handler<void(error_code)> h) {
    detail::start(
        t, id, participant,
        [t, id, participant, vote] { return detail::cast_vote(t, id, participant, vote); },
        std::move(h));
}

void two_phase_commit::initiate_read(const impl_ptr& t, std::string id,
                                     detail::handler<void(error_code, transaction)> h) {
    detail::start(
        t, id, std::nullopt, [t, id] { return detail::read_proposal(t, id); }, std::move(h));
}

void two_phase_commit::initiate_outcome(const impl_ptr& t, std::string id,
                                        detail::handler<void(error_code, transaction_outcome)> h) {
    detail::start(
        t, id, std::nullopt, [t, id] { return detail::read_outcome(t, id); }, std::move(h));
}

void two_phase_commit::initiate_remove(const impl_ptr& t, std::string id,
                                       detail::handler<void(error_code)> h) {
    detail::start(
        t, id, std::nullopt, [t, id] { return detail::remove_transaction(t, id); }, std::move(h));
}

}  // namespace zkr
