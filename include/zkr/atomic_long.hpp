// zkr::atomic_long: a 64-bit counter many processes share, in Apache Curator's
// DistributedAtomicLong layout (the node's data is the value, 8 bytes big-endian; no node, or no
// data, is 0), so Curator processes change the same counter.
//
// Every change is a compare-and-set on the node's version, retried with the fresh value until it
// lands (Curator's optimistic mode; zkr needs no lock to fall back on: a write whose answer was
// lost is found out by the version it left). docs/counters.md has the costs under contention.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace zkr {

class session;
namespace detail {
class session_seam;
struct access;
struct atomic_long_impl;
}  // namespace detail

/// What a change did: the value before it and after it (Curator's AtomicValue).
struct atomic_change {
    std::int64_t before = 0;
    std::int64_t after = 0;
};

/// A shared 64-bit counter (see the file comment). Executor, errors and thread safety as for
/// zkr::shared_count (errc::not_a_counter: the node holds data that is neither empty nor 8
/// bytes).
class ZKR_API atomic_long {
  public:
    /// Nothing is sent here.
    atomic_long(session& s, std::string path);
    atomic_long(atomic_long&&) noexcept;
    atomic_long& operator=(atomic_long&&) noexcept;
    ~atomic_long();

    const std::string& path() const noexcept;

    /// The value. Handler signature: void(error_code, std::int64_t).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_get(Token&& token = {}) {
        return detail::initiate<void(error_code, std::int64_t)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_get(impl, std::move(h)); });
    }

    /// Adds `delta` (wrapping as Java's long does, as Curator's does).
    /// Handler signature: void(error_code, atomic_change).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_add(std::int64_t delta, Token&& token = {}) {
        return detail::initiate<void(error_code, atomic_change)>(
            std::forward<Token>(token),
            [impl = impl_, delta](auto h) { initiate_add(impl, delta, std::move(h)); });
    }

    /// Sets `value` whatever it was. Handler signature: void(error_code, atomic_change).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_set(std::int64_t value, Token&& token = {}) {
        return detail::initiate<void(error_code, atomic_change)>(
            std::forward<Token>(token),
            [impl = impl_, value](auto h) { initiate_set(impl, value, std::move(h)); });
    }

    /// Sets `value` only if the counter holds `expected` now.
    /// Handler signature: void(error_code, bool set, atomic_change): `before` is the value found.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_compare_and_set(std::int64_t expected, std::int64_t value,
                                             Token&& token = {}) {
        return detail::initiate<void(error_code, bool, atomic_change)>(
            std::forward<Token>(token), [impl = impl_, expected, value](auto h) {
                initiate_compare_and_set(impl, expected, value, std::move(h));
            });
    }

  private:
    friend struct detail::access;
    atomic_long(std::shared_ptr<detail::session_seam> s, std::string path);

    using impl_ptr = std::shared_ptr<detail::atomic_long_impl>;
    static void initiate_get(const impl_ptr&, detail::handler<void(error_code, std::int64_t)>);
    static void initiate_add(const impl_ptr&, std::int64_t delta,
                             detail::handler<void(error_code, atomic_change)>);
    static void initiate_set(const impl_ptr&, std::int64_t value,
                             detail::handler<void(error_code, atomic_change)>);
    static void initiate_compare_and_set(const impl_ptr&, std::int64_t expected, std::int64_t value,
                                         detail::handler<void(error_code, bool, atomic_change)>);

    impl_ptr impl_;
};

}  // namespace zkr
