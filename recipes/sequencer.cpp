// Sequencers: their text form, and the check against the server.
#include "access.hpp"
#include "await_ops.hpp"
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

boost::asio::awaitable<std::tuple<error_code>> check(session_ptr s, sequencer seq) {
    const auto dir = std::string(parent_path(seq.node));
    auto [sync_ec] =
        co_await call_retrying<void(error_code)>(s, [&](auto h) { s->sync(dir, std::move(h)); });
    if (sync_ec && sync_ec != zk_errc::no_node) {
        co_return sync_ec;
    }
    auto [ec, st] = co_await call_retrying<void(error_code, std::optional<stat>)>(
        s, [&](auto h) { s->exists(seq.node, std::move(h)); });
    if (ec) {
        co_return ec;
    }
    if (!st || st->czxid != seq.token) {
        co_return make_error_code(errc::lock_lost);
    }
    co_return error_code{};
}

}  // namespace

void check_sequencer_impl(session& public_session, sequencer seq, handler<void(error_code)> h) {
    auto s = access::ops(public_session);
    if (validate_path(seq.node) || seq.node == "/") {
        fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    spawn(s, check(s, std::move(seq)), std::move(h));
}

}  // namespace detail
}  // namespace zkr
