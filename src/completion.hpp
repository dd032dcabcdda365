// Delivering results to handlers, written once.
//
// Results reach zkr on the session's driver strand. A user's handler runs on its associated
// executor (default: the session's executor), is never invoked inline from the initiating
// function nor inside a C-client call, and its executor keeps outstanding work while the
// operation is pending, so io_context::run() does not return under a waiting operation.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/strand.hpp>

#include <tuple>
#include <type_traits>
#include <utility>

namespace zkr::detail {

/// Where completions go: posted through `via`, an executor that is always served (the session's
/// driver strand: zkr's own thread when the application's may be blocked), then run on the
/// handler's associated executor, or on `fallback` when it has none.
struct completion_executors {
    boost::asio::any_io_executor via;
    boost::asio::any_io_executor fallback;
};

/// `ex` with outstanding work tracked, as an any_completion_executor. That type keeps 24 bytes
/// inline: a strand of an io_context or its plain executor fits, but another type-erased
/// executor (the any_io_executor a coroutine's handler carries, itself wrapped in an
/// any_completion_executor by any_completion_handler) does not and costs a heap allocation per
/// pending operation. The concrete executor inside is taken instead when it is one of those.
template <class Executor>
boost::asio::any_completion_executor tracked_work(const Executor& ex) {
    const auto track = [](const auto& e) -> boost::asio::any_completion_executor {
        return boost::asio::prefer(e, boost::asio::execution::outstanding_work.tracked);
    };
    if constexpr (std::is_same_v<Executor, boost::asio::any_completion_executor>) {
        // A handler that bound an any_io_executor itself: its query gives it wrapped once more.
        if (const auto* inner = ex.template target<boost::asio::any_io_executor>()) {
            return tracked_work(*inner);
        }
    }
    if constexpr (std::is_same_v<Executor, boost::asio::any_completion_executor> ||
                  std::is_same_v<Executor, boost::asio::any_io_executor>) {
        if (auto tracked = with_io_executor<boost::asio::any_completion_executor>(ex, track)) {
            return std::move(*tracked);
        }
    }
    return track(ex);
}

/// `ex` as the candidate executor of a type-erased handler's query: converted to an
/// any_completion_executor without a heap allocation when it holds an io_context executor or a
/// strand of one.
inline boost::asio::any_completion_executor completion_candidate(
    const boost::asio::any_io_executor& ex) {
    auto concrete = with_io_executor<boost::asio::any_completion_executor>(
        ex, [](const auto& e) { return boost::asio::any_completion_executor(e); });
    return concrete ? std::move(*concrete) : boost::asio::any_completion_executor(ex);
}

/// A handler together with a work guard on its executor. Complete it at most once, from any
/// thread.
template <class Signature>
class pending_handler;

template <class... Args>
class pending_handler<void(Args...)> {
  public:
    pending_handler() = default;

    pending_handler(handler<void(Args...)> h, const completion_executors& ex)
        : via_(ex.via),
          work_(tracked_work(
              boost::asio::get_associated_executor(h, completion_candidate(ex.fallback)))),
          handler_(std::move(h)) {}

    /// One executor for both roles (outside a session: the system executor).
    template <class Executor>
    pending_handler(handler<void(Args...)> h, const Executor& ex)
        : pending_handler(std::move(h), completion_executors{ex, ex}) {}

    pending_handler(pending_handler&&) noexcept = default;

    // Boost 1.81's any_completion_handler move assignment copies from an lvalue and recurses
    // without end; move-construct and swap instead.
    pending_handler& operator=(pending_handler&& other) noexcept {
        if (this != &other) {
            via_ = std::move(other.via_);
            work_ = std::move(other.work_);
            handler<void(Args...)> taken(std::move(other.handler_));
            handler_.swap(taken);
        }
        return *this;
    }

    explicit operator bool() const noexcept { return static_cast<bool>(handler_); }

    handler<void(Args...)>& get() noexcept { return handler_; }

    /// Runs the handler with these arguments on its executor, never inline: posted through the
    /// driver strand (which guarantees a later invocation), then dispatched to the handler's
    /// executor. The work guard travels with it until the handler has run.
    template <class... Values>
    void complete(Values&&... values) {
        boost::asio::post(
            via_, boost::asio::bind_executor(
                      std::move(work_),
                      [h = std::move(handler_),
                       args = std::make_tuple(Args(std::forward<Values>(values))...)]() mutable {
                          std::apply(std::move(h), std::move(args));
                      }));
    }

  private:
    boost::asio::any_io_executor via_;
    boost::asio::any_completion_executor work_;
    handler<void(Args...)> handler_;
};

/// A handler of signature `From` that completes `h` (signature `To`) through
/// `convert(pending_handler<To>&, args...)`, keeping h's cancellation slot and executor: for an
/// operation that returns what an inner operation produced, in another shape.
template <class From, class To, class Executors, class Convert>
handler<From> adapt(handler<To> h, const Executors& ex, Convert convert) {
    auto slot = boost::asio::get_associated_cancellation_slot(h);
    return boost::asio::bind_cancellation_slot(
        slot,
        [pending = pending_handler<To>(std::move(h), ex), convert = std::move(convert)](
            auto&&... args) mutable { convert(pending, std::forward<decltype(args)>(args)...); });
}

/// Completes `h` with `ec` and default-constructed values: the shape of every early failure.
template <class... Args, class Executors>
void fail(handler<void(error_code, Args...)> h, const Executors& ex, error_code ec) {
    pending_handler<void(error_code, Args...)>(std::move(h), ex).complete(ec, Args{}...);
}

}  // namespace zkr::detail
