// Fan-out over the members of a lock group: release all and wait for all, wait for the first
// loss, or guard one transaction with every member's node.
#include "access.hpp"
#include "lock_state.hpp"
#include "on_held.hpp"

#include <zkr/lock_group.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/system_executor.hpp>

#include <algorithm>
#include <mutex>

namespace zkr {
namespace detail {

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

/// The first member to answer (a loss, a revocation request) wins. The other members' waits
/// stay pending until the group is released (they complete into a decided race): cancelling them
/// from here would emit cancellation signals across the members' strands, which Asio does not
/// allow.
struct first_answer {
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

/// The members of a lock_group, and the fan-out of the handle operations over them.
struct group_state {
    std::vector<lock> locks;

    bool empty() const noexcept { return locks.empty(); }

    /// Releases every member; the first error, once all have answered.
    void release(handler<void(error_code)> h) {
        auto join = std::make_shared<join_all>();
        join->left = locks.size();
        join->done = pending_handler<void(error_code)>(std::move(h), locks.front().get_executor());
        for (auto& l : locks) {
            l.async_release([join](error_code ec) { join->arrived(ec); });
        }
    }

    /// The first member's loss.
    void wait_lost(handler<void(error_code)> h) {
        first_of(std::move(h), [](lock& l, auto done) { l.async_wait_lost(std::move(done)); });
    }

    /// The first member's revocation request (or loss).
    void wait_revocation(handler<void(error_code)> h) {
        first_of(std::move(h),
                 [](lock& l, auto done) { l.async_wait_revocation(std::move(done)); });
    }

    /// The first member's answer to `wait(member, done)`.
    template <class Wait>
    void first_of(handler<void(error_code)> h, Wait wait) {
        auto race = std::make_shared<first_answer>();
        race->left = locks.size();
        auto slot = boost::asio::get_associated_cancellation_slot(h);
        race->done = pending_handler<void(error_code)>(std::move(h), locks.front().get_executor());
        if (slot.is_connected()) {
            slot.assign([weak = std::weak_ptr<first_answer>(race)](boost::asio::cancellation_type) {
                if (auto r = weak.lock()) {
                    r->cancel();
                }
            });
        }
        for (auto& l : locks) {
            wait(l, [race](error_code ec) { race->arrived(ec); });
        }
    }

    /// One check per member (guarded_multi), on the first member's session.
    void guarded_multi(std::vector<op> ops, handler<void(error_code, std::vector<op_result>)> h) {
        std::vector<std::shared_ptr<lock_state>> guards;
        for (const auto& l : locks) {
            const auto& state = access::get_impl(l);
            if (!state) {
                fail(std::move(h), boost::asio::system_executor(),
                     make_error_code(errc::not_owner));
                return;
            }
            guards.push_back(state);
        }
        detail::guarded_multi(guards, std::move(ops), std::move(h));
    }
};

}  // namespace detail

lock_group::lock_group() noexcept = default;
lock_group::lock_group(std::vector<lock> locks)
    : impl_(std::make_shared<detail::group_state>(detail::group_state{std::move(locks)})) {}
lock_group::lock_group(lock_group&&) noexcept = default;

lock_group& lock_group::operator=(lock_group&& other) noexcept {
    if (this != &other) {
        impl_ = std::move(other.impl_);  // the old members' handles release on destruction
    }
    return *this;
}

lock_group::~lock_group() = default;

bool lock_group::owns() const noexcept {
    return size() > 0 && std::ranges::all_of(impl_->locks, [](const lock& l) { return l.owns(); });
}

std::size_t lock_group::size() const noexcept {
    return impl_ ? impl_->locks.size() : 0;
}

const std::vector<lock>& lock_group::locks() const noexcept {
    static const std::vector<lock> none;
    return impl_ ? impl_->locks : none;
}

std::int64_t lock_group::fencing_token() const noexcept {
    return size() > 0 ? impl_->locks.front().fencing_token() : 0;
}

error_code lock_group::lost_reason() const {
    for (const auto& l : locks()) {
        if (auto ec = l.lost_reason()) {
            return ec;
        }
    }
    return {};
}

sequencer lock_group::sequencer() const {
    return size() > 0 ? impl_->locks.front().sequencer() : zkr::sequencer{};
}

bool lock_group::revocation_requested() const noexcept {
    return std::ranges::any_of(locks(), [](const lock& l) { return l.revocation_requested(); });
}

void lock_group::initiate_release(const impl_ptr& impl, detail::handler<void(error_code)> h) {
    detail::on_held(impl, std::move(h), [](auto& g, auto h) { g.release(std::move(h)); });
}

void lock_group::initiate_wait_lost(const impl_ptr& impl, detail::handler<void(error_code)> h) {
    detail::on_held(impl, std::move(h), [](auto& g, auto h) { g.wait_lost(std::move(h)); });
}

void lock_group::initiate_wait_revocation(const impl_ptr& impl,
                                          detail::handler<void(error_code)> h) {
    detail::on_held(impl, std::move(h), [](auto& g, auto h) { g.wait_revocation(std::move(h)); });
}

void lock_group::initiate_guarded_multi(
    const impl_ptr& impl, std::vector<op> ops,
    detail::handler<void(error_code, std::vector<op_result>)> h) {
    detail::on_held(impl, std::move(h),
                    [&](auto& g, auto h) { g.guarded_multi(std::move(ops), std::move(h)); });
}

}  // namespace zkr
