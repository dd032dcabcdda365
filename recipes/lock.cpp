#include "access.hpp"
#include "handle_ops.hpp"
#include "lock_state.hpp"

#include "log.hpp"
#include "path.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>

#include <algorithm>
#include <iterator>

namespace zkr {
namespace detail {

namespace asio = boost::asio;

lock_state::lock_state(session_ptr s, acquired_node node, loss_policy policy, const char* channel,
                       std::optional<std::chrono::milliseconds> max_hold,
                       std::optional<observed_lock> observed)
    : session_(std::move(s)),
      path_(std::move(node.path)),
      token_(node.stat.czxid),
      policy_(policy),
      channel_(channel),
      max_hold_(max_hold),
      observed_(std::move(observed)) {
    if (observed_) {
        observed_->acquired(node.waited);  // a state exists only for a node just acquired
    }
}

void lock_state::start_hold_clock() {
    if (!max_hold_) {
        return;
    }
    // Behind the handler that delivered the lock, on the same executors: the clock starts once
    // the holder has its handle, so that it is told of the loss before the node goes (lose()).
    asio::post(session_->completions().via,
               asio::bind_executor(session_->executor(), [self = shared_from_this()] {
                   asio::post(self->session_->strand(), [self] { self->arm_hold_timer(); });
               }));
}

void lock_state::arm_hold_timer() {
    if (released_ || !owned_.load()) {
        return;
    }
    hold_timer_.emplace(session_->strand(), *max_hold_);
    hold_timer_->async_wait([weak = weak_from_this()](error_code ec) {
        auto self = weak.lock();
        if (!ec && self && !self->released_ && self->owned_.load()) {
            self->lose(make_error_code(errc::max_hold_passed));
        }
    });
}

lock_state::~lock_state() {
    end_hold();
}

void lock_state::end_hold() {
    if (counted_.exchange(false)) {
        session_->hold_ended();
    }
}

void lock_state::start() {
    counted_ = true;
    session_->hold_began();
    session_->add_listener(weak_from_this());
    // Events before registration were seen by nobody: catch up with the current state.
    switch (session_->state()) {
        case session_state::suspended:
            on_session_event(session_event::suspended);
            break;
        case session_state::expired:
        case session_state::auth_failed:
            on_session_event(session_event::expired);
            break;
        case session_state::closed:
            on_session_event(session_event::closed);
            break;
        default:
            break;
    }
}

error_code lock_state::lost_reason() const {
    std::lock_guard lock(reason_mutex_);
    if (!reason_ && cause_pending_) {
        return make_error_code(errc::lock_lost);  // lost; the server is being asked why
    }
    return reason_;
}

void lock_state::on_session_event(session_event event) {
    switch (event) {
        case session_event::suspended:
            if (policy_ == loss_policy::on_suspend) {
                lose(make_error_code(errc::session_suspended));
            }
            break;
        case session_event::deadline_passed:
            lose(make_error_code(errc::session_deadline));
            release_waiters_.complete_all(make_error_code(errc::session_deadline));
            break;
        case session_event::quorum_unreachable:
            lose(make_error_code(errc::quorum_unreachable));
            break;
        case session_event::expired:
            lose(make_error_code(zk_errc::session_expired));
            break;
        case session_event::closed:
            lose(make_error_code(errc::session_closed));
            break;
        case session_event::reconnected:
            break;
    }
}

void lock_state::lose(error_code why) {
    owned_ = false;
    end_hold();
    if (loss_reported_) {
        return;
    }
    loss_reported_ = true;
    {
        std::lock_guard lock(reason_mutex_);
        reason_ = why;
    }
    if (observed_) {
        observed_->ended(why);
    }
    if (why == errc::session_closed) {
        ZKR_LOG(info, channel_, "lock " << path_ << " ends with its session");
    } else {
        ZKR_LOG(warning, channel_, "lock " << path_ << " lost: " << why.message());
    }
    lost_waiters_.complete_all(why);
    revocation_waiters_.complete_all(why);
    stop_watch_.emit(asio::cancellation_type::terminal);
    if (hold_timer_) {
        hold_timer_->cancel();
    }
    // Lost while the session may live on: our node may still exist and would block everyone
    // behind it until the session ends. Delete it (once the connection is back).
    if (why == errc::session_suspended || why == errc::session_deadline ||
        why == errc::quorum_unreachable) {
        remove_in_background(session_, path_, channel_);
    } else if (why == errc::max_hold_passed) {
        // Taken back once the holder has been told: the deletion follows the loss handlers
        // through the same executors, so nobody else enters before the holder's executor ran
        // them. A holder whose executor is stuck keeps the node until it is free again or its
        // session ends (docs/guide.md, "Bounded holds").
        asio::post(session_->completions().via,
                   asio::bind_executor(session_->executor(),
                                       [s = session_, path = path_, channel = channel_] {
                                           remove_in_background(s, path, channel);
                                       }));
    }
}

void lock_state::release(handler<void(error_code)> h) {
    auto waiter = waiter_list<void(error_code)>::prepare(std::move(h), session_->strand(),
                                                         session_->completions());
    session_->on_driver([self = shared_from_this(), waiter = std::move(waiter)]() mutable {
        if (self->released_) {
            waiter.complete(make_error_code(errc::not_owner));
            return;
        }
        self->released_ = true;
        self->end_hold();
        if (!self->owned_.exchange(false)) {
            waiter.complete(self->lost_reason());
            return;
        }
        self->loss_reported_ = true;  // released, not lost: a late loss is nobody's news
        if (self->observed_) {
            self->observed_->ended(error_code{});
        }
        self->lost_waiters_.complete_all(make_error_code(asio::error::operation_aborted));
        self->revocation_waiters_.complete_all(make_error_code(asio::error::operation_aborted));
        self->stop_watch_.emit(asio::cancellation_type::terminal);
        if (self->hold_timer_) {
            self->hold_timer_->cancel();
        }
        self->release_waiters_.add(std::move(waiter));
        remove_for_sure(self->session_, self->path_, [self](error_code ec) {
            ZKR_LOG(debug, self->channel_, "released " << self->path_);
            self->release_waiters_.complete_all(ec);
        });
    });
}

void lock_state::wait_lost(handler<void(error_code)> h, bool watch_for_deletion) {
    auto waiter = waiter_list<void(error_code)>::prepare(std::move(h), session_->strand(),
                                                         session_->completions());
    session_->on_driver(
        [self = shared_from_this(), waiter = std::move(waiter), watch_for_deletion]() mutable {
            if (self->released_) {
                waiter.complete(make_error_code(errc::not_owner));
                return;
            }
            if (!self->owned_.load()) {
                waiter.complete(self->lost_reason());
                return;
            }
            self->lost_waiters_.add(std::move(waiter));
            if (watch_for_deletion) {
                self->watch_node();
            }
        });
}

void lock_state::wait_revocation(handler<void(error_code)> h) {
    auto waiter = waiter_list<void(error_code)>::prepare(std::move(h), session_->strand(),
                                                         session_->completions());
    session_->on_driver([self = shared_from_this(), waiter = std::move(waiter)]() mutable {
        if (self->released_) {
            waiter.complete(make_error_code(errc::not_owner));
        } else if (!self->owned_.load()) {
            waiter.complete(self->lost_reason());
        } else if (self->revoke_requested_.load()) {
            waiter.complete(error_code{});
        } else {
            self->revocation_waiters_.add(std::move(waiter));
            self->watch_node();
        }
    });
}

void lock_state::watch_node() {
    if (watching_) {
        return;
    }
    watching_ = true;
    asio::co_spawn(session_->strand(), watch_loop(), asio::detached);
}

asio::awaitable<void> lock_state::lose_node() {
    // Owned no more, from this instant. Why: another client deleted the node, or the server
    // expired our session and took its ephemeral nodes with it. After a freeze both look the
    // same here (the deletion's event arrives first, the session's end with the next answer):
    // ask the server once, so that the holder hears the real cause.
    owned_ = false;
    end_hold();
    {
        std::lock_guard lock(reason_mutex_);
        cause_pending_ = true;
    }
    for (;;) {
        auto [ec, st] = co_await call<void(error_code, std::optional<stat>)>(
            [&](auto h) { session_->exists(path_, std::move(h)); });
        if (!ec) {
            lose(make_error_code(errc::lock_node_deleted));
            co_return;
        }
        if (is_retryable(ec)) {
            if (auto end = co_await wait_connected(session_)) {
                ec = end;
            } else {
                continue;
            }
        }
        lose(ec);  // the session's end, as the session reports it (once: a session event may
                   // have reported it already)
        co_return;
    }
}

asio::awaitable<void> lock_state::watch_loop() {
    auto self = shared_from_this();
    while (owned_.load()) {
        // Reading the data as well: a revoker writes its request there (Curator's way).
        auto [ec, data, w] = co_await call<void(error_code, node_data, zkr::watch)>(
            [&](auto h) { session_->watch_data(path_, std::move(h)); });
        if (!owned_.load()) {
            co_return;
        }
        if (ec == zk_errc::no_node) {
            lose(make_error_code(errc::lock_node_deleted));
            co_return;
        }
        if (!ec && data.data == names::revoke_request && !revoke_requested_.exchange(true)) {
            ZKR_LOG(info, channel_, "revocation of " << path_ << " requested");
            if (observed_) {
                observed_->revocation_requested();
            }
            revocation_waiters_.complete_all(error_code{});
        }
        if (is_retryable(ec)) {
            if (co_await wait_connected(session_)) {
                co_return;  // the session's end reaches us as a session event
            }
            continue;
        }
        if (ec) {
            co_return;
        }
        auto [wait_ec, event] =
            co_await w.async_wait(asio::bind_cancellation_slot(stop_watch_.slot(), use_tuple));
        if (wait_ec) {
            co_return;
        }
        if (event.type == watch_event_type::deleted) {
            co_await lose_node();
            co_return;
        }
        // Our node's data changed: the watch is spent, set it again.
    }
}

void guarded_multi(const std::vector<std::shared_ptr<lock_state>>& guards, std::vector<op> ops,
                   handler<void(error_code, std::vector<op_result>)> h) {
    const auto& s = guards.front()->session();
    if (!std::ranges::all_of(guards, [](const auto& g) { return g->owns(); })) {
        fail(std::move(h), s->completions(), make_error_code(errc::lock_lost));
        return;
    }
    if (auto ec = validate_ops(ops)) {
        fail(std::move(h), s->completions(), ec);
        return;
    }
    std::vector<op> checked;
    checked.reserve(guards.size() + ops.size());
    for (const auto& g : guards) {
        checked.push_back(op::check(g->path()));
    }
    std::move(ops.begin(), ops.end(), std::back_inserter(checked));
    auto pending = std::make_shared<pending_handler<void(error_code, std::vector<op_result>)>>(
        std::move(h), s->completions());
    s->multi(std::move(checked), [guards, pending](error_code ec, std::vector<op_result> results) {
        bool check_failed = false;
        for (std::size_t i = 0; i < guards.size() && i < results.size(); ++i) {
            if (results[i].ec == zk_errc::no_node) {
                check_failed = true;
                guards[i]->node_missing();
            }
        }
        results.erase(results.begin(), results.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                             guards.size(), results.size())));
        pending->complete(check_failed ? make_error_code(errc::lock_lost) : ec, std::move(results));
    });
}

namespace {

/// The longest node path a lock directory will hold: a protected prefix and a sequence more.
std::string longest_node(const std::string& dir, const std::string& marker) {
    return join_path(dir, std::string(names::protected_name_length(marker), '0'));
}

/// The recipe a queue's marker stands for, as lock_subject names it.
std::string_view recipe_named_by(std::string_view marker) {
    if (marker == names::read_marker) {
        return "read_lock";
    }
    if (marker == names::write_marker) {
        return "write_lock";
    }
    if (marker == names::latch_marker) {
        return "election";
    }
    return "mutex";
}

/// The directory and the nodes it will hold, checked before any parent is created for them.
error_code check_lock_dir(const std::string& dir, const std::string& node) {
    if (validate_path(dir) || dir == "/" || validate_path(node)) {
        return make_error_code(errc::invalid_path);
    }
    return {};
}

}  // namespace

error_code check_max_hold(std::optional<std::chrono::milliseconds>& max_hold) {
    if (!max_hold) {
        return {};
    }
    if (max_hold->count() <= 0) {
        return make_error_code(errc::invalid_argument);
    }
    max_hold = std::min<std::chrono::milliseconds>(*max_hold, longest_hold);
    return {};
}

void acquire_lock(acquire_request request, loss_policy policy,
                  handler<void(error_code, zkr::lock)> h) {
    auto s = request.session;
    const auto node = longest_node(request.dir, request.marker);
    auto ec = check_lock_dir(request.dir, node);
    if (!ec) {
        ec = check_max_hold(request.max_hold);
    }
    if (!ec) {
        ec = s->check_request_size(node, request.data.size());
    }
    if (ec) {
        fail(std::move(h), s->completions(), ec);
        return;
    }
    auto slot = asio::get_associated_cancellation_slot(h);
    const char* channel = request.channel;
    const auto max_hold = request.max_hold;
    const bool starts_hold_clock = request.starts_hold_clock;
    auto observed = request.observed
                        ? observed_lock::start(s, recipe_named_by(request.marker), request.dir)
                        : std::nullopt;
    acquire(std::move(request), slot,
            [s, policy, channel, max_hold, starts_hold_clock, observed = std::move(observed),
             pending = pending_handler<void(error_code, zkr::lock)>(
                 std::move(h), s->completions())](error_code ec, acquired_node node) mutable {
                if (ec || node.path.empty()) {
                    if (ec && observed) {
                        observed->failed(ec);
                    }
                    pending.complete(ec, zkr::lock{});
                    return;
                }
                auto state = std::make_shared<lock_state>(s, std::move(node), policy, channel,
                                                          max_hold, std::move(observed));
                state->start();
                pending.complete(error_code{}, zkr::lock(state));
                if (starts_hold_clock) {
                    state->start_hold_clock();
                }
            });
}

bool names_node_of(const std::string& node, const std::string& dir, std::string_view marker) {
    return !validate_path(node) && parent_path(node) == dir &&
           node_name(node).find(marker) != std::string_view::npos;
}

asio::awaitable<std::tuple<error_code, zkr::stat, std::shared_ptr<node_claim>>> claim_own_node(
    session_ptr s, std::string node) {
    auto [ec, st] = co_await call<void(error_code, std::optional<stat>)>(
        [&](auto h) { s->exists(node, std::move(h)); });
    if (!ec && (!st || st->ephemeral_owner != s->session_id())) {
        ec = make_error_code(errc::not_owner);
    }
    if (!ec && s->holds_node(node)) {
        ec = make_error_code(errc::already_held);
    }
    if (ec) {
        co_return std::make_tuple(ec, zkr::stat{}, std::shared_ptr<node_claim>{});
    }
    auto claim = std::make_shared<node_claim>(node);
    s->add_listener(claim);
    co_return std::make_tuple(error_code{}, *st, std::move(claim));
}

void adopt_lock(acquire_request request, std::string node, loss_policy policy,
                handler<void(error_code, zkr::lock)> h) {
    auto s = request.session;
    if (!names_node_of(node, request.dir, request.marker)) {
        fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    if (auto ec = check_max_hold(request.max_hold)) {  // before the node is looked up
        fail(std::move(h), s->completions(), ec);
        return;
    }
    // The lock reaches the caller one hop after acquire_lock's handler (through spawn): its
    // max_hold clock starts after that delivery, not acquire_lock's.
    request.starts_hold_clock = false;
    spawn(
        s,
        [](acquire_request request, std::string node,
           loss_policy policy) -> asio::awaitable<std::tuple<error_code, zkr::lock>> {
            auto [ec, st, claim] = co_await claim_own_node(request.session, node);
            if (ec) {
                co_return std::make_tuple(ec, zkr::lock{});
            }
            // The claim lives until acquire_lock has started the adopted lock's own state.
            request.existing = acquired_node{node, st};
            co_return co_await call<void(error_code, zkr::lock)>(
                [&](auto h) { acquire_lock(std::move(request), policy, std::move(h)); });
        }(std::move(request), std::move(node), policy),
        adapt<void(error_code, zkr::lock), void(error_code, zkr::lock)>(
            std::move(h), s->completions(), [](auto& pending, error_code ec, zkr::lock l) {
                auto state = access::get_impl(l);
                pending.complete(ec, std::move(l));
                if (state) {
                    state->start_hold_clock();
                }
            }));
}

void prepare_lock_dir(const session_ptr& s, const std::string& dir, const std::string& marker,
                      handler<void(error_code)> h) {
    if (auto ec = check_lock_dir(dir, longest_node(dir, marker))) {
        fail(std::move(h), s->completions(), ec);
        return;
    }
    spawn(
        s,
        [](session_ptr s, std::string dir) -> asio::awaitable<std::tuple<error_code>> {
            co_return std::make_tuple(co_await ensure_path(std::move(s), std::move(dir)));
        }(s, dir),
        std::move(h));
}

}  // namespace detail

lock::lock() noexcept = default;
lock::lock(std::shared_ptr<detail::lock_state> state) noexcept : impl_(std::move(state)) {}
lock::lock(lock&&) noexcept = default;

namespace {

/// Starts releasing without waiting; allocation failure at that point leaves the node to the
/// session's end rather than escaping a destructor.
void release_detached(const std::shared_ptr<detail::lock_state>& state) noexcept {
    // Not after an async_release or a loss: nothing of ours is left to delete.
    if (state && state->owns()) {
        try {
            state->release([](error_code) {});
        } catch (...) {
        }
    }
}

}  // namespace

lock& lock::operator=(lock&& other) noexcept {
    if (this != &other) {
        release_detached(impl_);
        impl_ = std::move(other.impl_);
    }
    return *this;
}

lock::~lock() {
    release_detached(impl_);
}

lock::executor_type lock::get_executor() const noexcept {
    if (impl_) {
        return impl_->executor();
    }
    return boost::asio::system_executor();
}

bool lock::owns() const noexcept {
    return impl_ && impl_->owns();
}

const std::string& lock::path() const noexcept {
    static const std::string empty;
    return impl_ ? impl_->path() : empty;
}

std::int64_t lock::fencing_token() const noexcept {
    return impl_ ? impl_->fencing_token() : 0;
}

sequencer lock::sequencer() const {
    return {path(), fencing_token()};
}

error_code lock::lost_reason() const {
    return impl_ ? impl_->lost_reason() : error_code{};
}

void lock::release_impl(const impl_ptr& impl, detail::handler<void(error_code)> h) {
    detail::on_held(impl, std::move(h), [](auto& s, auto h) { s.release(std::move(h)); });
}

void lock::wait_lost_impl(const impl_ptr& impl, detail::handler<void(error_code)> h) {
    detail::on_held(impl, std::move(h), [](auto& s, auto h) { s.wait_lost(std::move(h)); });
}

bool lock::revocation_requested() const noexcept {
    return impl_ && impl_->revocation_requested();
}

void lock::wait_revocation_impl(const impl_ptr& impl, detail::handler<void(error_code)> h) {
    detail::on_held(impl, std::move(h), [](auto& s, auto h) { s.wait_revocation(std::move(h)); });
}

void lock::guarded_multi_impl(const impl_ptr& impl, std::vector<op> ops,
                              detail::handler<void(error_code, std::vector<op_result>)> h) {
    detail::on_held(impl, std::move(h), [&](auto& s, auto h) {
        detail::guarded_multi({s.shared_from_this()}, std::move(ops), std::move(h));
    });
}

}  // namespace zkr
