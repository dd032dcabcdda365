// Looking at a queue, and the line its waiting consumers stand in (work_queue.hpp).
#include "contender.hpp"
#include "log.hpp"
#include "path.hpp"
#include "queue_framing.hpp"
#include "queue_item_names.hpp"
#include "work_queue.hpp"

#include <zkr/names.hpp>
#include <zkr/watch.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <unordered_set>
#include <variant>

namespace zkr::detail {

namespace asio = boost::asio;

namespace {

constexpr const char* channel = log::channels::queue;

/// True for the queue's own directories, which are no items.
bool is_own_directory(const queue_impl& q, const std::string& name) {
    return q.path + "/" + name == q.claims_dir || q.path + "/" + name == q.waiters_dir;
}

}  // namespace

namespace {

/// Warns once about a child that is no item of the queue's layout.
void report_foreign(const queue_impl& q, const std::string& name) {
    if (!is_own_directory(q, name) && q.session->first_notice(q.path, name)) {
        ZKR_LOG(warning, channel,
                "queue " << q.path << " holds " << name << ", which is no item (items are named "
                         << q.item_prefix() << "...): skipped");
    }
}

}  // namespace

queue_listing make_listing(const queue_impl& q, const std::vector<std::string>& children,
                           const std::vector<std::string>& claims, std::int64_t now_ms) {
    const std::unordered_set<std::string> claimed(claims.begin(), claims.end());
    const bool distributed = q.layout == queue_layout::curator_distributed;
    queue_listing listing;
    std::vector<std::pair<item_order, std::string>> due;
    for (const auto& name : children) {
        std::optional<item_order> order;
        if (distributed ? !(order = parse_distributed_item(name))
                        : !name.starts_with(names::queue_item_prefix)) {
            report_foreign(q, name);
            continue;
        }
        ++listing.items;
        if (claimed.count(name) != 0 || q.unusable->contains(name)) {
            continue;
        }
        if (!order) {
            listing.unclaimed.push_back(name);  // curator_simple: name order
        } else if (order->due_ms <= now_ms) {
            due.emplace_back(*order, name);
        } else if (!listing.next_due_ms || order->due_ms < *listing.next_due_ms) {
            listing.next_due_ms = order->due_ms;
        }
    }
    std::sort(listing.unclaimed.begin(), listing.unclaimed.end());
    std::sort(due.begin(), due.end());
    for (auto& [order, name] : due) {
        listing.unclaimed.push_back(std::move(name));
    }
    return listing;
}

namespace {

/// The names of an answer to a listing: none when the directory does not exist.
error_code names_of(error_code ec, children& kids) {
    if (ec == zk_errc::no_node) {
        kids.names.clear();
        return {};
    }
    return ec;
}

/// One look at the items and the claims, both requests at once; `watching` arms a children watch
/// on each (the first waiter's look), returned in the same order.
asio::awaitable<std::tuple<error_code, queue_listing, std::vector<zkr::watch>>> look(
    const queue_impl& q, bool watching) {
    const std::string dirs[] = {q.path, q.claims_dir};
    std::vector<zkr::watch> watches;
    std::vector<children> kids(2);
    error_code ec;
    if (watching) {
        auto answers = co_await call_all<void(error_code, children, zkr::watch)>(
            q.session, 2,
            [&](std::size_t i, auto h) { q.session->watch_children(dirs[i], std::move(h)); });
        for (std::size_t i = 0; i < 2; ++i) {
            auto& [answer_ec, answer_kids, w] = answers[i];
            ec = ec ? ec : names_of(answer_ec, answer_kids);
            kids[i] = std::move(answer_kids);
            watches.push_back(std::move(w));
        }
    } else {
        auto answers = co_await call_all<void(error_code, children)>(
            q.session, 2,
            [&](std::size_t i, auto h) { q.session->get_children(dirs[i], std::move(h)); });
        for (std::size_t i = 0; i < 2; ++i) {
            auto& [answer_ec, answer_kids] = answers[i];
            ec = ec ? ec : names_of(answer_ec, answer_kids);
            kids[i] = std::move(answer_kids);
        }
    }
    if (ec) {
        co_return std::tuple{ec, queue_listing{}, std::move(watches)};
    }
    co_return std::tuple{error_code{},
                         make_listing(q, kids[0].names, kids[1].names, epoch_now_ms()),
                         std::move(watches)};
}

}  // namespace

asio::awaitable<std::tuple<error_code, queue_listing>> list_queue(const queue_impl& q,
                                                                  std::uint64_t generation) {
    auto [ec, listing, unused] = co_await retrying(
        q.session, [&] { return look(q, false); }, generation);
    co_return std::tuple{ec, std::move(listing)};
}

asio::awaitable<std::tuple<error_code, std::optional<queue_item>>> read_item(
    const queue_impl& q, const std::string& item, std::uint64_t generation) {
    auto [ec, read] = co_await call_retrying<void(error_code, node_data)>(
        q.session, [&](auto h) { q.session->get_data(q.item_path(item), std::move(h)); },
        generation);
    if (ec == zk_errc::no_node) {
        co_return std::tuple{error_code{}, std::optional<queue_item>{}};
    }
    if (ec) {
        co_return std::tuple{ec, std::optional<queue_item>{}};
    }
    if (q.layout == queue_layout::curator_simple) {
        co_return std::tuple{error_code{},
                             std::optional<queue_item>{queue_item{item, std::move(read.data)}}};
    }
    auto framed = unframe_items(read.data);
    if (!framed || framed->size() != 1) {
        // Left for Curator's consumers (which log and delete a corrupted item, and hand a batch
        // over item by item): zkr deletes one node per item handed over, and never what it
        // cannot read.
        q.unusable->add(item);
        ZKR_LOG(warning, channel,
                "queue " << q.path << ": " << item
                         << (!framed ? std::string(" holds no item in Curator's framing")
                             : framed->empty()
                                 ? std::string(" holds no item (an empty putMulti)")
                                 : " holds " + std::to_string(framed->size()) +
                                       " items (Curator's putMulti); zkr hands over nodes of one")
                         << ": skipped");
        co_return std::tuple{error_code{}, std::optional<queue_item>{}};
    }
    co_return std::tuple{error_code{},
                         std::optional<queue_item>{queue_item{item, std::move(framed->front())}}};
}

asio::awaitable<std::tuple<error_code, std::string>> join_line(const queue_impl& q,
                                                               std::uint64_t generation) {
    const auto& s = q.session;
    const auto prefix = protected_prefix(make_uuid(), names::waiter_marker);
    for (;;) {
        auto [ec, created] = co_await call<void(error_code, created_node)>([&](auto h) {
            s->create(q.waiters_dir + "/" + prefix, {}, create_mode::ephemeral_sequential,
                      std::move(h));
        });
        if (!ec) {
            co_return std::tuple{ec, std::string(node_name(created.path))};
        }
        if (ec == zk_errc::no_node) {
            if (auto parent_ec = co_await ensure_path(s, q.waiters_dir)) {
                co_return std::tuple{parent_ec, std::string{}};
            }
            continue;
        }
        if (!is_retryable(ec)) {
            co_return std::tuple{ec, std::string{}};
        }
        if (auto end = co_await wait_connected(s, generation)) {
            co_return std::tuple{end, std::string{}};
        }
        auto [find_ec, ours] = co_await find_own_nodes(s, q.waiters_dir, prefix);
        if (find_ec) {
            co_return std::tuple{find_ec, std::string{}};
        }
        if (!ours.empty()) {
            co_return std::tuple{error_code{}, std::string(node_name(ours.front().path))};
        }
    }
}

namespace {

/// The waiter just ahead of `own` in `names` (ordered by sequence); empty when `own` is first.
/// Every name in the waiters' directory is a waiter's, ending in its sequence.
std::string predecessor(std::vector<std::string> names, const std::string& own) {
    const auto sequence = [](const std::string& name) {
        return name.substr(name.size() - std::min(name.size(), names::sequence_length));
    };
    std::sort(names.begin(), names.end(),
              [&](const auto& a, const auto& b) { return sequence(a) < sequence(b); });
    const auto it = std::find(names.begin(), names.end(), own);
    return it == names.begin() || it == names.end() ? std::string{} : *std::prev(it);
}

/// The first waiter's wait: a new item (the path's children), a released claim (the claims'
/// directory: it matters once there are items, all claimed, and exists then), or the earliest
/// delayed item falling due (a timer), whichever comes first. Success means "look again".
asio::awaitable<error_code> wait_for_change(std::vector<zkr::watch>& watches,
                                            std::optional<std::int64_t> due_ms) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             asio::steady_timer::time_point::max());
    if (due_ms) {
        // One ms past it, so that the look that follows finds the item due.
        timer.expires_after(
            std::chrono::milliseconds(std::max<std::int64_t>(*due_ms - epoch_now_ms() + 1, 0)));
    }
    auto timed_out = [&]() -> asio::awaitable<std::tuple<error_code>> {
        co_return co_await timer.async_wait(use_tuple);
    };
    const auto first_of = [](auto& fired) {
        return std::visit([](auto& r) { return std::get<0>(r); }, fired);
    };
    if (watches[1].armed()) {
        auto fired = co_await (watches[0].async_wait(use_tuple) ||
                               watches[1].async_wait(use_tuple) || timed_out());
        co_return first_of(fired);
    }
    auto fired = co_await (watches[0].async_wait(use_tuple) || timed_out());
    co_return first_of(fired);
}

}  // namespace

asio::awaitable<std::tuple<error_code, queue_listing>> stand_in_line(const queue_impl& q,
                                                                     const std::string& own,
                                                                     std::uint64_t generation) {
    using namespace asio::experimental::awaitable_operators;
    const auto& s = q.session;
    const auto aborted = [] {
        return std::tuple{make_error_code(asio::error::operation_aborted), queue_listing{}};
    };
    for (;;) {
        auto [ec, line] = co_await call_retrying<void(error_code, children)>(
            s, [&](auto h) { s->get_children(q.waiters_dir, std::move(h)); }, generation);
        if (co_await cancellation_requested()) {
            co_return aborted();
        }
        if (ec) {
            co_return std::tuple{ec, queue_listing{}};
        }
        if (std::find(line.names.begin(), line.names.end(), own) == line.names.end()) {
            // Our node is gone (deleted by someone else): look at the queue again.
            co_return std::tuple{error_code{}, queue_listing{}};
        }
        const auto ahead = predecessor(line.names, own);
        if (ahead.empty()) {
            // First in line: the only waiter watching the queue.
            auto [look_ec, listing, watches] = co_await retrying(
                s, [&] { return look(q, true); }, generation);
            if (co_await cancellation_requested()) {
                co_return aborted();
            }
            if (look_ec || !listing.unclaimed.empty()) {
                co_return std::tuple{look_ec, std::move(listing)};
            }
            if (!watches[0].armed()) {
                // No queue to watch: made (as Curator's consumers make it), then looked at.
                if (auto made_ec = co_await ensure_path(s, q.path)) {
                    co_return std::tuple{made_ec, queue_listing{}};
                }
                continue;
            }
            const auto wait_ec = co_await wait_for_change(watches, listing.next_due_ms);
            if (wait_ec == asio::error::operation_aborted || is_session_lost(wait_ec)) {
                co_return std::tuple{wait_ec, queue_listing{}};
            }
            continue;  // a new item, a claim released, or the connection dropped: look again
        }
        auto [exists_ec, st, w] =
            co_await call_retrying<void(error_code, std::optional<stat>, zkr::watch)>(
                s, [&](auto h) { s->watch_exists(q.waiters_dir + "/" + ahead, std::move(h)); },
                generation);
        if (co_await cancellation_requested()) {
            co_return aborted();
        }
        if (exists_ec) {
            co_return std::tuple{exists_ec, queue_listing{}};
        }
        if (!st) {
            continue;  // gone meanwhile: who is ahead now?
        }
        auto [wait_ec, event] = co_await w.async_wait(use_tuple);
        if (wait_ec == asio::error::operation_aborted || is_session_lost(wait_ec)) {
            co_return std::tuple{wait_ec, queue_listing{}};
        }
    }
}

asio::awaitable<void> leave_line(const queue_impl& q, const std::string& own) {
    // Whatever ended the wait, cancellation included: the cleanup runs to its end.
    co_await forget_cancellation();
    co_await remove_for_sure(q.session, q.waiters_dir + "/" + own);
    co_await report_cancellation();  // heard again, of every type, by what comes next
}

}  // namespace zkr::detail
