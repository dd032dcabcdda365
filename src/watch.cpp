#include "watch_state.hpp"

#include "session_seam.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>

namespace zkr {
namespace detail {

namespace asio = boost::asio;

void watch_state::deliver(error_code ec, watch_event event) {
    if (result || (consumed.load() && !waiter)) {
        return;
    }
    if (waiter) {
        consumed = true;
        auto h = std::move(waiter);
        std::move(h)(ec, std::move(event));
    } else {
        result.emplace(ec, std::move(event));
    }
}

void watch_state::wait_here(handler<void(error_code, watch_event)> h) {
    if (consumed.load() || waiter) {
        asio::post(executors->via, [h = std::move(h)]() mutable {
            std::move(h)(make_error_code(errc::invalid_argument), watch_event{});
        });
        return;
    }
    if (result) {
        consumed = true;
        asio::post(executors->via, [h = std::move(h), r = std::move(*result)]() mutable {
            std::move(h)(r.first, std::move(r.second));
        });
        return;
    }
    waiter.swap(h);  // Boost 1.81's any_completion_handler move assignment recurses forever
}

void watch_state::cancel_here() {
    if (waiter) {
        asio::post(executors->via, [h = std::move(waiter)]() mutable {
            std::move(h)(make_error_code(asio::error::operation_aborted), watch_event{});
        });
    }
    consumed = true;
    if (c_context != nullptr) {
        if (auto s = session.lock()) {
            s->remove_watch(shared_from_this());
        }
    }
}

void watch_state::wait(handler<void(error_code, watch_event)> h) {
    auto slot = asio::get_associated_cancellation_slot(h);
    // The user's handler is posted to its own executor, never run inside a C-client call.
    auto posting = adapt<void(error_code, watch_event), void(error_code, watch_event)>(
        std::move(h), *executors, [](auto& pending, error_code ec, watch_event event) {
            pending.complete(ec, std::move(event));
        });
    if (slot.is_connected()) {
        slot.assign([weak = weak_from_this()](asio::cancellation_type) {
            if (auto self = weak.lock()) {
                asio::post(self->executors->via, [self] {
                    if (self->waiter) {
                        self->cancel_here();
                    }
                });
            }
        });
    }
    asio::post(executors->via, [self = shared_from_this(), h = std::move(posting)]() mutable {
        self->wait_here(std::move(h));
    });
}

void watch_state::cancel() {
    asio::post(executors->via, [self = shared_from_this()] { self->cancel_here(); });
}

}  // namespace detail

watch::watch() noexcept = default;
watch::watch(std::shared_ptr<detail::watch_state> state) noexcept : impl_(std::move(state)) {}
watch::watch(watch&&) noexcept = default;

namespace {

/// Drops an unconsumed watch; best effort, never throwing out of a destructor.
void abandon(const std::shared_ptr<detail::watch_state>& state) noexcept {
    if (state && state->armed()) {
        try {
            state->cancel();
        } catch (...) {
        }
    }
}

}  // namespace

watch& watch::operator=(watch&& other) noexcept {
    if (this != &other) {
        abandon(impl_);
        impl_ = std::move(other.impl_);
    }
    return *this;
}

watch::~watch() {
    abandon(impl_);
}

bool watch::armed() const noexcept {
    return impl_ && impl_->armed();
}

void watch::initiate_wait(const impl_ptr& impl, detail::handler<void(error_code, watch_event)> h) {
    if (!impl) {
        // An empty watch belongs to no session: complete through the system executor.
        detail::fail(std::move(h), boost::asio::system_executor(),
                     make_error_code(errc::invalid_argument));
        return;
    }
    impl->wait(std::move(h));
}

}  // namespace zkr
