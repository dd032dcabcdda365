// The entry points of every queue recipe (lock_acquire.hpp): acquisition, adoption and the
// directory's preparation, and the delivery that starts a hold's max_hold clock.
#include "lock_acquire.hpp"

#include "access.hpp"
#include "path.hpp"
#include "recycling.hpp"

namespace zkr::detail {

namespace asio = boost::asio;

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

/// Runs the queue algorithm and calls `on_done(ec, lock)` on the strand once it ends (inline:
/// the caller delivers the lock, and starts its hold clock, its own way). An empty lock without
/// an error means "not acquired" (try_only and busy).
template <class OnDone>
void queue_for_lock(acquire_request request, loss_policy policy, asio::cancellation_slot slot,
                    OnDone on_done) {
    auto s = request.session;
    const char* channel = request.channel;
    const auto max_hold = request.max_hold;
    auto observed =
        request.observed
            ? observed_lock::start(s, recipe_named_by(request.queue->marker), request.queue->dir)
            : nullptr;
    acquire(std::move(request), slot,
            recycled([s, policy, channel, max_hold, observed = std::move(observed),
                      on_done = std::move(on_done)](error_code ec, acquired_node node) mutable {
                if (ec || node.path.empty()) {
                    if (ec && observed) {
                        observed->failed(ec);
                    }
                    on_done(ec, zkr::lock{});
                    return;
                }
                auto state = std::allocate_shared<lock_state>(recycling_allocator<lock_state>(), s,
                                                              std::move(node), policy, channel,
                                                              max_hold, std::move(observed));
                state->start();
                on_done(error_code{}, zkr::lock(std::move(state)));
            }));
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

error_code check_queue_request(acquire_request& request) {
    if (!request.check) {
        const auto& q = *request.queue;
        const auto node = longest_node(q.dir, q.marker);
        auto ec = check_lock_dir(q.dir, node);
        if (!ec) {
            ec = check_max_hold(request.max_hold);
        }
        if (!ec) {
            ec = request.session->check_request_size(node, q.data.size());
        }
        request.check = ec;
    }
    return *request.check;
}

void acquire_lock(acquire_request request, loss_policy policy,
                  handler<void(error_code, zkr::lock)> h) {
    auto s = request.session;
    if (auto ec = check_queue_request(request)) {
        fail(std::move(h), s->completions(), ec);
        return;
    }
    auto slot = asio::get_associated_cancellation_slot(h);
    queue_for_lock(
        std::move(request), policy, slot,
        [pending = pending_handler<void(error_code, zkr::lock)>(std::move(h), s->completions())](
            error_code ec, zkr::lock l) mutable { deliver_held(pending, ec, std::move(l)); });
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
    if (!names_node_of(node, request.queue->dir, request.queue->marker)) {
        fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    if (auto ec = check_queue_request(request)) {  // before the node is looked up
        fail(std::move(h), s->completions(), ec);
        return;
    }
    spawn(
        s,
        [](acquire_request request, std::string node,
           loss_policy policy) -> asio::awaitable<std::tuple<error_code, zkr::lock>> {
            auto [ec, st, claim] = co_await claim_own_node(request.session, node);
            if (ec) {
                co_return std::make_tuple(ec, zkr::lock{});
            }
            // The claim lives until the queue algorithm has started the adopted lock's own state.
            request.existing = std::make_shared<const acquired_node>(acquired_node{node, st});
            auto s = request.session;
            co_return co_await call<void(error_code, zkr::lock)>([&](auto h) {
                auto slot = asio::get_associated_cancellation_slot(h);
                queue_for_lock(
                    std::move(request), policy, slot,
                    [pending = pending_handler<void(error_code, zkr::lock)>(
                         std::move(h), s->completions())](error_code ec, zkr::lock l) mutable {
                        pending.complete(ec, std::move(l));  // the clock: below
                    });
            });
        }(std::move(request), std::move(node), policy),
        delivering(std::move(h), s->completions()));  // starts the clock
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

void deliver_held(pending_handler<void(error_code, zkr::lock)>& pending, error_code ec,
                  zkr::lock held) {
    auto state = access::get_impl(held);
    pending.complete(ec, std::move(held));
    if (state) {
        state->start_hold_clock();
    }
}

void deliver_held(pending_handler<void(error_code, zkr::lock_group)>& pending, error_code ec,
                  zkr::lock_group held) {
    std::vector<std::shared_ptr<lock_state>> states;
    for (const auto& member : held.locks()) {
        states.push_back(access::get_impl(member));
    }
    pending.complete(ec, std::move(held));
    for (const auto& state : states) {
        state->start_hold_clock();
    }
}

}  // namespace zkr::detail
