// What both counters (shared_count, atomic_long) are made of: a node whose data is the value,
// read with its version and changed only by a compare-and-set on that version. The layouts (how
// many bytes, what a missing node means) are the callers'; this file knows only bytes.
#pragma once

#include "big_endian.hpp"
#include "coroutines.hpp"
#include "path.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>

namespace zkr::detail {

/// A counter's node as read: its data and its version; version -1 while it does not exist.
struct counter_node {
    std::string data;
    int version = -1;
};

/// Reads the node through connection loss (a missing node is version -1, no error).
boost::asio::awaitable<std::tuple<error_code, counter_node>> read_counter(
    session_ptr s, std::string path, std::uint64_t generation = 0);

/// One compare-and-set: writes `data` only if the node is still at version `expected` (-1: only
/// if it does not exist: it is created, its missing parents as containers, as Curator does).
/// Completes with written = true and the version written, or written = false when another
/// writer changed the node first. A write whose answer was lost is found out by reading again,
/// never sent twice once it landed: a landed write left version expected + 1 and our data; an
/// unchanged version means it never arrived, and it is sent again.
boost::asio::awaitable<std::tuple<error_code, bool, int>> write_counter_if(
    session_ptr s, std::string path, int expected, std::string data, std::uint64_t generation = 0);

/// The next data from the current node, or an error (then nothing is written).
using counter_step = std::function<error_code(const counter_node& current, std::string& next)>;

/// Reads, computes the next data with `step`, writes it with write_counter_if, and starts again
/// with the fresh value until a write lands (2 requests an attempt). Completes with the node
/// before and after the write that landed.
boost::asio::awaitable<std::tuple<error_code, counter_node, counter_node>> update_counter(
    session_ptr s, std::string path, counter_step step);

/// Completes with the node once its version differs from `seen_version` (at once if it does
/// already), watching it meanwhile (one watch: on the data, or on the node's creation while it
/// does not exist). Cancellable: operation_aborted, the watch removed.
boost::asio::awaitable<std::tuple<error_code, counter_node>> wait_counter_change(session_ptr s,
                                                                                 std::string path,
                                                                                 int seen_version);

/// Starts a counter's operation: `body()` (a coroutine) on the driver strand, unless the counter's
/// path is refused (invalid_path, nothing sent). `Impl` holds `session` and `path`.
template <class Impl, class Body, class... Values>
void start_counter(const std::shared_ptr<Impl>& c, Body body,
                   handler<void(error_code, Values...)> h) {
    if (validate_path(c->path) || c->path == "/") {
        fail(std::move(h), c->session->completions(), make_error_code(errc::invalid_path));
        return;
    }
    spawn(c->session, body(), std::move(h));
}

}  // namespace zkr::detail
