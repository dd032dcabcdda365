// Acquiring several locks, all or nothing.
//
// async_lock_all takes any mix of mutexes and read-write lock sides (shared_mutex::reader(),
// writer()), possibly on different sessions, and acquires them one by one in a canonical order
// (by path), so that two processes locking {A, B} and {B, A} cannot deadlock. If any acquisition
// fails or the operation is cancelled (a timeout with `||` covers the whole acquisition), every
// lock taken so far is released. The result is one lock_group handle that releases them all.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/lock_group.hpp>
#include <zkr/mutex.hpp>

#include <vector>

namespace zkr {

namespace detail {
ZKR_API void initiate_lock_all(std::vector<mutex> mutexes, handler<void(error_code, lock_group)> h);
}

/// Handler signature: void(error_code, lock_group).
/// Errors: errc::invalid_argument for an empty list or a path given twice (it would wait for
/// itself); otherwise the first failing acquisition's error, after releasing what was taken.
/// Cancellation: terminal, partial and total: nothing stays held.
template <class Token = boost::asio::deferred_t>
[[nodiscard]] auto async_lock_all(std::vector<mutex> mutexes, Token&& token = {}) {
    return detail::initiate<void(error_code, lock_group)>(
        std::forward<Token>(token),
        [](auto h, std::vector<mutex> m) { detail::initiate_lock_all(std::move(m), std::move(h)); },
        std::move(mutexes));
}

}  // namespace zkr
