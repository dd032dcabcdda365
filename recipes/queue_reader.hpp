// Reading a queue directory with each contender's data: for `zkr status`, the election's
// participants and current leader, and the tool's progress messages.
#pragma once

#include "await_ops.hpp"

#include <zkr/queue.hpp>

#include <boost/asio/awaitable.hpp>

namespace zkr::detail {

/// The contenders of `path` in order (see async_read_queue); with `head_only`, the first
/// readable one only.
boost::asio::awaitable<std::tuple<error_code, std::vector<queue_entry>>> read_queue(
    session_ptr s, std::string path, bool head_only = false);

}  // namespace zkr::detail
