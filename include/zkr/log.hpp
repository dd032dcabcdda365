// Logging: zkr writes Boost.Log records and never installs sinks or filters.
//
// zkr has a threshold of its own, zkr::log::set_level (default: warning). A record below it is
// never formed: no logger, no formatting, no Boost.Log call. A program that configures nothing
// therefore sees zkr only when something goes wrong, although Boost.Log's default sink (used
// while no sink is configured) prints every record of info and above to std::clog. The ZooKeeper
// C client's own log follows the same threshold.
//
// Every record carries two attributes an application can filter and format on:
// - "Channel" (std::string): one of zkr::log::channels; the keyword zkr::log::channel names it.
// - "Severity" (boost::log::trivial::severity_level); the keyword zkr::log::severity names it.
// Routine events are logged at debug or trace, state changes at info, problems at warning/error.
#pragma once

#include <zkr/export.hpp>

#include <boost/log/expressions/keyword.hpp>
#include <boost/log/trivial.hpp>

#include <string>

namespace zkr::log {

BOOST_LOG_ATTRIBUTE_KEYWORD(channel, "Channel", std::string)
BOOST_LOG_ATTRIBUTE_KEYWORD(severity, "Severity", boost::log::trivial::severity_level)

/// zkr's threshold: records below it are not formed. `off` silences zkr entirely.
enum class level { trace, debug, info, warning, error, off };

/// Sets zkr's threshold for the whole process (every session, the C client's log included).
/// Thread-safe; takes effect for the next record.
ZKR_API void set_level(level l) noexcept;

/// The current threshold (warning unless set_level was called).
ZKR_API level get_level() noexcept;

/// The values of the "Channel" attribute of zkr's records.
namespace channels {
/// Connection and session state changes (info), connect failures (warning, error).
inline constexpr const char* session = "zkr.session";
/// The ZooKeeper C client's own log: its errors and warnings as such, its INFO lines at debug.
inline constexpr const char* client = "zkr.client";
/// Mutexes and read-write locks: acquisition, release, loss, foreign nodes in a lock directory.
inline constexpr const char* mutex = "zkr.mutex";
/// Semaphores.
inline constexpr const char* semaphore = "zkr.semaphore";
/// Leader election: campaigns, leadership, its loss.
inline constexpr const char* election = "zkr.election";
/// async_lock_all over several locks.
inline constexpr const char* multi_lock = "zkr.multi_lock";
/// Group membership: a membership's loss.
inline constexpr const char* group = "zkr.group";
/// Persistent nodes: re-creations (info), a path held by another session (warning), a node that
/// cannot be kept (error).
inline constexpr const char* persistent_node = "zkr.persistent_node";
/// Queues: children of a queue's path that are no items (warning), claims given up.
inline constexpr const char* queue = "zkr.queue";
}  // namespace channels

}  // namespace zkr::log
