// zkr's exit statuses besides the command's own (which it passes on, 128+N if killed by signal N).
#pragma once

namespace zkr::cli {

inline constexpr int exit_usage = 64;
/// Cannot connect, or the session failed before acquiring.
inline constexpr int exit_unavailable = 69;
/// Not acquired: --try found it busy, --timeout passed, or a barrier is still set.
inline constexpr int exit_not_acquired = 75;
/// The lock, lease or leadership was lost while the command ran.
inline constexpr int exit_lost = 76;
inline constexpr int exit_revoked = 77;

}  // namespace zkr::cli
