// Reading a lock directory: who holds, who waits, in order.
//
// Works on any directory of the queue recipes (mutex, shared_mutex, election, the semaphore's
// "locks"), with zkr's, Curator's and kazoo's node names. This is what `zkr status` shows.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace zkr {

class session;
namespace detail {}

/// One contender in a lock directory.
struct queue_entry {
    std::string node;  ///< child name, e.g. "_c_<uuid>-lock-0000000007"
    std::string kind;  ///< one of zkr::names::kinds::all: "lock", "read", "write", "latch"
    std::int64_t sequence = 0;
    bool holds = false;           ///< not blocked by anyone ahead (the holder, or a sharing reader)
    std::int64_t session_id = 0;  ///< the owning session (ephemeralOwner)
    std::int64_t ctime = 0;       ///< creation time, ms since the epoch (server clock)
    std::int64_t czxid = 0;       ///< its fencing token
    std::string data;             ///< what the contender stored (host:pid, participant id...)
    std::int32_t data_version = 0;  ///< writes to its data since it was created (a leader's
                                    ///< publications: leadership::async_publish)
};

namespace detail {
ZKR_API void initiate_read_queue(session& s, std::string path, bool with_data,
                                 handler<void(error_code, std::vector<queue_entry>)> h);
}

/// Both read through `s`, which must be valid until the operation is initiated (as an Asio
/// stream for its free functions); the operation then keeps what it needs of the session.
///
/// Reads the contenders of `path` in queue order (an empty list if it does not exist). Names of
/// no known scheme are left out; contenders that vanish while being read are skipped.
/// Handler signature: void(error_code, std::vector<queue_entry>).
template <class Token = boost::asio::deferred_t>
[[nodiscard]] auto async_read_queue(session& s, std::string path, Token&& token = {});

/// The contenders of `path` in queue order from the directory listing alone: one request
/// whatever the queue's length (async_read_queue reads every contender's node as well).
/// session_id, ctime, czxid and data are left empty.
/// Handler signature: void(error_code, std::vector<queue_entry>).
template <class Token = boost::asio::deferred_t>
[[nodiscard]] auto async_list_queue(session& s, std::string path, Token&& token = {});

}  // namespace zkr

#include <zkr/session.hpp>

template <class Token>
auto zkr::async_read_queue(session& s, std::string path, Token&& token) {
    return detail::initiate<void(error_code, std::vector<queue_entry>)>(
        std::forward<Token>(token),
        [&s](auto h, std::string p) {
            detail::initiate_read_queue(s, std::move(p), true, std::move(h));
        },
        std::move(path));
}

template <class Token>
auto zkr::async_list_queue(session& s, std::string path, Token&& token) {
    return detail::initiate<void(error_code, std::vector<queue_entry>)>(
        std::forward<Token>(token),
        [&s](auto h, std::string p) {
            detail::initiate_read_queue(s, std::move(p), false, std::move(h));
        },
        std::move(path));
}
