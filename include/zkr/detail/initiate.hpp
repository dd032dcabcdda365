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

#include <optional>
#include <type_traits>
#include <utility>

namespace zkr::detail {

template <class Signature>
using handler = boost::asio::any_completion_handler<Signature>;

template <class T>
inline constexpr bool is_executor_binder_v = false;
template <class T, class Executor>
inline constexpr bool is_executor_binder_v<boost::asio::executor_binder<T, Executor>> = true;

using io_executor = boost::asio::io_context::executor_type;
using io_strand = boost::asio::strand<io_executor>;

/// `f(e)` for the io_context executor, or strand of one, that the type-erased executor `ex` holds;
/// nothing when it holds another type. zkr's executors are of those two types, and unlike an
/// erased executor they fit the inline buffers of Asio's type-erased handlers and executors:
/// taken out, they spare an allocation per operation.
template <class Result, class Erased, class F>
std::optional<Result> with_io_executor(const Erased& ex, F&& f) {
    if (const auto* strand = ex.template target<io_strand>()) {
        return f(*strand);
    }
    if (const auto* io = ex.template target<io_executor>()) {
        return f(*io);
    }
    return std::nullopt;
}

/// `h` type-erased. A handler whose executor is an any_io_executor (a coroutine's) gets the
/// io_context executor or strand inside bound instead: the same executor, but one that
/// any_completion_handler's executor query can hand out without a heap allocation.
template <class Signature, class Handler>
handler<Signature> erase(Handler&& h) {
    // (A handler that binds an executor already is left as it is: Asio would rebind its own.)
    if constexpr (std::is_same_v<boost::asio::associated_executor_t<std::decay_t<Handler>>,
                                 boost::asio::any_io_executor> &&
                  !is_executor_binder_v<std::decay_t<Handler>>) {
        auto bound = with_io_executor<handler<Signature>>(
            boost::asio::get_associated_executor(h), [&](const auto& ex) {
                return handler<Signature>(boost::asio::bind_executor(ex, std::forward<Handler>(h)));
            });
        if (bound) {
            return std::move(*bound);
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
