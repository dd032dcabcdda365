#include "watch_state.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/system_executor.hpp>

namespace zkr {
namespace detail {

void watch_state::deliver(error_code ec, watch_event event) {
    std::lock_guard lock(mutex);
    if (consumed || result) {
        return;
    }
    if (waiter) {
        consumed = true;
        waiter.complete(ec, std::move(event));
    } else {
        result.emplace(ec, std::move(event));
    }
}

void watch_state::wait(handler<void(error_code, watch_event)> h) {
    std::unique_lock lock(mutex);
    if (consumed || waiter) {
        lock.unlock();
        fail(std::move(h), strand, make_error_code(errc::invalid_argument));
        return;
    }
    if (result) {
        consumed = true;
        auto [ec, event] = std::move(*result);
        lock.unlock();
        pending_handler<void(error_code, watch_event)>(std::move(h), strand)
            .complete(ec, std::move(event));
        return;
    }
    auto slot = boost::asio::get_associated_cancellation_slot(h);
    waiter = pending_handler<void(error_code, watch_event)>(std::move(h), strand);
    lock.unlock();
    if (slot.is_connected()) {
        slot.assign([weak = weak_from_this()](boost::asio::cancellation_type) {
            if (auto self = weak.lock()) {
                self->cancel();
            }
        });
    }
}

void watch_state::cancel() {
    void* context = nullptr;
    {
        std::lock_guard lock(mutex);
        if (waiter) {
            consumed = true;
            waiter.complete(make_error_code(boost::asio::error::operation_aborted), watch_event{});
        } else if (!consumed && !result) {
            consumed = true;
        }
        context = c_context;
    }
    if (context != nullptr) {
        if (auto s = session.lock()) {
            s->remove_watch(path, watch_type, context);
        }
    }
}

bool watch_state::armed() {
    std::lock_guard lock(mutex);
    return !consumed;
}

void watch_state::detach_context() {
    std::lock_guard lock(mutex);
    c_context = nullptr;
}

}  // namespace detail

watch::watch() noexcept = default;
watch::watch(std::shared_ptr<detail::watch_state> state) noexcept : state_(std::move(state)) {}
watch::watch(watch&&) noexcept = default;

namespace {

/// Drops an unconsumed watch; best effort, never throwing out of a destructor.
void abandon(const std::shared_ptr<detail::watch_state>& state) noexcept {
    if (state) {
        try {
            state->cancel();
        } catch (...) {
        }
    }
}

}  // namespace

watch& watch::operator=(watch&& other) noexcept {
    if (this != &other) {
        abandon(state_);
        state_ = std::move(other.state_);
    }
    return *this;
}

watch::~watch() {
    abandon(state_);
}

bool watch::armed() const noexcept {
    return state_ && state_->armed();
}

void watch::wait_impl(const std::shared_ptr<detail::watch_state>& state,
                      detail::handler<void(error_code, watch_event)> h) {
    if (!state) {
        // An empty watch belongs to no session: complete through the system executor.
        detail::fail(std::move(h), boost::asio::system_executor(),
                     make_error_code(errc::invalid_argument));
        return;
    }
    state->wait(std::move(h));
}

}  // namespace zkr
