// Reading a queue directory with each contender's data: for `zkr status`, the election's
// participants and current leader, and the tool's progress messages.
#pragma once

#include "coroutines.hpp"

#include <zkr/lock_queue.hpp>

#include <boost/asio/awaitable.hpp>

namespace zkr::detail {

/// How much of each contender to read.
enum class queue_detail {
    all,    ///< every contender with its data (one request per contender)
    head,   ///< the first readable contender only, with its data
    names,  ///< every contender, from the listing alone (one request)
};

/// The contenders of `path` in order (see async_read_queue).
boost::asio::awaitable<std::tuple<error_code, std::vector<queue_entry>>> read_queue(
    session_ptr s, std::string path, queue_detail detail = queue_detail::all);

/// async_read_queue (with_data) and async_list_queue over the recipes' view of a session.
void initiate_read_queue(const session_ptr& s, std::string path, bool with_data,
                         handler<void(error_code, std::vector<queue_entry>)> h);

}  // namespace zkr::detail
