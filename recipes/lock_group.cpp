// Fan-out over the members of a lock group: release all and wait for all, or wait for the first
// loss and stop watching the others.
#include "lock_state.hpp"

#include <zkr/lock_group.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/system_executor.hpp>

#include <algorithm>
#include <mutex>

namespace zkr {
namespace detail {

struct group_state {
    std::vector<lock> locks;
};

namespace {

/// Completes once, when `expected` members have answered; keeps the first error. Members may
/// complete on different sessions' strands, hence the mutex.
struct join_all {
    std::mutex mutex;
    std::size_t left;
    error_code first_error;
    pending_handler<void(error_code)> done;

    void arrived(error_code ec) {
        std::lock_guard lock(mutex);
        if (ec && !first_error) {
            first_error = ec;
        }
        if (--left == 0) {
            done.complete(first_error);
        }
    }
};

/// The first member to report a loss wins. The other members' waits stay pending until the
/// group is released (they complete into a decided race): cancelling them from here would emit
/// cancellation signals across the members' strands, which Asio does not allow.
struct first_loss {
    std::mutex mutex;
    bool completed = false;
    std::size_t left;
    pending_handler<void(error_code)> done;

    /// A member's report. Its own abort (the group was released) decides only when it is the
    /// last one standing.
    void arrived(error_code ec) {
        std::lock_guard lock(mutex);
        --left;
        if (!completed && (ec != boost::asio::error::operation_aborted || left == 0)) {
            completed = true;
            done.complete(ec);
        }
    }

    /// The user's cancellation.
    void cancel() {
        std::lock_guard lock(mutex);
        if (!completed) {
            completed = true;
            done.complete(make_error_code(boost::asio::error::operation_aborted));
        }
    }
};

}  // namespace
}  // namespace detail

lock_group::lock_group() noexcept = default;
lock_group::lock_group(std::vector<lock> locks)
    : state_(std::make_shared<detail::group_state>(detail::group_state{std::move(locks)})) {}
lock_group::lock_group(lock_group&&) noexcept = default;

lock_group& lock_group::operator=(lock_group&& other) noexcept {
    if (this != &other) {
        state_ = std::move(other.state_);  // the old members' handles release on destruction
    }
    return *this;
}

lock_group::~lock_group() = default;

bool lock_group::owns() const noexcept {
    return size() > 0 && std::ranges::all_of(state_->locks, [](const lock& l) { return l.owns(); });
}

std::size_t lock_group::size() const noexcept {
    return state_ ? state_->locks.size() : 0;
}

const std::vector<lock>& lock_group::locks() const noexcept {
    static const std::vector<lock> none;
    return state_ ? state_->locks : none;
}

std::int64_t lock_group::fencing_token() const noexcept {
    return size() > 0 ? state_->locks.front().fencing_token() : 0;
}

error_code lock_group::lost_reason() const {
    for (const auto& l : locks()) {
        if (auto ec = l.lost_reason()) {
            return ec;
        }
    }
    return {};
}

void lock_group::release_impl(const state_ptr& state, detail::handler<void(error_code)> h) {
    if (!state || state->locks.empty()) {
        detail::fail(std::move(h), boost::asio::system_executor(),
                     make_error_code(errc::not_owner));
        return;
    }
    auto join = std::make_shared<detail::join_all>();
    join->left = state->locks.size();
    join->done = detail::pending_handler<void(error_code)>(std::move(h),
                                                           state->locks.front().get_executor());
    for (auto& l : state->locks) {
        l.async_release([join](error_code ec) { join->arrived(ec); });
    }
}

void lock_group::wait_lost_impl(const state_ptr& state, detail::handler<void(error_code)> h) {
    if (!state || state->locks.empty()) {
        detail::fail(std::move(h), boost::asio::system_executor(),
                     make_error_code(errc::not_owner));
        return;
    }
    auto race = std::make_shared<detail::first_loss>();
    race->left = state->locks.size();
    auto slot = boost::asio::get_associated_cancellation_slot(h);
    race->done = detail::pending_handler<void(error_code)>(std::move(h),
                                                           state->locks.front().get_executor());
    if (slot.is_connected()) {
        slot.assign(
            [weak = std::weak_ptr<detail::first_loss>(race)](boost::asio::cancellation_type) {
                if (auto r = weak.lock()) {
                    r->cancel();
                }
            });
    }
    for (auto& l : state->locks) {
        l.async_wait_lost([race](error_code ec) { race->arrived(ec); });
    }
}

}  // namespace zkr
