// The one place where a completion token meets a compiled operation body.
//
// Every public async_* function is a thin template that turns the caller's token into an
// any_completion_handler and hands it to an out-of-line function compiled into libzkr. This keeps
// Asio's templates out of users' builds and the logic in ordinary .cpp files.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include <utility>

namespace zkr::detail {

template <class Signature>
using handler = boost::asio::any_completion_handler<Signature>;

/// Starts the operation `body(handler, args...)` for `token`. `body` must be cheap to copy.
template <class Signature, class Token, class Body, class... Args>
auto initiate(Token&& token, Body body, Args&&... args) {
    return boost::asio::async_initiate<Token, Signature>(
        [body](handler<Signature> h, auto&&... a) {
            body(std::move(h), std::forward<decltype(a)>(a)...);
        },
        token, std::forward<Args>(args)...);
}

}  // namespace zkr::detail
