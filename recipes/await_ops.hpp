// Coroutine building blocks the recipes share: calling a session operation from a coroutine,
// waiting for the connection, creating parents, and deleting a node for sure.
#pragma once

#include "session_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <memory>
#include <string>
#include <tuple>

namespace zkr::detail {

using session_ptr = std::shared_ptr<session_impl>;

/// The token recipes await with: no exceptions, errors as values.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

/// Awaits `start(handler)` where start calls one session_impl operation:
///   auto [ec, node] = co_await call<void(error_code, created_node)>([&](auto h) { ... });
template <class Signature, class Start>
auto call(Start&& start) {
    return initiate<Signature>(use_tuple, std::forward<Start>(start));
}

/// True once the awaiting coroutine has been asked to stop. Needed after every request: requests
/// do not take cancellation, so a signal that arrives while one is in flight is only recorded in
/// the coroutine's cancellation state, and the next wait would not hear of it.
boost::asio::awaitable<bool> cancellation_requested();

/// Waits until the session is connected. Fails with the session's final error if it ends, or
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

/// Runs `body` on the driver strand and completes `h` with its result: a coroutine returning
/// std::tuple<error_code, Values...> for a handler void(error_code, Values...); an exception
/// escaping it becomes zk_errc::system_error.
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
    asio::co_spawn(strand, std::move(body),
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

/// The same for callers outside a coroutine: calls `done` with the result on the session strand.
void remove_for_sure(const session_ptr& s, std::string path, std::function<void(error_code)> done);

/// Runs remove_for_sure in the background (for cleanup nobody waits for); failures are logged.
void remove_in_background(const session_ptr& s, std::string path, const char* channel);

}  // namespace zkr::detail
