// zkr::sequencer: what a lock holder hands a resource so that the resource can ask ZooKeeper
// whether that holder still holds (Chubby's sequencer, Burrows, OSDI 2006, §2.4).
//
// A fencing token alone lets a resource compare numbers: it refuses a token lower than the
// highest it has seen, but it cannot tell that the holder of the highest one lost its lock a
// moment ago. A sequencer names the holder's node as well, and async_check asks ZooKeeper, after
// a sync, whether that node still exists with the same creation zxid. A resource about to do
// something it cannot undo checks first; a shell step does the same with `zkr check`.
//
// The check answers for the moment the server handled it: a holder can lose its lock right after.
// It narrows the window, it does not close it; tokens compared by the resource close it.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zkr {

class session;

struct sequencer {
    std::string node;        ///< full path of the holder's lock node
    std::int64_t token = 0;  ///< its fencing token: the node's czxid

    /// "zkr-seq-1:<token>:<node>", safe in an environment variable or a command line.
    ZKR_API std::string to_string() const;
    /// The inverse of to_string; nullopt for anything else (a malformed path included).
    ZKR_API static std::optional<sequencer> parse(std::string_view text);

    friend bool operator==(const sequencer&, const sequencer&) = default;
};

namespace detail {
ZKR_API void initiate_check_sequencer(session& s, sequencer seq, handler<void(error_code)> h);
}

/// Asks ZooKeeper whether `seq`'s holder still holds: after a sync (so that the server answering
/// has seen every write before the check), its node must exist with creation zxid `seq.token`,
/// be ephemeral, and hold: nothing ahead of it in its queue (the head of a mutex's or an
/// election's queue, a reader with no writer ahead, a lease among the semaphore's first
/// maximum by sequence). Two or three reads after the sync.
///
/// Handler signature: void(error_code): success while the holder holds; errc::lock_lost once
/// it does not (node gone, created again since, or waiting behind another); errc::not_a_lock_node
/// for a node of no lock recipe (a persistent node, a lock directory); errc::invalid_path for a
/// malformed node path; the session's errors. Waits through connection loss. Not cancellable.
/// `s` must be valid until the operation is initiated.
template <class Token = boost::asio::deferred_t>
[[nodiscard]] auto async_check(session& s, sequencer seq, Token&& token = {}) {
    return detail::initiate<void(error_code)>(
        std::forward<Token>(token),
        [&s](auto h, sequencer q) {
            detail::initiate_check_sequencer(s, std::move(q), std::move(h));
        },
        std::move(seq));
}

}  // namespace zkr
