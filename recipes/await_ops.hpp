// Coroutine building blocks the recipes share: calling a session operation from a coroutine,
// waiting for the connection, creating parents, and deleting a node for sure.
#pragma once

#include "session_impl.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <string>

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

/// Creates every missing ancestor of `dir` and `dir` itself as container nodes (Curator's way:
/// the server removes them once empty).
boost::asio::awaitable<error_code> ensure_path(session_ptr s, std::string dir);

/// Deletes `path`, retrying through disconnections. Succeeds once the node is gone or the
/// session has ended (which removes its ephemeral nodes). Not cancellable: meant to run to the
/// end, in the background if need be.
boost::asio::awaitable<error_code> remove_for_sure(session_ptr s, std::string path);

/// Runs remove_for_sure detached on the session strand (for cleanup nobody waits for).
void remove_in_background(const session_ptr& s, std::string path, const char* channel);

}  // namespace zkr::detail
