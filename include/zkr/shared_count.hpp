// zkr::shared_count: a 32-bit counter many processes share, in Apache Curator's SharedCount
// layout (the node's data is the value, 4 bytes big-endian), so Curator's SharedCount and
// kazoo's Counter(support_curator=True) read and change the same counter.
//
// Every change is a compare-and-set on the node's version: async_set_if changes the value only
// if nobody changed it since the version the caller read (never a stale version: the version is
// the one read with the value, CURATOR-688), and async_add retries with the fresh value until
// its write lands. A node that does not exist holds the seed; the first write creates it.
// docs/counters.md has the costs under contention.
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
struct shared_count_impl;
}  // namespace detail

/// A value with the node version it was read at: what async_set_if compares.
struct versioned_count {
    std::int32_t value = 0;
    /// The node's data version; -1 while the node does not exist (the value is then the seed).
    int version = -1;

    friend bool operator==(const versioned_count&, const versioned_count&) = default;
};

/// A shared 32-bit counter (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Errors: errc::invalid_path; errc::not_a_counter (the node holds data that is not 4 bytes:
///   nothing is written); zk_errc::no_auth; the session's end. Connection loss is waited out (a
///   write whose answer was lost is found out by reading again: never applied twice);
///   errc::outcome_unknown when the node cannot tell whether it landed (docs/counters.md).
/// - Thread safety: any member from any thread; the object may be dropped while operations run.
class ZKR_API shared_count {
  public:
    /// Nothing is sent here. `seed`: the value while the node does not exist.
    shared_count(session& s, std::string path, std::int32_t seed = 0);
    shared_count(shared_count&&) noexcept;
    shared_count& operator=(shared_count&&) noexcept;
    ~shared_count();

    const std::string& path() const noexcept;

    /// The value and its version. Handler signature: void(error_code, versioned_count).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_get(Token&& token = {}) {
        return detail::initiate<void(error_code, versioned_count)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_get(impl, std::move(h)); });
    }

    /// Sets the value whatever it was. Handler signature: void(error_code, versioned_count): the
    /// value written and its version.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_set(std::int32_t value, Token&& token = {}) {
        return detail::initiate<void(error_code, versioned_count)>(
            std::forward<Token>(token),
            [impl = impl_, value](auto h) { initiate_set(impl, value, std::move(h)); });
    }

    /// Sets `value` only if the counter is still at `expected.version` (-1: only if the node does
    /// not exist yet). Handler signature: void(error_code, bool set, versioned_count now): `now`
    /// is what was written, or, when it was not, the value that won, read fresh.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_set_if(versioned_count expected, std::int32_t value,
                                    Token&& token = {}) {
        return detail::initiate<void(error_code, bool, versioned_count)>(
            std::forward<Token>(token), [impl = impl_, expected, value](auto h) {
                initiate_set_if(impl, expected, value, std::move(h));
            });
    }

    /// Adds `delta` (compare-and-set, retried with the fresh value until it lands).
    /// Handler signature: void(error_code, versioned_count): the value after the addition.
    /// Errors: errc::invalid_argument when the sum leaves int32 (nothing written).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_add(std::int32_t delta, Token&& token = {}) {
        return detail::initiate<void(error_code, versioned_count)>(
            std::forward<Token>(token),
            [impl = impl_, delta](auto h) { initiate_add(impl, delta, std::move(h)); });
    }

    /// Completes with the value once its version differs from `seen.version` (at once if it
    /// does already). One watch while it waits. Handler signature: void(error_code,
    /// versioned_count). Cancellation: terminal, partial and total (operation_aborted; the
    /// watch is removed).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_change(versioned_count seen, Token&& token = {}) {
        return detail::initiate<void(error_code, versioned_count)>(
            std::forward<Token>(token),
            [impl = impl_, seen](auto h) { initiate_wait_change(impl, seen, std::move(h)); });
    }

  private:
    friend struct detail::access;
    shared_count(std::shared_ptr<detail::session_seam> s, std::string path, std::int32_t seed);

    using impl_ptr = std::shared_ptr<detail::shared_count_impl>;
    static void initiate_get(const impl_ptr&, detail::handler<void(error_code, versioned_count)>);
    static void initiate_set(const impl_ptr&, std::int32_t value,
                             detail::handler<void(error_code, versioned_count)>);
    static void initiate_set_if(const impl_ptr&, versioned_count expected, std::int32_t value,
                                detail::handler<void(error_code, bool, versioned_count)>);
    static void initiate_add(const impl_ptr&, std::int32_t delta,
                             detail::handler<void(error_code, versioned_count)>);
    static void initiate_wait_change(const impl_ptr&, versioned_count seen,
                                     detail::handler<void(error_code, versioned_count)>);

    impl_ptr impl_;
};

}  // namespace zkr
