// Sequencers: their text form, and the check against the server.
#include "access.hpp"
#include "coroutines.hpp"
#include "lock_node.hpp"
#include "path.hpp"

#include <zkr/sequencer.hpp>

#include <charconv>

namespace zkr {

namespace {

constexpr std::string_view prefix = "zkr-seq-1:";

}  // namespace

std::string sequencer::to_string() const {
    std::string out(prefix);
    out.append(std::to_string(token)).append(":").append(node);
    return out;
}

std::optional<sequencer> sequencer::parse(std::string_view text) {
    if (!text.starts_with(prefix)) {
        return std::nullopt;
    }
    text.remove_prefix(prefix.size());
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    sequencer seq;
    const auto digits = text.substr(0, colon);
    const auto [end, err] =
        std::from_chars(digits.data(), digits.data() + digits.size(), seq.token);
    if (err != std::errc{} || end != digits.data() + digits.size() || seq.token <= 0) {
        return std::nullopt;
    }
    seq.node = std::string(text.substr(colon + 1));
    if (detail::validate_path(seq.node) || seq.node == "/") {
        return std::nullopt;
    }
    return seq;
}

namespace detail {

namespace {

/// Valid only while the sequencer's node holds, as the server sees it after a sync: the same
/// creation (its czxid is the token), and nothing ahead of it in its queue.
boost::asio::awaitable<std::tuple<error_code>> check(session_ptr s, sequencer seq) {
    const auto dir = std::string(parent_path(seq.node));
    auto [sync_ec] =
        co_await call_retrying<void(error_code)>(s, [&](auto h) { s->sync(dir, std::move(h)); });
    if (sync_ec && sync_ec != zk_errc::no_node) {
        co_return sync_ec;
    }
    auto [ec, node] = co_await inspect_lock_node(s, seq.node, true);
    if (ec == zk_errc::no_node) {
        co_return make_error_code(errc::lock_lost);
    }
    if (!ec && node.role == semaphore_queue_role) {
        ec = make_error_code(errc::not_a_lock_node);  // a turn to take leases, not a hold
    }
    if (ec) {
        co_return ec;
    }
    if (node.stat.czxid != seq.token || !node.holds) {
        co_return make_error_code(errc::lock_lost);
    }
    co_return error_code{};
}

}  // namespace

void initiate_check_sequencer(session& public_session, sequencer seq, handler<void(error_code)> h) {
    auto s = access::seam(public_session);
    if (validate_path(seq.node) || seq.node == "/") {
        fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    spawn(s, check(s, std::move(seq)), std::move(h));
}

}  // namespace detail
}  // namespace zkr
