// zkr::atomic_long: Curator's DistributedAtomicLong layout (8 bytes, big-endian int64; no node or
// no data is 0) over the compare-and-set of counter_node.hpp.
#include "access.hpp"
#include "counter_node.hpp"

#include <zkr/atomic_long.hpp>
#include <zkr/session.hpp>

#include <optional>

namespace zkr {
namespace detail {

/// What a zkr::atomic_long is made of (its impl_).
struct atomic_long_impl {
    session_ptr session;
    std::string path;
};

namespace {

namespace asio = boost::asio;

constexpr std::size_t long_bytes = 8;

/// The node as a long: 0 without node or data; not_a_counter unless 8 bytes then.
error_code decode(const counter_node& node, std::int64_t& out) {
    if (node.data.empty()) {
        out = 0;
        return {};
    }
    if (node.data.size() != long_bytes) {
        return make_error_code(errc::not_a_counter);
    }
    out = static_cast<std::int64_t>(from_big_endian(node.data));
    return {};
}

asio::awaitable<std::tuple<error_code, std::int64_t>> read_long(
    std::shared_ptr<atomic_long_impl> c) {
    auto [ec, node] = co_await read_counter(c->session, c->path);
    std::int64_t value = 0;
    if (!ec) {
        ec = decode(node, value);
    }
    co_return std::tuple{ec, value};
}

/// Writes next(value) until it lands, or refuses when next says so (nothing written then).
/// Completes with written = false and the value found when `next` declines (nullopt).
template <class Next>
asio::awaitable<std::tuple<error_code, bool, atomic_change>> update(
    std::shared_ptr<atomic_long_impl> c, Next next) {
    bool declined = false;
    atomic_change change;
    auto [ec, before, after] = co_await update_counter(
        c->session, c->path, [&](const counter_node& node, std::string& data) {
            if (auto decode_ec = decode(node, change.before)) {
                return decode_ec;
            }
            const std::optional<std::int64_t> value = next(change.before);
            if (!value) {
                declined = true;
                return make_error_code(boost::system::errc::operation_canceled);
            }
            change.after = *value;
            data = to_big_endian(static_cast<std::uint64_t>(*value), long_bytes);
            return error_code{};
        });
    if (declined) {
        co_return std::tuple{error_code{}, false, atomic_change{change.before, change.before}};
    }
    co_return std::tuple{ec, !ec, change};
}

/// update() for the operations that always write: their handler has no `set`.
template <class Next>
asio::awaitable<std::tuple<error_code, atomic_change>> update_always(
    std::shared_ptr<atomic_long_impl> c, Next next) {
    auto [ec, written, change] = co_await update(std::move(c), std::move(next));
    co_return std::tuple{ec, change};
}

}  // namespace
}  // namespace detail

atomic_long::atomic_long(session& s, std::string path)
    : atomic_long(detail::access::seam(s), std::move(path)) {}

atomic_long::atomic_long(std::shared_ptr<detail::session_seam> s, std::string path)
    : impl_(std::make_shared<detail::atomic_long_impl>(
          detail::atomic_long_impl{std::move(s), std::move(path)})) {}

atomic_long::atomic_long(atomic_long&&) noexcept = default;
atomic_long& atomic_long::operator=(atomic_long&&) noexcept = default;
atomic_long::~atomic_long() = default;

const std::string& atomic_long::path() const noexcept {
    return detail::access::path_of(*this);
}

void atomic_long::initiate_get(const impl_ptr& c,
                               detail::handler<void(error_code, std::int64_t)> h) {
    detail::start_counter(
        c, [c] { return detail::read_long(c); }, std::move(h));
}

void atomic_long::initiate_add(const impl_ptr& c, std::int64_t delta,
                               detail::handler<void(error_code, atomic_change)> h) {
    detail::start_counter(
        c,
        [c, delta] {
            return detail::update_always(c, [delta](std::int64_t current) {
                // Wraps as Java's long does (Curator's add): two's complement, no overflow UB.
                return std::optional<std::int64_t>(static_cast<std::int64_t>(
                    static_cast<std::uint64_t>(current) + static_cast<std::uint64_t>(delta)));
            });
        },
        std::move(h));
}

void atomic_long::initiate_set(const impl_ptr& c, std::int64_t value,
                               detail::handler<void(error_code, atomic_change)> h) {
    detail::start_counter(
        c,
        [c, value] {
            return detail::update_always(
                c, [value](std::int64_t) { return std::optional<std::int64_t>(value); });
        },
        std::move(h));
}

void atomic_long::initiate_compare_and_set(
    const impl_ptr& c, std::int64_t expected, std::int64_t value,
    detail::handler<void(error_code, bool, atomic_change)> h) {
    detail::start_counter(
        c,
        [c, expected, value] {
            return detail::update(c, [expected, value](std::int64_t current) {
                return current == expected ? std::optional<std::int64_t>(value) : std::nullopt;
            });
        },
        std::move(h));
}

}  // namespace zkr
