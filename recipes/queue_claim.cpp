// Exactly-once consumption: zkr::queue::async_claim and the zkr::queue_claim it hands over
// (<zkr/queue.hpp>, docs/queues.md). A claim is an ephemeral node named as the item in the
// claims' directory (Curator's DistributedQueue lock safety), and the completion a transaction
// that checks it.
#include "path.hpp"
#include "work_queue.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/system_executor.hpp>

#include <atomic>

namespace zkr {
namespace detail {

/// What a zkr::queue_claim holds.
struct queue_claim_state {
    session_ptr session;
    queue_item item;
    std::string path;       ///< the claim's node
    std::string item_path;  ///< the item's node
    std::int64_t token = 0;
    std::uint64_t generation = 0;  ///< the ZooKeeper session the claim was made in
    std::atomic<bool> finished{false};

    /// True while completing or releasing may still be tried: neither done yet, and the
    /// ZooKeeper session the claim was made in still there.
    bool live() const noexcept { return !finished.load() && !ended_since(*session, generation); }
};

namespace {

namespace asio = boost::asio;

/// Deletes our claim while the ZooKeeper session it was made in lasts. Once that session has
/// ended, the claim went with it, and a node of that name is another consumer's claim.
asio::awaitable<error_code> remove_claim(session_ptr s, std::string path,
                                         std::uint64_t generation) {
    co_await forget_cancellation();
    for (;;) {
        if (ended_since(*s, generation)) {
            co_return error_code{};
        }
        auto [ec] =
            co_await call<void(error_code)>([&](auto h) { s->remove(path, -1, std::move(h)); });
        if (!ec || ec == zk_errc::no_node || is_session_lost(ec)) {
            co_return error_code{};
        }
        if (!is_retryable(ec)) {
            co_return ec;
        }
        if (auto wait_ec = co_await wait_connected(s, generation)) {
            co_return is_session_lost(wait_ec) ? error_code{} : wait_ec;
        }
    }
}

/// Creates our claim on `item`: its czxid, or 0 when someone else claims it. A create whose
/// answer was lost is found out by the claim's owner; a cancellation that comes while waiting
/// for the connection is put off until then (the claim it may have made is deleted) and
/// reported as operation_aborted.
asio::awaitable<std::tuple<error_code, std::int64_t>> make_claim(const queue_impl& q,
                                                                 const std::string& item,
                                                                 std::uint64_t generation) {
    const auto& s = q.session;
    const auto path = q.claim_path(item);
    for (;;) {
        auto [ec, created] = co_await call<void(error_code, created_node)>(
            [&](auto h) { s->create(path, {}, create_mode::ephemeral, std::move(h)); });
        if (!ec) {
            co_return std::tuple{error_code{}, created.stat.czxid};
        }
        if (ec == zk_errc::node_exists) {
            co_return std::tuple{error_code{}, std::int64_t{0}};
        }
        if (ec == zk_errc::no_node) {
            if (auto parents_ec = co_await ensure_path(s, q.claims_dir)) {
                co_return std::tuple{parents_ec, std::int64_t{0}};
            }
            continue;
        }
        if (!is_retryable(ec)) {
            co_return std::tuple{ec, std::int64_t{0}};
        }
        bool cancelled = false;
        auto end = co_await wait_connected(s, generation);
        if (end == asio::error::operation_aborted) {
            cancelled = true;
            co_await forget_cancellation();
            end = co_await wait_connected(s, generation);
        }
        if (end) {
            co_return std::tuple{end, std::int64_t{0}};
        }
        auto [exists_ec, st] = co_await call_retrying<void(error_code, std::optional<stat>)>(
            s, [&](auto h) { s->exists(path, std::move(h)); }, generation);
        if (exists_ec) {
            co_return std::tuple{exists_ec, std::int64_t{0}};
        }
        const bool ours = st && st->ephemeral_owner == s->session_id();
        if (cancelled) {
            if (ours) {
                co_await remove_claim(s, path, generation);
            }
            co_return std::tuple{make_error_code(asio::error::operation_aborted), std::int64_t{0}};
        }
        if (st) {
            co_return std::tuple{error_code{}, ours ? st->czxid : std::int64_t{0}};
        }
        // Not there: it never arrived. Sent again.
    }
}

/// Claims `item` unless someone else does: nullopt then, or when the item is gone.
asio::awaitable<std::tuple<error_code, std::optional<queue_claim>>> claim_item(
    std::shared_ptr<const queue_impl> q, std::string item, std::uint64_t generation) {
    const auto& s = q->session;
    const auto none = [](error_code ec) { return std::tuple{ec, std::optional<queue_claim>{}}; };
    auto [ec, token] = co_await make_claim(*q, item, generation);
    if (ec || token == 0) {
        co_return none(ec);
    }
    // The claim is ours: on every way out but handing it over, it is deleted.
    const auto claim = q->claim_path(item);
    std::optional<queue_item> got;
    if (!co_await cancellation_requested()) {
        std::tie(ec, got) = co_await read_item(*q, item, generation);
        if (got && !co_await cancellation_requested()) {
            auto state = std::make_shared<queue_claim_state>();
            state->session = s;
            state->item = std::move(*got);
            state->path = claim;
            state->item_path = q->item_path(item);
            state->token = token;
            state->generation = generation;
            co_return std::tuple{error_code{}, std::optional<queue_claim>(std::move(state))};
        }
    }
    const bool cancelled = co_await cancellation_requested();
    if (cancelled) {
        co_await forget_cancellation();
    }
    co_await remove_claim(s, claim, generation);  // cancelled, or the item gone: it goes too
    co_return none(cancelled ? make_error_code(asio::error::operation_aborted) : ec);
}

/// The results of the caller's ops in a completion's results (after the claim's three).
constexpr std::size_t claim_ops = 3;

std::vector<op_result> callers_results(std::vector<op_result> results) {
    results.erase(results.begin(), results.begin() + static_cast<std::ptrdiff_t>(
                                                         std::min(claim_ops, results.size())));
    return results;
}

/// A completion whose answer was lost, in a session that has ended since (the claim went with
/// it). The item still there, the transaction never landed: it would have deleted the item, whose
/// name is never used again; refused. The item gone, it landed, or another consumer claimed and
/// completed the item since: in doubt. Read in the renewed session; without one, in doubt.
asio::awaitable<std::tuple<error_code, std::vector<op_result>>> settle_after_session_end(
    queue_claim_state& c) {
    c.finished = true;
    auto outcome = [](errc e) { return std::tuple{make_error_code(e), std::vector<op_result>{}}; };
    for (;;) {
        if (co_await wait_connected(c.session)) {
            co_return outcome(errc::outcome_unknown);  // no next session to read in
        }
        auto [ec, item] = co_await call<void(error_code, std::optional<stat>)>(
            [&](auto h) { c.session->exists(c.item_path, std::move(h)); });
        if (!ec) {
            co_return outcome(item ? errc::claim_lost : errc::outcome_unknown);
        }
        if (!is_retryable(ec)) {
            co_return outcome(errc::outcome_unknown);
        }
    }
}

asio::awaitable<std::tuple<error_code, std::vector<op_result>>> complete(
    std::shared_ptr<queue_claim_state> c, std::vector<op> extra) {
    const auto& s = c->session;
    std::vector<op> ops{op::check(c->path), op::remove(c->item_path), op::remove(c->path)};
    ops.insert(ops.end(), extra.begin(), extra.end());
    const auto lost = [&] {
        c->finished = true;
        return std::tuple{make_error_code(errc::claim_lost), std::vector<op_result>{}};
    };
    for (;;) {
        auto [ec, results] = co_await call<void(error_code, std::vector<op_result>)>(
            [&](auto h) { s->multi(ops, std::move(h)); });
        if (!ec) {
            c->finished = true;
            co_return std::tuple{ec, callers_results(std::move(results))};
        }
        if (!results.empty() && results[0].ec == zk_errc::no_node) {
            co_return lost();  // refused by the server: the claim is gone
        }
        if (ec == zk_errc::session_expired) {
            // The C client fails with this only what it had not sent: the session ended before
            // the transaction could land, and the claim with it.
            co_return lost();
        }
        if (!is_retryable(ec)) {
            co_return std::tuple{ec, callers_results(std::move(results))};
        }
        if (auto end = co_await wait_connected(s, c->generation)) {
            if (end == zk_errc::session_expired) {
                co_return co_await settle_after_session_end(*c);
            }
            co_return std::tuple{end, std::vector<op_result>{}};
        }
        // The answer was lost. The transaction deletes the item and the claim together: both
        // still there, it never arrived (sent again); the item gone, it was applied (the claim
        // kept anyone else from it); only the claim gone, it was lost (deleted by another).
        auto answers = co_await call_all<void(error_code, std::optional<stat>)>(
            s, 2, [&](std::size_t i, auto h) {
                s->exists(i == 0 ? c->item_path : c->path, std::move(h));
            });
        const auto& [item_ec, item_stat] = answers[0];
        const auto& [claim_ec, claim_stat] = answers[1];
        if (item_ec || claim_ec) {
            const auto read_ec = item_ec ? item_ec : claim_ec;
            if (!is_retryable(read_ec)) {
                co_return std::tuple{read_ec, std::vector<op_result>{}};
            }
            continue;  // the connection dropped again: everything again
        }
        if (!item_stat) {
            c->finished = true;
            std::vector<op_result> applied(extra.size());
            for (std::size_t i = 0; i < extra.size(); ++i) {
                applied[i].path = extra[i].path;
            }
            co_return std::tuple{error_code{}, std::move(applied)};
        }
        if (!claim_stat) {
            co_return lost();
        }
    }
}

asio::awaitable<std::tuple<error_code>> release(std::shared_ptr<queue_claim_state> c) {
    co_return std::tuple{co_await remove_claim(c->session, c->path, c->generation)};
}

}  // namespace
}  // namespace detail

void queue::initiate_claim(const impl_ptr& q, detail::handler<void(error_code, queue_claim)> h) {
    detail::start_queue(
        q,
        [q] {
            return detail::first_item<queue_claim>(
                *q, [q](const std::string& item, std::uint64_t generation) {
                    return detail::claim_item(q, item, generation);
                });
        },
        std::move(h));
}

queue_claim::queue_claim() noexcept = default;
queue_claim::queue_claim(std::shared_ptr<detail::queue_claim_state> state) noexcept
    : state_(std::move(state)) {}
queue_claim::queue_claim(queue_claim&&) noexcept = default;

queue_claim& queue_claim::operator=(queue_claim&& other) noexcept {
    if (this != &other) {
        queue_claim dropped(std::move(*this));
        state_ = std::move(other.state_);
    }
    return *this;
}

queue_claim::~queue_claim() {
    if (state_ && state_->live() && !state_->finished.exchange(true)) {
        // Without waiting: the item goes back to the queue once the claim is deleted.
        boost::asio::co_spawn(
            state_->session->strand(),
            detail::remove_claim(state_->session, state_->path, state_->generation),
            boost::asio::detached);
    }
}

bool queue_claim::owns() const noexcept {
    return state_ && state_->live();
}

const queue_item& queue_claim::item() const noexcept {
    static const queue_item none;
    return state_ ? state_->item : none;
}

const std::string& queue_claim::path() const noexcept {
    static const std::string none;
    return state_ ? state_->path : none;
}

std::int64_t queue_claim::fencing_token() const noexcept {
    return state_ ? state_->token : 0;
}

void queue_claim::initiate_complete(const state_ptr& c, std::vector<op> ops,
                                    detail::handler<void(error_code, std::vector<op_result>)> h) {
    if (!c) {
        detail::fail(std::move(h), boost::asio::system_executor(),
                     make_error_code(errc::not_owner));
        return;
    }
    // A claim made in an earlier ZooKeeper session is gone with it, even where a renewed session
    // could still write: refused here, whatever the server would say.
    if (!c->live()) {
        detail::fail(std::move(h), c->session->completions(), make_error_code(errc::claim_lost));
        return;
    }
    if (auto ec = detail::validate_ops(ops)) {
        detail::fail(std::move(h), c->session->completions(), ec);
        return;
    }
    detail::spawn(c->session, detail::complete(c, std::move(ops)), std::move(h));
}

void queue_claim::initiate_release(const state_ptr& c, detail::handler<void(error_code)> h) {
    if (!c) {
        detail::fail(std::move(h), boost::asio::system_executor(),
                     make_error_code(errc::not_owner));
        return;
    }
    if (!c->live() || c->finished.exchange(true)) {
        detail::fail(std::move(h), c->session->completions(), make_error_code(errc::claim_lost));
        return;
    }
    detail::spawn(c->session, detail::release(c), std::move(h));
}

}  // namespace zkr
