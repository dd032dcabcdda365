// zkr::queue: putting, taking, claiming and looking (<zkr/queue.hpp>, docs/queues.md).
#include "work_queue.hpp"
#include "access.hpp"
#include "path.hpp"
#include "queue_framing.hpp"
#include "queue_item_names.hpp"

#include <zkr/names.hpp>
#include <zkr/session.hpp>

#include <numeric>

namespace zkr {
namespace detail {

namespace {

namespace asio = boost::asio;

/// A request's fixed part in a transaction, with room to spare (as session_impl counts it).
constexpr std::size_t op_overhead = 64;

/// Whether a write whose answer was lost changed the queue's children: the children's version
/// read just before it against the one read now. Unchanged: it
/// never arrived. Changed: by us, or by someone else meanwhile: nobody can tell.
bool children_unchanged(const std::optional<stat>& before, const std::optional<stat>& now) {
    const auto version = [](const std::optional<stat>& st) { return st ? st->cversion : 0; };
    return version(before) == version(now);
}

/// Adds `items` in one transaction, named `prefix` and a sequence: their node names.
asio::awaitable<std::tuple<error_code, std::vector<std::string>>> put_items(
    std::shared_ptr<const queue_impl> q, std::string prefix, std::vector<std::string> items) {
    const auto& s = q->session;
    const auto generation = s->generation();
    std::vector<op> creates;
    for (auto& data : items) {
        creates.push_back(
            op::create(q->item_path(prefix), std::move(data), create_mode::persistent_sequential));
    }
    const auto failed = [](error_code ec) { return std::tuple{ec, std::vector<std::string>{}}; };
    for (;;) {
        if (auto ended = ended_since(*s, generation)) {
            co_return failed(ended);
        }
        // The children's version first: what a write whose answer is lost is judged by. (Sent
        // with the write, its own answer could be lost with the write's, and judge nothing.)
        auto [before_ec, before] = co_await call_retrying<void(error_code, std::optional<stat>)>(
            s, [&](auto h) { s->exists(q->path, std::move(h)); }, generation);
        if (before_ec) {
            co_return failed(before_ec);
        }
        auto [ec, results] = co_await call<void(error_code, std::vector<op_result>)>(
            [&](auto h) { s->multi(creates, std::move(h)); });
        if (!ec) {
            std::vector<std::string> nodes;
            for (const auto& r : results) {
                nodes.emplace_back(node_name(r.path));
            }
            co_return std::tuple{error_code{}, std::move(nodes)};
        }
        if (ec == zk_errc::no_node) {
            // The queue's path is missing: created as Curator does (containers), then again.
            if (auto parents_ec = co_await ensure_path(s, q->path)) {
                co_return failed(parents_ec);
            }
            continue;
        }
        if (!is_retryable(ec)) {
            co_return failed(ec);
        }
        if (auto end = co_await wait_connected(s, generation)) {
            co_return failed(end);
        }
        auto [now_ec, now] = co_await call_retrying<void(error_code, std::optional<stat>)>(
            s, [&](auto h) { s->exists(q->path, std::move(h)); }, generation);
        if (now_ec) {
            co_return failed(now_ec);
        }
        if (!children_unchanged(before, now)) {
            co_return failed(make_error_code(errc::outcome_unknown));
        }
        // Unchanged: it never arrived. Sent again.
    }
}

/// Takes `item` if nobody claims it: nullopt when another consumer took or claimed it first.
asio::awaitable<std::tuple<error_code, std::optional<queue_item>>> take_item(
    std::shared_ptr<const queue_impl> q, std::string item, std::uint64_t generation) {
    const auto& s = q->session;
    auto [ec, got] = co_await read_item(*q, item, generation);
    if (ec || !got) {
        co_return std::tuple{ec, std::optional<queue_item>{}};
    }
    if (co_await cancellation_requested()) {
        co_return std::tuple{make_error_code(asio::error::operation_aborted),
                             std::optional<queue_item>{}};
    }
    // Deleted only while nobody claims it: a claim made and dropped in the same transaction
    // fails it with node_exists while another consumer's claim holds the item.
    const auto claim = q->claim_path(item);
    const std::vector<op> ops{op::create(claim, {}, create_mode::ephemeral),
                              op::remove(q->item_path(item)), op::remove(claim)};
    const auto gone = [] { return std::tuple{error_code{}, std::optional<queue_item>{}}; };
    for (;;) {
        auto [multi_ec, results] = co_await call<void(error_code, std::vector<op_result>)>(
            [&](auto h) { s->multi(ops, std::move(h)); });
        const auto result = [&](std::size_t i) {
            return i < results.size() ? results[i].ec : error_code{};
        };
        if (!multi_ec) {
            co_return std::tuple{error_code{}, std::move(got)};
        }
        if (result(0) == zk_errc::node_exists || result(1) == zk_errc::no_node) {
            co_return gone();  // claimed, or taken, by another consumer
        }
        if (result(0) == zk_errc::no_node) {
            if (auto parents_ec = co_await ensure_path(s, q->claims_dir)) {
                co_return std::tuple{parents_ec, std::optional<queue_item>{}};
            }
            continue;
        }
        if (!is_retryable(multi_ec)) {
            co_return std::tuple{multi_ec, std::optional<queue_item>{}};
        }
        if (auto end = co_await wait_connected(s, generation)) {
            co_return std::tuple{end, std::optional<queue_item>{}};
        }
        // The answer was lost. The item still there: the delete never arrived, sent again.
        // Gone: deleted by us, or by another consumer who then holds it; handing it over could
        // hand it out twice.
        auto [exists_ec, st] = co_await call_retrying<void(error_code, std::optional<stat>)>(
            s, [&](auto h) { s->exists(q->item_path(item), std::move(h)); }, generation);
        if (exists_ec || !st) {
            co_return std::tuple{exists_ec ? exists_ec : make_error_code(errc::outcome_unknown),
                                 std::optional<queue_item>{}};
        }
    }
}

asio::awaitable<std::tuple<error_code, std::optional<queue_item>>> peek(
    std::shared_ptr<const queue_impl> q) {
    const auto generation = q->session->generation();
    auto [ec, listing] = co_await list_queue(*q, generation);
    if (ec) {
        co_return std::tuple{ec, std::optional<queue_item>{}};
    }
    for (const auto& item : listing.unclaimed) {
        auto [read_ec, got] = co_await read_item(*q, item, generation);
        if (read_ec || got) {
            co_return std::tuple{read_ec, std::move(got)};
        }
    }
    co_return std::tuple{error_code{}, std::optional<queue_item>{}};
}

asio::awaitable<std::tuple<error_code, std::size_t>> size(std::shared_ptr<const queue_impl> q) {
    auto [ec, kids] = co_await call_retrying<void(error_code, children)>(
        q->session, [&](auto h) { q->session->get_children(q->path, std::move(h)); });
    if (ec == zk_errc::no_node) {
        co_return std::tuple{error_code{}, std::size_t{0}};
    }
    co_return std::tuple{ec, ec ? 0 : make_listing(*q, kids.names, {}, epoch_now_ms()).items};
}

}  // namespace
}  // namespace detail

queue::queue(session& s, std::string path, queue_options options)
    : queue(detail::access::seam(s), std::move(path), std::move(options)) {}

queue::queue(std::shared_ptr<detail::session_seam> s, std::string path, queue_options options) {
    auto claims = options.claims_dir.empty() ? path + "/" + std::string(names::queue_claims)
                                             : std::move(options.claims_dir);
    auto waiters = options.waiters_dir.empty() ? path + "/" + std::string(names::queue_waiters)
                                               : std::move(options.waiters_dir);
    impl_ = std::make_shared<const detail::queue_impl>(detail::queue_impl{
        std::move(s), std::move(path), std::move(claims), std::move(waiters), options.layout});
}

queue::queue(queue&&) noexcept = default;
queue& queue::operator=(queue&&) noexcept = default;
queue::~queue() = default;

const std::string& queue::path() const noexcept {
    return detail::access::path_of(*this);
}

void queue::initiate_put(const impl_ptr& q, std::string data, put_options options,
                         detail::handler<void(error_code, std::string)> h) {
    initiate_put_many(
        q, {std::move(data)}, options,
        detail::adapt<void(error_code, std::vector<std::string>), void(error_code, std::string)>(
            std::move(h), q->session->completions(),
            [](auto& pending, error_code ec, std::vector<std::string> nodes) {
                pending.complete(ec, nodes.empty() ? std::string{} : std::move(nodes.front()));
            }));
}

void queue::initiate_put_many(const impl_ptr& q, std::vector<std::string> items,
                              put_options options,
                              detail::handler<void(error_code, std::vector<std::string>)> h) {
    if (auto ec = detail::check_put_options(q->layout, options)) {
        detail::fail(std::move(h), q->session->completions(), ec);
        return;
    }
    // The due time is fixed here, once: a put sent again after a connection loss keeps it.
    auto prefix = q->layout == queue_layout::curator_simple
                      ? std::string(names::queue_item_prefix)
                      : detail::distributed_item_prefix(
                            options.priority, options.delay ? std::optional{detail::epoch_now_ms() +
                                                                            options.delay->count()}
                                                            : std::nullopt);
    if (q->layout == queue_layout::curator_distributed) {
        for (auto& data : items) {
            data = detail::frame_items({std::move(data)});
        }
    }
    // One transaction: its size is every item's, each with its path and a request's overhead.
    const auto item_bytes =
        q->path.size() + prefix.size() + names::sequence_length + 1 + detail::op_overhead;
    const auto bytes = std::accumulate(
        items.begin(), items.end(), std::size_t{0},
        [&](std::size_t sum, const std::string& d) { return sum + d.size() + item_bytes; });
    if (!detail::validate_path(q->path)) {
        if (auto ec = q->session->check_request_size(q->path, bytes)) {
            detail::fail(std::move(h), q->session->completions(), ec);
            return;
        }
    }
    if (items.empty()) {
        detail::fail(std::move(h), q->session->completions(), error_code{});
        return;
    }
    detail::start_queue(
        q,
        [q, prefix = std::move(prefix), items = std::move(items)] {
            return detail::put_items(q, prefix, items);
        },
        std::move(h));
}

void queue::initiate_take(const impl_ptr& q, detail::handler<void(error_code, queue_item)> h) {
    detail::start_queue(
        q,
        [q] {
            return detail::first_item<queue_item>(
                *q, [q](const std::string& item, std::uint64_t generation) {
                    return detail::take_item(q, item, generation);
                });
        },
        std::move(h));
}

void queue::initiate_peek(const impl_ptr& q,
                          detail::handler<void(error_code, std::optional<queue_item>)> h) {
    detail::start_queue(
        q, [q] { return detail::peek(q); }, std::move(h));
}

void queue::initiate_size(const impl_ptr& q, detail::handler<void(error_code, std::size_t)> h) {
    detail::start_queue(
        q, [q] { return detail::size(q); }, std::move(h));
}

}  // namespace zkr
