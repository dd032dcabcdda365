// The subcommands' handlers, which the table (commands.cpp) names, and what they share. Each runs
// one subcommand on a connected session and returns zkr's exit status.
#pragma once

#include "exit_status.hpp"
#include "options.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace zkr {
class session;
}

namespace zkr::cli {

// Commands that run CMD while holding something (holding_commands.cpp).
boost::asio::awaitable<int> run_lock(session& s, const options& o);
boost::asio::awaitable<int> run_semaphore(session& s, const options& o);
boost::asio::awaitable<int> run_elect(session& s, const options& o);
// Asking a holder to let go, or taking the lock away (revoke_command.cpp).
boost::asio::awaitable<int> run_revoke(session& s, const options& o);
// Commands that look (looking_commands.cpp).
boost::asio::awaitable<int> run_leader(session& s, const options& o);
boost::asio::awaitable<int> run_status(session& s, const options& o);
boost::asio::awaitable<int> run_members(session& s, const options& o);
boost::asio::awaitable<int> run_check(session& s, const options& o);
// Barriers (barrier_commands.cpp): set, remove and wait; enter runs CMD.
boost::asio::awaitable<int> run_barrier(session& s, const options& o);
boost::asio::awaitable<int> run_barrier_enter(session& s, const options& o);

// Following a node or a directory's children (watch_command.cpp).
boost::asio::awaitable<int> run_watch(session& s, const options& o);
// Keeping a node while CMD runs (node_keep_command.cpp).
boost::asio::awaitable<int> run_node_keep(session& s, const options& o);
// Service discovery: an instance registered while CMD runs (service_register_command.cpp);
// listing, following, disabling and enabling instances (service_commands.cpp).
boost::asio::awaitable<int> run_service_register(session& s, const options& o);
boost::asio::awaitable<int> run_service_list(session& s, const options& o);
boost::asio::awaitable<int> run_service_watch(session& s, const options& o);
boost::asio::awaitable<int> run_service_enabled(session& s, const options& o);
// Shared counters: get, set and add (counter_commands.cpp).
boost::asio::awaitable<int> run_counter(session& s, const options& o);
// Queues: put; take, at most once or (--claim) running CMD on the item; peek and size
// (queue_commands.cpp).
boost::asio::awaitable<int> run_queue_put(session& s, const options& o);
boost::asio::awaitable<int> run_queue_take(session& s, const options& o);
boost::asio::awaitable<int> run_queue_look(session& s, const options& o);

/// The handlers' completion token: results as tuples, errors as values rather than exceptions.
inline constexpr auto tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

/// What the timers wait without --timeout.
inline constexpr auto no_deadline = std::chrono::hours(24 * 365);

/// A session id as ZooKeeper's tools show it.
inline std::string hex(std::int64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

/// The wall clock, as the server's ctime counts (ms since the epoch).
inline std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace zkr::cli
