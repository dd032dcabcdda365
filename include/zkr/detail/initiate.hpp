// The one place where a completion token meets a compiled operation body.
//
// Every public async_* function is a thin template that turns the caller's token into an
// any_completion_handler and hands it to an out-of-line function compiled into libzkr. This keeps
// Asio's templates out of users' builds and the logic in ordinary .cpp files.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <type_traits>
#include <utility>

namespace zkr::detail {

template <class Signature>
using handler = boost::asio::any_completion_handler<Signature>;

template <class T>
inline constexpr bool is_executor_binder_v = false;
template <class T, class Executor>
inline constexpr bool is_executor_binder_v<boost::asio::executor_binder<T, Executor>> = true;

/// `h` type-erased. A handler whose executor is an any_io_executor (a coroutine's) gets the
/// io_context executor or strand inside bound instead: the same executor, but one that
/// any_completion_handler's executor query can hand out without a heap allocation (an erased
/// executor inside another does not fit its inline buffer).
template <class Signature, class Handler>
handler<Signature> erase(Handler&& h) {
    using io_executor = boost::asio::io_context::executor_type;
    using io_strand = boost::asio::strand<io_executor>;
    // (A handler that binds an executor already is left as it is: Asio would rebind its own.)
    if constexpr (std::is_same_v<boost::asio::associated_executor_t<std::decay_t<Handler>>,
                                 boost::asio::any_io_executor> &&
                  !is_executor_binder_v<std::decay_t<Handler>>) {
        const auto ex = boost::asio::get_associated_executor(h);
        if (const auto* io = ex.template target<io_executor>()) {
            return handler<Signature>(boost::asio::bind_executor(*io, std::forward<Handler>(h)));
        }
        if (const auto* strand = ex.template target<io_strand>()) {
            return handler<Signature>(
                boost::asio::bind_executor(*strand, std::forward<Handler>(h)));
        }
    }
    return handler<Signature>(std::forward<Handler>(h));
}

/// Starts the operation `body(handler, args...)` for `token`. `body` must be cheap to copy.
template <class Signature, class Token, class Body, class... Args>
auto initiate(Token&& token, Body body, Args&&... args) {
    return boost::asio::async_initiate<Token, Signature>(
        [body](auto&& h, auto&&... a) {
            body(erase<Signature>(std::forward<decltype(h)>(h)), std::forward<decltype(a)>(a)...);
        },
        token, std::forward<Args>(args)...);
}

}  // namespace zkr::detail
