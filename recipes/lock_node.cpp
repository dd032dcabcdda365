#include "lock_node.hpp"
#include "contender.hpp"
#include "path.hpp"

#include <zkr/names.hpp>

#include <algorithm>
#include <charconv>

namespace zkr::detail {

namespace {

namespace asio = boost::asio;

using result = std::tuple<error_code, lock_node>;

error_code not_a_lock_node() {
    return make_error_code(errc::not_a_lock_node);
}

/// A semaphore's lease ("<sem>/leases/_c_<uuid>-lease-<seq>"): its sequence, or nullopt.
std::optional<std::int64_t> lease_sequence(std::string_view node) {
    const auto name = node_name(node);
    const auto marker = name.rfind(names::lease_marker);
    if (node_name(parent_path(node)) != names::semaphore_leases ||
        !name.starts_with(names::protection_prefix) || marker == std::string_view::npos) {
        return std::nullopt;
    }
    const auto digits = name.substr(marker + names::lease_marker.size());
    std::int64_t seq = 0;
    const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
    if (err != std::errc{} || end != digits.data() + digits.size() || digits.empty()) {
        return std::nullopt;
    }
    return seq;
}

/// A lease holds while it is among the semaphore's first `max` leases by sequence: the queue's
/// head adds its leases last and waits while they do not fit (recipes/semaphore.cpp). Exact for
/// single-lease acquisitions (zkr semaphore, Curator's); a head that waits for several leases
/// while fewer than `max` are held may have some counted as holding early.
asio::awaitable<bool> lease_holds(session_ptr s, std::string_view node, std::int64_t sequence) {
    const auto leases_dir = std::string(parent_path(node));
    const auto semaphore_path = std::string(parent_path(leases_dir));
    auto [dec, data] = co_await call_retrying<void(error_code, node_data)>(
        s, [&](auto h) { s->get_data(semaphore_path, std::move(h)); });
    int max = 0;
    const auto* end = data.data.data() + data.data.size();
    if (dec || std::from_chars(data.data.data(), end, max).ptr != end || max < 1) {
        co_return false;  // no maximum to judge by: vouch for nothing
    }
    auto [lec, kids] = co_await call_retrying<void(error_code, children)>(
        s, [&](auto h) { s->get_children(leases_dir, std::move(h)); });
    if (lec) {
        co_return false;
    }
    std::size_t ahead = 0;
    for (const auto& name : kids.names) {
        const auto seq = lease_sequence(join_path(leases_dir, name));
        ahead += seq && *seq < sequence ? 1 : 0;
    }
    co_return ahead < static_cast<std::size_t>(max);
}

/// A contender in a semaphore's queue ("<sem>/locks/...-lock-<seq>" beside "<sem>/leases"): a
/// turn to create leases, not a lock.
asio::awaitable<bool> in_semaphore_queue(session_ptr s, std::string_view node) {
    const auto dir = parent_path(node);
    if (node_name(dir) != names::semaphore_queue) {
        co_return false;
    }
    const auto leases = join_path(parent_path(dir), names::semaphore_leases);
    auto [ec, st] = co_await call_retrying<void(error_code, std::optional<zkr::stat>)>(
        s, [&](auto h) { s->exists(leases, std::move(h)); });
    co_return !ec && st.has_value();
}

}  // namespace

asio::awaitable<result> inspect_lock_node(session_ptr s, std::string node, bool with_holding) {
    lock_node out;
    const auto name = node_name(node);
    const auto contender = parse_contender(name);
    const auto lease = contender ? std::nullopt : lease_sequence(node);
    if (!contender && !lease) {
        co_return result{not_a_lock_node(), out};
    }
    auto [ec, st] = co_await call_retrying<void(error_code, std::optional<zkr::stat>)>(
        s, [&](auto h) { s->exists(node, std::move(h)); });
    if (ec) {
        co_return result{ec, out};
    }
    if (!st) {
        co_return result{make_error_code(zk_errc::no_node), out};
    }
    if (st->ephemeral_owner == 0) {
        co_return result{not_a_lock_node(), out};  // named like one, but no contender
    }
    out.stat = *st;
    if (lease) {
        out.role = lease_role;
        out.holds = with_holding && co_await lease_holds(s, node, *lease);
        co_return result{error_code{}, out};
    }
    out.role = contender->role;
    if (out.role == names::kinds::lock && co_await in_semaphore_queue(s, node)) {
        out.role = semaphore_queue_role;
    }
    if (with_holding && out.role != semaphore_queue_role) {
        const auto dir = std::string(parent_path(node));
        auto [lec, kids] = co_await call_retrying<void(error_code, children)>(
            s, [&](auto h) { s->get_children(dir, std::move(h)); });
        if (lec) {
            co_return result{lec, out};
        }
        out.holds = evaluate(kids.names, name).acquired;
    }
    co_return result{error_code{}, out};
}

}  // namespace zkr::detail
