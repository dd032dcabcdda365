// What a two-phase commit writes, byte by byte (docs/two-phase-commit.md, "Layout"): the
// transaction node's data, the vote and decision words, and the names it accepts. Pure: no I/O.
#pragma once

#include <zkr/two_phase_commit.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zkr::detail {

/// The first bytes of a transaction node's data: "ZTX" and the layout's version, 1.
inline constexpr std::string_view transaction_magic{"ZTX\x01", 4};

/// The transaction node's data: magic, deadline (int64 big-endian, ms since the Unix epoch),
/// participant count (uint32 big-endian), each name as a uint16 big-endian length and its bytes,
/// then the proposal to the end. `t.id` is the node's name, not stored.
std::string encode_transaction(const transaction& t);

/// The inverse of encode_transaction, strictly: errc::not_a_transaction for any other bytes (a
/// bad magic or version, a length past the end, no participant, a name empty, invalid or twice).
error_code decode_transaction(std::string_view data, transaction& out);

/// Participants a proposal may name: errc::invalid_argument for none or a name twice,
/// errc::invalid_path for a name that makes no node name ("vote-<name>") or is over 65535 bytes.
error_code check_participants(const std::vector<std::string>& participants);

/// A vote's or a decision's data: "commit" or "abort".
std::string_view word_of(transaction_vote vote) noexcept;
std::string_view word_of(transaction_outcome decided) noexcept;
/// The word as a decision (commit or abort); nullopt for anything else.
std::optional<transaction_outcome> outcome_of(std::string_view word) noexcept;

}  // namespace zkr::detail
