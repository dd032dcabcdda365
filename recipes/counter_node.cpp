// The compare-and-set of both counters (counter_node.hpp).
#include "counter_node.hpp"

#include <zkr/watch.hpp>

namespace zkr::detail {

namespace asio = boost::asio;

asio::awaitable<std::tuple<error_code, counter_node>> read_counter(session_ptr s, std::string path,
                                                                   std::uint64_t generation) {
    auto [ec, read] = co_await call_retrying<void(error_code, node_data)>(
        s, [&](auto h) { s->get_data(path, std::move(h)); }, generation);
    if (ec == zk_errc::no_node) {
        co_return std::tuple{error_code{}, counter_node{}};
    }
    co_return std::tuple{ec, counter_node{std::move(read.data), read.stat.version}};
}

namespace {

/// Sends the write once: the version it left, or its error. A create is tried first, and its
/// missing parents made only when it says so (Curator's creatingParentContainersIfNeeded).
asio::awaitable<std::tuple<error_code, int>> send_write(session_ptr s, const std::string& path,
                                                        int expected, const std::string& data) {
    if (expected >= 0) {
        auto [ec, st] = co_await call<void(error_code, stat)>(
            [&](auto h) { s->set_data(path, data, expected, std::move(h)); });
        co_return std::tuple{ec, st.version};
    }
    auto create = [&] {
        return call<void(error_code, created_node)>(
            [&](auto h) { s->create(path, data, create_mode::persistent, std::move(h)); });
    };
    auto [ec, created] = co_await create();
    if (ec == zk_errc::no_node) {
        if (auto parents_ec = co_await ensure_path(s, std::string(parent_path(path)))) {
            co_return std::tuple{parents_ec, -1};
        }
        std::tie(ec, created) = co_await create();
    }
    co_return std::tuple{ec, 0};
}

}  // namespace

asio::awaitable<std::tuple<error_code, bool, int>> write_counter_if(session_ptr s, std::string path,
                                                                    int expected, std::string data,
                                                                    std::uint64_t generation) {
    if (generation == 0) {
        generation = s->generation();
    }
    for (;;) {
        if (auto ended = ended_since(*s, generation)) {
            co_return std::tuple{ended, false, -1};
        }
        auto [ec, version] = co_await send_write(s, path, expected, data);
        if (!ec) {
            co_return std::tuple{error_code{}, true, version};
        }
        if (ec == zk_errc::bad_version || ec == zk_errc::node_exists ||
            (ec == zk_errc::no_node && expected >= 0)) {
            co_return std::tuple{error_code{}, false, -1};  // another writer came first
        }
        if (ec == zk_errc::no_node) {
            continue;  // our container parent went empty and was removed meanwhile: again
        }
        if (!is_retryable(ec)) {
            co_return std::tuple{ec, false, -1};
        }
        if (auto end = co_await wait_connected(s, generation)) {
            co_return std::tuple{end, false, -1};
        }
        // The answer was lost: did the write land? An unchanged version says it did not;
        // another version with other data, that another writer came first. The next version
        // with our bytes cannot say: another writer who read what we read and asked for the
        // same change wrote exactly that (two adders of one delta, measured around server
        // restarts). Claiming it would count one change twice: it is in doubt.
        auto [read_ec, now] = co_await read_counter(s, path, generation);
        if (read_ec) {
            co_return std::tuple{read_ec, false, -1};
        }
        if (now.version == expected + 1 && now.data == data) {
            co_return std::tuple{make_error_code(errc::outcome_unknown), false, -1};
        }
        if (now.version != expected) {
            co_return std::tuple{error_code{}, false, -1};
        }
        // Unchanged: it never arrived. Sent again.
    }
}

asio::awaitable<std::tuple<error_code, counter_node, counter_node>> update_counter(
    session_ptr s, std::string path, counter_step step) {
    const auto generation = s->generation();
    for (;;) {
        auto [ec, current] = co_await read_counter(s, path, generation);
        std::string next;
        if (!ec) {
            ec = step(current, next);
        }
        if (ec) {
            co_return std::tuple{ec, counter_node{}, counter_node{}};
        }
        auto [write_ec, written, version] =
            co_await write_counter_if(s, path, current.version, next, generation);
        if (write_ec || written) {
            co_return std::tuple{write_ec, std::move(current),
                                 counter_node{std::move(next), version}};
        }
        // Another writer came first: again, with the fresh value.
    }
}

asio::awaitable<std::tuple<error_code, counter_node>> wait_counter_change(session_ptr s,
                                                                          std::string path,
                                                                          int seen_version) {
    const auto aborted = [] {
        // Dropping the watch removes it.
        return std::tuple{make_error_code(asio::error::operation_aborted), counter_node{}};
    };
    for (;;) {
        auto [ec, read, w] = co_await call_retrying<void(error_code, node_data, watch)>(
            s, [&](auto h) { s->watch_data(path, std::move(h)); });
        if (co_await cancellation_requested()) {
            co_return aborted();
        }
        if (ec == zk_errc::no_node) {
            if (seen_version != -1) {
                co_return std::tuple{error_code{}, counter_node{}};  // deleted since
            }
            // No data to watch yet: its creation, then.
            auto [exists_ec, st, created] =
                co_await call_retrying<void(error_code, std::optional<stat>, watch)>(
                    s, [&](auto h) { s->watch_exists(path, std::move(h)); });
            if (co_await cancellation_requested()) {
                co_return aborted();
            }
            if (exists_ec) {
                co_return std::tuple{exists_ec, counter_node{}};
            }
            if (st) {
                continue;  // created meanwhile: read it
            }
            w = std::move(created);
        } else if (ec) {
            co_return std::tuple{ec, counter_node{}};
        } else if (read.stat.version != seen_version) {
            co_return std::tuple{error_code{},
                                 counter_node{std::move(read.data), read.stat.version}};
        }
        auto [wait_ec, event] = co_await w.async_wait(use_tuple);
        if (wait_ec == asio::error::operation_aborted || is_session_lost(wait_ec)) {
            co_return std::tuple{wait_ec, counter_node{}};
        }
        // Changed, created, deleted, or the connection dropped: look again.
    }
}

}  // namespace zkr::detail
