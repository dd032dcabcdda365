// zkr::lock, the handle of a held node: its operations run on the lock's state (lock_state.hpp)
// through the helpers every holding handle shares (on_held.hpp).
#include "on_held.hpp"

#include <boost/asio/system_executor.hpp>

namespace zkr {

lock::lock() noexcept = default;
lock::lock(std::shared_ptr<detail::lock_state> state) noexcept : impl_(std::move(state)) {}
lock::lock(lock&&) noexcept = default;

namespace {

/// Starts releasing without waiting; allocation failure at that point leaves the node to the
/// session's end rather than escaping a destructor.
void release_detached(const std::shared_ptr<detail::lock_state>& state) noexcept {
    // Not after an async_release or a loss: nothing of ours is left to delete.
    if (state && state->owns()) {
        try {
            state->release([](error_code) {});
        } catch (...) {
        }
    }
}

}  // namespace

lock& lock::operator=(lock&& other) noexcept {
    if (this != &other) {
        release_detached(impl_);
        impl_ = std::move(other.impl_);
    }
    return *this;
}

lock::~lock() {
    release_detached(impl_);
}

lock::executor_type lock::get_executor() const noexcept {
    if (impl_) {
        return impl_->executor();
    }
    return boost::asio::system_executor();
}

bool lock::owns() const noexcept {
    return impl_ && impl_->owns();
}

const std::string& lock::path() const noexcept {
    static const std::string empty;
    return impl_ ? impl_->path() : empty;
}

std::int64_t lock::fencing_token() const noexcept {
    return impl_ ? impl_->fencing_token() : 0;
}

sequencer lock::sequencer() const {
    return {path(), fencing_token()};
}

error_code lock::lost_reason() const {
    return impl_ ? impl_->lost_reason() : error_code{};
}

void lock::initiate_release(const impl_ptr& impl, detail::handler<void(error_code)> h) {
    detail::on_held(impl, std::move(h), [](auto& s, auto h) { s.release(std::move(h)); });
}

void lock::initiate_wait_lost(const impl_ptr& impl, detail::handler<void(error_code)> h) {
    detail::on_held(impl, std::move(h), [](auto& s, auto h) { s.wait_lost(std::move(h)); });
}

bool lock::revocation_requested() const noexcept {
    return impl_ && impl_->revocation_requested();
}

void lock::initiate_wait_revocation(const impl_ptr& impl, detail::handler<void(error_code)> h) {
    detail::on_held(impl, std::move(h), [](auto& s, auto h) { s.wait_revocation(std::move(h)); });
}

void lock::initiate_guarded_multi(const impl_ptr& impl, std::vector<op> ops,
                                  detail::handler<void(error_code, std::vector<op_result>)> h) {
    detail::on_held(impl, std::move(h), [&](auto& s, auto h) {
        detail::guarded_multi({s.shared_from_this()}, std::move(ops), std::move(h));
    });
}

}  // namespace zkr
