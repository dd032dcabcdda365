// Leader election: the lock queue with Curator's "-latch-" nodes, plus reading the queue for the
// current leader, the participants, and an observer that follows changes of leader and of what
// the leader publishes (publish.cpp).
#include "access.hpp"
#include "lock_acquire.hpp"
#include "log.hpp"
#include "path.hpp"
#include "queue_reader.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/session.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

namespace zkr {
namespace detail {

namespace asio = boost::asio;

namespace {

constexpr const char* channel = log::channels::election;

acquire_request campaign_request(const session_ptr& s, const std::string& path,
                                 const std::string& id) {
    acquire_request req{
        s,
        std::make_shared<const queue_spec>(queue_spec{path, std::string(names::latch_marker), id}),
        false};
    req.channel = channel;
    req.verify_owner = true;
    return req;
}

asio::awaitable<std::tuple<error_code, std::optional<leader_info>>> current_leader(
    session_ptr s, std::string path) {
    auto [ec, queue] = co_await read_queue(s, path, queue_detail::head);
    if (ec || queue.empty()) {
        co_return std::make_tuple(ec, std::optional<leader_info>{});
    }
    co_return std::make_tuple(error_code{}, std::optional<leader_info>{leader_info{
                                                std::move(queue[0].data), queue[0].node,
                                                queue[0].czxid, queue[0].data_version}});
}

/// After `why` ended a campaign or a leadership: true once a renewed session (one that renews
/// after expiry) is connected in its next generation, where the campaign may start again.
asio::awaitable<bool> renewed_after(session_ptr s, error_code why) {
    if (why != zk_errc::session_expired) {
        co_return false;
    }
    // A renewing session begins its next generation in the step that ends the last one: it is
    // not expired any more by the time anyone hears of the expiry. One that stays expired is.
    while (!s->final_error()) {
        const auto ec = co_await wait_connected(s);
        if (!ec) {
            co_return true;
        }
        if (ec != zk_errc::session_expired) {
            co_return false;  // cancelled
        }
    }
    co_return false;
}

/// Runs `work` while leading; see leader_election::async_lead.
asio::awaitable<std::tuple<error_code>> lead(session_ptr s, std::string path, std::string id,
                                             election_options options,
                                             leader_election::work_function work) {
    using namespace asio::experimental::awaitable_operators;
    for (;;) {
        auto [ec, l] = co_await call<void(error_code, zkr::lock)>([&](auto h) {
            acquire_lock(campaign_request(s, path, id), options.on_loss, std::move(h));
        });
        if (ec) {
            if (options.requeue && co_await renewed_after(s, ec)) {
                ZKR_LOG(info, channel,
                        id << " campaigns again for " << path << " in the renewed session");
                continue;
            }
            co_return std::make_tuple(ec);
        }
        ZKR_LOG(info, channel, id << " leads " << path << " (token " << l.fencing_token() << ")");
        // The work must not hide the loss: an exception ends it like a return does.
        auto guarded = [&]() -> asio::awaitable<std::exception_ptr> {
            try {
                co_await work();
            } catch (...) {
                co_return std::current_exception();
            }
            co_return nullptr;
        };
        auto outcome = co_await (guarded() || l.async_wait_lost(use_tuple));
        if (outcome.index() == 0) {
            const bool failed = std::get<0>(outcome) != nullptr;
            co_await l.async_release(use_tuple);
            if (co_await cancellation_requested()) {
                co_return std::make_tuple(make_error_code(asio::error::operation_aborted));
            }
            co_return std::make_tuple(failed ? make_error_code(errc::invalid_argument)
                                             : error_code{});
        }
        const auto [lost] = std::get<1>(outcome);
        ZKR_LOG(warning, channel, id << " lost leadership of " << path << ": " << lost.message());
        if (!options.requeue || co_await cancellation_requested()) {
            co_return std::make_tuple(lost);
        }
        if (is_session_lost(lost) && !co_await renewed_after(s, lost)) {
            co_return std::make_tuple(lost);
        }
    }
}

}  // namespace

/// What a zkr::leader_election is made of (its impl_).
struct election_impl {
    session_ptr session;
    std::string path;  ///< the election's directory
    std::string id;    ///< our participant id: our node's data
    election_options options;
};

/// What an observer has reported so far.
struct observer_state {
    session_ptr session;
    std::string path;
    bool reported = false;
    std::optional<leader_info> last;
};

namespace {

/// Whether `a` and `b` are the same leader (`with_data`: with the same published value).
bool same_leader(const std::optional<leader_info>& a, const std::optional<leader_info>& b,
                 bool with_data) {
    if (a.has_value() != b.has_value()) {
        return false;
    }
    return !a || (a->node == b->node && (!with_data || a->data_version == b->data_version));
}

/// Waits for a leader different from the last reported one (`with_data`: or a new value of it),
/// watching one node at a time: the head of the queue, whose data watch fires on a publication
/// as on its deletion, or the directory while it has no contender.
asio::awaitable<std::tuple<error_code, std::optional<leader_info>>> next_leader(
    std::shared_ptr<observer_state> o, bool with_data) {
    auto& s = o->session;
    for (;;) {
        if (co_await cancellation_requested()) {
            co_return std::make_tuple(make_error_code(asio::error::operation_aborted),
                                      std::optional<leader_info>{});
        }
        auto [ec, now] = co_await retrying(s, [&] { return current_leader(s, o->path); });
        if (ec) {
            co_return std::make_tuple(ec, std::optional<leader_info>{});
        }
        if (!o->reported || !same_leader(o->last, now, with_data)) {
            o->reported = true;
            o->last = now;
            co_return std::make_tuple(error_code{}, std::move(now));
        }
        zkr::watch w;
        error_code watch_ec;
        if (now) {
            // A named local, not an init-capture: g++ 12 destroys a lambda's init-captures twice
            // when the lambda is a temporary of a co_await expression.
            const auto head = join_path(o->path, now->node);
            auto [wec, data, watch] = co_await call<void(error_code, node_data, zkr::watch)>(
                [&](auto h) { s->watch_data(head, std::move(h)); });
            watch_ec = wec == zk_errc::no_node ? error_code{} : wec;
            // Published again between the read and the watch: look again (the watch is dropped).
            if (!wec && with_data && data.stat.version != now->data_version) {
                continue;
            }
            w = std::move(watch);
        } else {
            // Nobody leads: the first contender to appear changes that. If the directory does
            // not exist yet, wait for it first.
            auto [wec, kids, watch] = co_await call<void(error_code, children, zkr::watch)>(
                [&](auto h) { s->watch_children(o->path, std::move(h)); });
            if (wec == zk_errc::no_node) {
                auto [eec, st, ewatch] =
                    co_await call<void(error_code, std::optional<stat>, zkr::watch)>(
                        [&](auto h) { s->watch_exists(o->path, std::move(h)); });
                wec = eec;
                w = std::move(ewatch);
            } else {
                w = std::move(watch);
            }
            watch_ec = wec;
        }
        if (is_retryable(watch_ec)) {
            continue;
        }
        if (watch_ec) {
            co_return std::make_tuple(watch_ec, std::optional<leader_info>{});
        }
        if (!w.armed() || co_await cancellation_requested()) {
            continue;  // gone before we could watch it, or cancelled: look again
        }
        auto [wait_ec, event] = co_await w.async_wait(use_tuple);
        if (wait_ec && wait_ec != asio::error::operation_aborted) {
            co_return std::make_tuple(wait_ec, std::optional<leader_info>{});
        }
    }
}

}  // namespace
}  // namespace detail

leader_election::leader_election(session& s, std::string path, std::string participant_id,
                                 election_options options)
    : leader_election(detail::access::seam(s), std::move(path), std::move(participant_id),
                      options) {}

leader_election::leader_election(std::shared_ptr<detail::session_seam> s, std::string path,
                                 std::string participant_id, election_options options)
    : impl_(std::make_shared<const detail::election_impl>(detail::election_impl{
          std::move(s), std::move(path), std::move(participant_id), options})) {}

const std::string& leader_election::path() const noexcept {
    return detail::access::path_of(*this);
}

const std::string& leader_election::id() const noexcept {
    static const std::string none;
    return impl_ ? impl_->id : none;  // moved from
}

namespace {

/// A lock of the election's queue, handed over as leadership.
auto as_leadership(const detail::session_ptr& s, detail::handler<void(error_code, leadership)> h) {
    return detail::adapt<void(error_code, lock)>(std::move(h), s->completions(),
                                                 [](auto& pending, error_code ec, lock l) {
                                                     pending.complete(ec, leadership(std::move(l)));
                                                 });
}

}  // namespace

void leader_election::initiate_campaign(const impl_ptr& e,
                                        detail::handler<void(error_code, leadership)> h) {
    detail::acquire_lock(detail::campaign_request(e->session, e->path, e->id), e->options.on_loss,
                         as_leadership(e->session, std::move(h)));
}

void leader_election::initiate_adopt(const impl_ptr& e, std::string node,
                                     detail::handler<void(error_code, leadership)> h) {
    detail::adopt_lock(detail::campaign_request(e->session, e->path, {}), std::move(node),
                       e->options.on_loss, as_leadership(e->session, std::move(h)));
}

void leader_election::initiate_prepare(const impl_ptr& e, detail::handler<void(error_code)> h) {
    detail::prepare_lock_dir(e->session, e->path, std::string(names::latch_marker), std::move(h));
}

void leader_election::initiate_current_leader(
    const impl_ptr& e, detail::handler<void(error_code, std::optional<leader_info>)> h) {
    const auto& s = e->session;
    if (detail::validate_path(e->path)) {
        detail::fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    detail::spawn(s, detail::current_leader(s, e->path), std::move(h));
}

void leader_election::initiate_participants(
    const impl_ptr& impl, detail::handler<void(error_code, std::vector<participant>)> h) {
    const auto& s = impl->session;
    detail::initiate_read_queue(
        s, impl->path, true,
        detail::adapt<void(error_code, std::vector<queue_entry>)>(
            std::move(h), s->completions(),
            [](auto& pending, error_code ec, std::vector<queue_entry> q) {
                std::vector<participant> out;
                out.reserve(q.size());
                for (auto& e : q) {
                    out.push_back(participant{std::move(e.data), std::move(e.node), out.empty()});
                }
                pending.complete(ec, std::move(out));
            }));
}

void leader_election::initiate_lead(const impl_ptr& e, work_function work,
                                    detail::handler<void(error_code)> h) {
    detail::spawn(e->session, detail::lead(e->session, e->path, e->id, e->options, std::move(work)),
                  std::move(h));
}

leader_observer::leader_observer(session& s, std::string path)
    : impl_(std::make_shared<detail::observer_state>(
          detail::observer_state{detail::access::seam(s), std::move(path), false, std::nullopt})) {}

void leader_observer::initiate_wait_change(
    const impl_ptr& state, bool with_data,
    detail::handler<void(error_code, std::optional<leader_info>)> h) {
    if (detail::validate_path(state->path)) {
        detail::fail(std::move(h), state->session->completions(),
                     make_error_code(errc::invalid_path));
        return;
    }
    detail::spawn(state->session, detail::next_leader(state, with_data), std::move(h));
}

}  // namespace zkr
