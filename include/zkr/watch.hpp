// A one-shot ZooKeeper watch.
//
// The async_watch_* operations of a session read a node and leave a watch on it; the watch is
// returned as this move-only object. async_wait completes once, when the node changes (or, for
// an exists watch, appears). Destroying a watch that has not fired removes it from the server
// without waiting, so abandoned watches do not accumulate.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <memory>
#include <string>

namespace zkr {

namespace detail {
struct watch_state;
struct access;
}  // namespace detail

enum class watch_event_type { created, deleted, changed, child };

struct watch_event {
    watch_event_type type = watch_event_type::changed;
    std::string path;
};

/// A one-shot watch (see the file comment). Thread safety: async_wait and the destructor may
/// run on different threads; one wait at a time.
class ZKR_API watch {
  public:
    /// An empty watch: armed() is false and async_wait completes with errc::invalid_argument.
    watch() noexcept;
    explicit watch(std::shared_ptr<detail::watch_state> state) noexcept;
    watch(watch&&) noexcept;
    watch& operator=(watch&&) noexcept;
    ~watch();

    /// True if the server holds this watch (the read that set it succeeded) and it has not been
    /// consumed by a completed async_wait.
    bool armed() const noexcept;

    /// Waits for the watched event.
    ///
    /// Handler signature: void(error_code, watch_event).
    /// Executor: the handler's associated executor, by default the session's.
    /// Cancellation: terminal, partial and total. Cancelling completes with
    /// boost::asio::error::operation_aborted and removes the watch from the server.
    /// Errors: zk_errc::session_expired or errc::session_closed when the session ends first.
    /// At most one wait may be outstanding; the watch is consumed when the wait completes.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait(Token&& token = {}) {
        return detail::initiate<void(error_code, watch_event)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_wait(impl, std::move(h)); });
    }

  private:
    friend struct detail::access;
    using impl_ptr = std::shared_ptr<detail::watch_state>;
    static void initiate_wait(const impl_ptr& impl,
                              detail::handler<void(error_code, watch_event)> h);

    impl_ptr impl_;
};

}  // namespace zkr
