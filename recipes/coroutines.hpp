// Coroutine building blocks the recipes share: calling a session operation from a coroutine,
// waiting for the connection, creating parents, and deleting a node for sure.
#pragma once

#include "recycling.hpp"
#include "session_seam.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace zkr::detail {

/// The token recipes await with: no exceptions, errors as values.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

/// Awaits `start(handler)` where start calls one session_seam operation:
///   auto [ec, node] = co_await call<void(error_code, created_node)>([&](auto h) { ... });
template <class Signature, class Start>
auto call(Start&& start) {
    return initiate<Signature>(use_tuple, std::forward<Start>(start));
}

/// What a call<Signature> completes with: the handler's arguments as a tuple.
template <class Signature>
struct call_result;
template <class... Args>
struct call_result<void(error_code, Args...)> {
    using type = std::tuple<error_code, std::decay_t<Args>...>;
};

/// Sends `n` requests at once (pipelined: one round trip for all), `start(i, h)` sending the
/// i-th with handler `h`, and awaits every answer; the i-th result is at index i. Like call(),
/// it does not take cancellation: it ends once every request has been answered.
///   auto answers = co_await call_all<void(error_code, node_data)>(
///       s, paths.size(), [&](std::size_t i, auto h) { s->get_data(paths[i], std::move(h)); });
template <class Signature, class Start>
boost::asio::awaitable<std::vector<typename call_result<Signature>::type>> call_all(session_ptr s,
                                                                                    std::size_t n,
                                                                                    Start start) {
    using result = typename call_result<Signature>::type;
    auto results = std::make_shared<std::vector<result>>(n);
    if (n == 0) {
        co_return std::move(*results);
    }
    co_await call<void(error_code)>([&](handler<void(error_code)> done) {
        auto left =
            std::make_shared<std::pair<std::size_t, handler<void(error_code)>>>(n, std::move(done));
        for (std::size_t i = 0; i < n; ++i) {
            start(i, boost::asio::bind_executor(
                         s->strand(), [results, left, i](error_code ec, auto... values) {
                             (*results)[i] = result(ec, std::move(values)...);
                             if (--left->first == 0) {
                                 std::move(left->second)(error_code{});
                             }
                         }));
        }
    });
    co_return std::move(*results);
}

/// How a step begun in `generation` (session_seam::generation) finds its session: empty while
/// that ZooKeeper session lasts; once it has ended, the session's final error, or session_expired
/// when it renewed since.
inline error_code ended_since(const session_seam& s, std::uint64_t generation) noexcept {
    if (auto ec = s.final_error()) {
        return ec;
    }
    return s.generation() != generation ? make_error_code(zk_errc::session_expired) : error_code{};
}

/// Waits until the session is connected (see below).
boost::asio::awaitable<error_code> wait_connected(session_ptr s);
/// The same for a step of `generation` (session_seam::generation): what a recipe does in one
/// ZooKeeper session never continues in the next one after a renewal: session_expired then.
boost::asio::awaitable<error_code> wait_connected(session_ptr s, std::uint64_t generation);

/// The error a round's result carries: the result itself, or its first element.
inline error_code& error_of(error_code& ec) {
    return ec;
}
template <class... Values>
error_code& error_of(std::tuple<error_code, Values...>& result) {
    return std::get<0>(result);
}

/// The "retry once reconnected" loop of every recipe, for a round of requests that may be sent
/// again as a whole: awaits `round()` (an awaitable completing with an error_code, or a tuple
/// starting with one) until its error is not retryable, waiting for the connection between
/// attempts. Ends with the session's end (its error; session_expired too if the session renews
/// meanwhile: the round belongs to the generation it began in) or the awaiting coroutine's
/// cancellation (operation_aborted) if they come first.
///   auto [ec, leader] = co_await retrying(s, [&] { return current_leader(s, path); });
///
/// `generation`: the ZooKeeper session the caller's step began in, when that was before this
/// call (0: the current one). Nothing is sent once it has ended.
template <class Round, class Result = typename std::invoke_result_t<Round&>::value_type>
boost::asio::awaitable<Result> retrying(session_ptr s, Round round, std::uint64_t generation = 0) {
    if (generation == 0) {
        generation = s->generation();
    } else if (auto ended = ended_since(*s, generation)) {
        Result result{};
        error_of(result) = ended;
        co_return result;
    }
    for (;;) {
        auto result = co_await round();
        if (!is_retryable(error_of(result))) {
            co_return result;
        }
        if (auto end = co_await wait_connected(s, generation)) {
            error_of(result) = end;
            co_return result;
        }
    }
}

/// retrying() for one request (a read, a sync, a write that checks a version): sends it until
/// it is answered over a live connection.
///   auto [ec, data] = co_await call_retrying<void(error_code, node_data)>(
///       s, [&](auto h) { s->get_data(path, std::move(h)); });
template <class Signature, class Start>
boost::asio::awaitable<typename call_result<Signature>::type> call_retrying(
    session_ptr s, Start start, std::uint64_t generation = 0) {
    return retrying(
        std::move(s), [start = std::move(start)]() mutable { return call<Signature>(start); },
        generation);
}

/// One of our nodes: its path and its stat at creation (czxid: the fencing token).
/// A watch on a node of ours, armed while it waited, and the data read with it.
struct armed_node_watch {
    zkr::watch watch;
    std::string data;
};

struct acquired_node {
    std::string path;
    zkr::stat stat;
    /// It waited for a holder ahead of it to let go (a hand-off), as metrics count it.
    bool waited = false;
    /// The holder's loss and revocation watch (lock_state), already armed; null if none (most
    /// waiters: only the second in line arms one, so it is one pointer, not a watch and a
    /// string, in every waiter).
    std::shared_ptr<armed_node_watch> armed = {};
};

/// The recovery after a create whose answer was lost, for every recipe: did it happen? sync
/// makes our server current, then the nodes of `dir` named `prefix`... (Curator's protected
/// names carry the creator's uuid) are ours if our session owns them. A missing `dir` holds
/// nothing of ours. Call once connected.
boost::asio::awaitable<std::tuple<error_code, std::vector<acquired_node>>> find_own_nodes(
    session_ptr s, std::string dir, std::string prefix);

/// True once the awaiting coroutine has been asked to stop. Needed after every request: requests
/// do not take cancellation, so a signal that arrives while one is in flight is only recorded in
/// the coroutine's cancellation state, and the next wait would not hear of it.
boost::asio::awaitable<bool> cancellation_requested();

/// Fails with the session's final error if it ends, or
/// with operation_aborted if the awaiting coroutine is cancelled.
boost::asio::awaitable<error_code> wait_connected(session_ptr s);

/// Creates `path` (empty) through connection loss: a create whose answer was lost is sent again,
/// and a node found existing counts as created (callers use names only they create, or accept
/// someone else's node).
boost::asio::awaitable<error_code> create_for_sure(session_ptr s, std::string path,
                                                   create_mode mode);

/// Creates every missing ancestor of `dir` and `dir` itself as container nodes (Curator's way:
/// the server removes them once empty).
boost::asio::awaitable<error_code> ensure_path(session_ptr s, std::string dir);

/// Deletes `path`, retrying through disconnections. Succeeds once the node is gone or the
/// session has ended (which removes its ephemeral nodes). Not cancellable: meant to run to the
/// end, in the background if need be.
boost::asio::awaitable<error_code> remove_for_sure(session_ptr s, std::string path);

/// Sets the awaiting coroutine up as every recipe body expects: cancellation reported, never
/// thrown (a body checks for it with cancellation_requested or a wait's operation_aborted, and
/// cleans up before it returns; an exception would skip that cleanup), and every type of
/// cancellation heard (terminal, partial, total). The setting belongs to the whole coroutine
/// thread: spawn() does it for its body and everything that body awaits; only a coroutine
/// started otherwise (co_spawn) calls this itself, first.
inline boost::asio::awaitable<void> report_cancellation() {
    co_await boost::asio::this_coro::throw_if_cancelled(false);
    co_await boost::asio::this_coro::reset_cancellation_state(
        boost::asio::enable_total_cancellation());
}

/// Before cleanup after a cancellation (releasing what was taken, deleting a node): forgets the
/// cancellation received so far, so that the cleanup's waits run to their end. Back to Asio's
/// default filter (only a further terminal cancellation is heard). For the whole coroutine
/// thread, as above.
inline boost::asio::awaitable<void> forget_cancellation() {
    co_await boost::asio::this_coro::reset_cancellation_state();
}

/// Runs `body` after report_cancellation().
template <class Result>
boost::asio::awaitable<Result> reporting_cancellation(boost::asio::awaitable<Result> body) {
    co_await report_cancellation();
    co_return co_await std::move(body);
}

/// Runs `body` on the driver strand, its cancellation set up (report_cancellation), and
/// completes `h` with its result: a coroutine returning std::tuple<error_code, Values...> for a
/// handler void(error_code, Values...); an exception escaping it becomes zk_errc::system_error.
///
/// The caller's per-operation cancellation is forwarded through a signal we own, emitted on the
/// strand. (Boost 1.81's co_spawn, given the caller's slot, posts its emit through a raw pointer
/// into the slot's handler memory, which dangles once the caller's slot is reassigned, e.g. by
/// the `||` operator that cancelled us.)
template <class... Values>
void spawn(const session_ptr& s, boost::asio::awaitable<std::tuple<error_code, Values...>> body,
           handler<void(error_code, Values...)> h) {
    namespace asio = boost::asio;
    const auto& strand = s->strand();
    auto signal = std::make_shared<asio::cancellation_signal>();
    auto slot = asio::get_associated_cancellation_slot(h);
    if (slot.is_connected()) {
        slot.assign([signal, strand](asio::cancellation_type type) {
            asio::post(strand, [signal, type] { signal->emit(type); });
        });
    }
    asio::co_spawn(strand, reporting_cancellation(std::move(body)),
                   asio::bind_cancellation_slot(
                       signal->slot(),
                       [signal, pending = pending_handler<void(error_code, Values...)>(
                                    std::move(h), s->completions())](
                           std::exception_ptr e, std::tuple<error_code, Values...> result) mutable {
                           if (e) {
                               std::get<0>(result) = make_error_code(zk_errc::system_error);
                           }
                           std::apply([&](auto&&... r) { pending.complete(std::move(r)...); },
                                      std::move(result));
                       }));
}

/// What one delete means for remove_for_sure: finished (with this result), or nullopt: retry
/// once connected.
std::optional<error_code> removal_settled(error_code ec);

/// remove_for_sure's way through a disconnection: the coroutine, then `done`.
void remove_for_sure_after(const session_ptr& s, const std::string& path,
                           std::function<void(error_code)> done);

/// The same for callers outside a coroutine: calls `done(error_code)` with the result on the
/// session strand. `path` must stay valid until `done` has run (a member of what `done` keeps
/// alive): the usual release then copies it once, into its request. `done` travels in the
/// request's recycled handler; only a retry through a disconnection type-erases it again.
template <class Done>
void remove_for_sure(const session_ptr& s, const std::string& path, Done done) {
    s->remove(path, -1, recycled([s, &path, done = std::move(done)](error_code ec) mutable {
                  if (auto settled = removal_settled(ec)) {
                      done(*settled);
                      return;
                  }
                  remove_for_sure_after(s, path, std::move(done));
              }));
}

/// Runs remove_for_sure in the background (for cleanup nobody waits for); failures are logged.
void remove_in_background(const session_ptr& s, std::string path, const char* channel);

}  // namespace zkr::detail
