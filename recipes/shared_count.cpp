// zkr::shared_count: Curator's SharedCount layout (4 bytes, big-endian int32) over the
// compare-and-set of counter_node.hpp.
#include "access.hpp"
#include "counter_node.hpp"

#include <zkr/session.hpp>
#include <zkr/shared_count.hpp>

#include <limits>

namespace zkr {
namespace detail {

/// What a zkr::shared_count is made of (its impl_).
struct shared_count_impl {
    session_ptr session;
    std::string path;
    std::int32_t seed;
};

namespace {

namespace asio = boost::asio;

constexpr std::size_t count_bytes = 4;

std::string encode(std::int32_t value) {
    return to_big_endian(static_cast<std::uint32_t>(value), count_bytes);
}

/// The node as a count: the seed while it does not exist; not_a_counter unless 4 bytes.
error_code decode(const shared_count_impl& c, const counter_node& node, versioned_count& out) {
    if (node.version < 0) {
        out = {c.seed, -1};
        return {};
    }
    if (node.data.size() != count_bytes) {
        return make_error_code(errc::not_a_counter);
    }
    out = {static_cast<std::int32_t>(static_cast<std::uint32_t>(from_big_endian(node.data))),
           node.version};
    return {};
}

asio::awaitable<std::tuple<error_code, versioned_count>> read_count(
    std::shared_ptr<shared_count_impl> c) {
    auto [ec, node] = co_await read_counter(c->session, c->path);
    versioned_count count;
    if (!ec) {
        ec = decode(*c, node, count);
    }
    co_return std::tuple{ec, count};
}

/// Writes the value `next` makes of the current one, retried with the fresh value until it
/// lands; completes with what was written.
template <class Next>
asio::awaitable<std::tuple<error_code, versioned_count>> update(
    std::shared_ptr<shared_count_impl> c, Next next) {
    auto [ec, before, after] = co_await update_counter(
        c->session, c->path, [&](const counter_node& node, std::string& data) {
            versioned_count current;
            std::int32_t value = 0;
            auto decode_ec = decode(*c, node, current);
            if (auto refused = decode_ec ? decode_ec : next(current.value, value)) {
                return refused;
            }
            data = encode(value);
            return error_code{};
        });
    versioned_count written;
    if (!ec) {
        ec = decode(*c, after, written);
    }
    co_return std::tuple{ec, written};
}

asio::awaitable<std::tuple<error_code, bool, versioned_count>> set_if(
    std::shared_ptr<shared_count_impl> c, versioned_count expected, std::int32_t value) {
    auto [ec, written, version] =
        co_await write_counter_if(c->session, c->path, expected.version, encode(value));
    if (ec || written) {
        co_return std::tuple{ec, written, versioned_count{value, version}};
    }
    // Refused: the value that won, read fresh (never the caller's stale one).
    auto [read_ec, now] = co_await read_count(c);
    co_return std::tuple{read_ec, false, now};
}

asio::awaitable<std::tuple<error_code, versioned_count>> wait_change(
    std::shared_ptr<shared_count_impl> c, versioned_count seen) {
    auto [ec, node] = co_await wait_counter_change(c->session, c->path, seen.version);
    versioned_count now;
    if (!ec) {
        ec = decode(*c, node, now);
    }
    co_return std::tuple{ec, now};
}

}  // namespace
}  // namespace detail

shared_count::shared_count(session& s, std::string path, std::int32_t seed)
    : shared_count(detail::access::seam(s), std::move(path), seed) {}

shared_count::shared_count(std::shared_ptr<detail::session_seam> s, std::string path,
                           std::int32_t seed)
    : impl_(std::make_shared<detail::shared_count_impl>(
          detail::shared_count_impl{std::move(s), std::move(path), seed})) {}

shared_count::shared_count(shared_count&&) noexcept = default;
shared_count& shared_count::operator=(shared_count&&) noexcept = default;
shared_count::~shared_count() = default;

const std::string& shared_count::path() const noexcept {
    return detail::access::path_of(*this);
}

void shared_count::initiate_get(const impl_ptr& c,
                                detail::handler<void(error_code, versioned_count)> h) {
    detail::start_counter(
        c, [c] { return detail::read_count(c); }, std::move(h));
}

void shared_count::initiate_set(const impl_ptr& c, std::int32_t value,
                                detail::handler<void(error_code, versioned_count)> h) {
    detail::start_counter(
        c,
        [c, value] {
            return detail::update(c, [value](std::int32_t, std::int32_t& next) {
                next = value;
                return error_code{};
            });
        },
        std::move(h));
}

void shared_count::initiate_set_if(const impl_ptr& c, versioned_count expected, std::int32_t value,
                                   detail::handler<void(error_code, bool, versioned_count)> h) {
    detail::start_counter(
        c, [c, expected, value] { return detail::set_if(c, expected, value); }, std::move(h));
}

void shared_count::initiate_add(const impl_ptr& c, std::int32_t delta,
                                detail::handler<void(error_code, versioned_count)> h) {
    detail::start_counter(
        c,
        [c, delta] {
            return detail::update(c, [delta](std::int32_t current, std::int32_t& next) {
                const auto sum = std::int64_t{current} + delta;
                if (sum < std::numeric_limits<std::int32_t>::min() ||
                    sum > std::numeric_limits<std::int32_t>::max()) {
                    return make_error_code(errc::invalid_argument);  // leaves int32: not written
                }
                next = static_cast<std::int32_t>(sum);
                return error_code{};
            });
        },
        std::move(h));
}

void shared_count::initiate_wait_change(const impl_ptr& c, versioned_count seen,
                                        detail::handler<void(error_code, versioned_count)> h) {
    detail::start_counter(
        c, [c, seen] { return detail::wait_change(c, seen); }, std::move(h));
}

}  // namespace zkr
