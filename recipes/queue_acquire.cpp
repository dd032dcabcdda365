#include "queue_acquire.hpp"

#include "log.hpp"
#include "path.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <optional>

namespace zkr::detail {
namespace {

namespace asio = boost::asio;

using result = std::tuple<error_code, acquired_node>;

/// One acquisition in progress: what we know about our own node.
struct attempt {
    acquire_request req;
    std::string uuid;
    std::string name_prefix;  ///< "_c_<uuid>-lock-": finds our node without knowing its sequence
    std::optional<acquired_node> own;

    std::string own_name() const { return std::string(node_name(own->path)); }
};

/// What the pipelined create and list returned.
struct first_look {
    error_code create_ec;
    created_node node;
    error_code list_ec;
    children kids;
};

/// Create and list sent back to back: ZooKeeper answers one session's requests in order, so the
/// listing already holds our node and an uncontended acquisition costs one round trip.
void create_and_list(const session_ptr& s, const std::string& path, const std::string& data,
                     const std::string& dir, handler<void(error_code, first_look)> h) {
    struct join {
        pending_handler<void(error_code, first_look)> done;
        first_look look;
        int outstanding = 2;
        void arrived() {
            if (--outstanding == 0) {
                done.complete(error_code{}, std::move(look));
            }
        }
    };
    // Both callbacks run on the session strand (their default executor), so no lock is needed.
    auto j = std::make_shared<join>(join{{std::move(h), s->strand()}, {}, 2});
    s->create(path, data, create_mode::ephemeral_sequential, [j](error_code ec, created_node node) {
        j->look.create_ec = ec;
        j->look.node = std::move(node);
        j->arrived();
    });
    s->get_children(dir, [j](error_code ec, children kids) {
        j->look.list_ec = ec;
        j->look.kids = std::move(kids);
        j->arrived();
    });
}

/// After a create whose answer was lost: did it happen? sync makes our server current, then the
/// node is ours only if it carries our uuid and our session owns it.
asio::awaitable<error_code> adopt_lost_create(attempt& a) {
    auto& s = a.req.session;
    auto [sync_ec] =
        co_await call<void(error_code)>([&](auto h) { s->sync(a.req.dir, std::move(h)); });
    if (sync_ec) {
        co_return sync_ec;
    }
    auto [list_ec, kids] = co_await call<void(error_code, children)>(
        [&](auto h) { s->get_children(a.req.dir, std::move(h)); });
    if (list_ec) {
        co_return list_ec == zk_errc::no_node ? error_code{} : list_ec;
    }
    for (const auto& name : kids.names) {
        if (!name.starts_with(a.name_prefix)) {
            continue;
        }
        auto path = join_path(a.req.dir, name);
        auto [ec, st] = co_await call<void(error_code, std::optional<stat>)>(
            [&](auto h) { s->exists(path, std::move(h)); });
        if (ec) {
            co_return ec;
        }
        if (st && st->ephemeral_owner == s->session_id()) {
            ZKR_LOG(debug, a.req.channel, "found our node " << path << " after a lost create");
            a.own = acquired_node{std::move(path), *st};
        }
        co_return error_code{};
    }
    co_return error_code{};
}

/// Phase 1: our node exists and `kids` is a listing that contains it (or `relist` is set).
asio::awaitable<error_code> create_node(attempt& a, children& kids, bool& relist) {
    auto& s = a.req.session;
    const auto create_path = join_path(a.req.dir, a.name_prefix);
    while (!a.own) {
        auto [ignored, look] = co_await call<void(error_code, first_look)>(
            [&](auto h) { create_and_list(s, create_path, a.req.data, a.req.dir, std::move(h)); });
        const auto create_ec = look.create_ec;
        if (!create_ec) {
            a.own = acquired_node{std::move(look.node.path), look.node.stat};
            relist = static_cast<bool>(look.list_ec);
            kids = std::move(look.kids);
            break;
        }
        if (create_ec == zk_errc::no_node) {
            if (auto ec = co_await ensure_path(s, a.req.dir)) {
                co_return ec;
            }
            continue;
        }
        if (!is_retryable(create_ec)) {
            co_return create_ec;
        }
        ZKR_LOG(
            debug, a.req.channel,
            "create in " << a.req.dir << " unanswered (" << create_ec.message() << "); checking");
        if (auto ec = co_await wait_connected(s)) {
            co_return ec;
        }
        if (auto ec = co_await adopt_lost_create(a); ec && !is_retryable(ec)) {
            co_return ec;
        }
        relist = true;
    }
    co_return error_code{};
}

enum class step { acquired, relist, busy };

/// Phase 2, one turn: if blocked, watch the one node that blocks us and wait.
/// Where we stand in a listing. A plain function on purpose: the listing and its sorted copy die
/// here instead of living on in a coroutine frame for the whole wait (10,000 waiters each
/// holding a 10,000-name listing is gigabytes).
queue_view look_at(const attempt& a, const children& kids) {
    std::vector<std::string> unknown;
    const auto queue = sorted_contenders(kids.names, &unknown);
    for (const auto& name : unknown) {
        ZKR_LOG(warning, a.req.channel, "ignoring foreign node " << name << " in " << a.req.dir);
    }
    return evaluate(queue, a.own_name());
}

asio::awaitable<std::tuple<error_code, step>> queue_turn(attempt& a, queue_view view) {
    auto& s = a.req.session;
    if (!view.found) {
        co_return std::make_tuple(make_error_code(errc::lock_node_deleted), step::relist);
    }
    if (view.acquired) {
        co_return std::make_tuple(error_code{}, step::acquired);
    }
    if (a.req.try_only) {
        co_return std::make_tuple(error_code{}, step::busy);
    }
    ZKR_LOG(
        debug, a.req.channel,
        a.own->path << " waits behind " << view.blockers << " node(s), watching " << view.watch);
    const auto watched = join_path(a.req.dir, view.watch);
    auto [ec, data, w] = co_await call<void(error_code, node_data, zkr::watch)>(
        [&](auto h) { s->watch_data(watched, std::move(h)); });
    if (ec == zk_errc::no_node) {
        // Gone before we could watch it: the same reasoning as a deletion event.
        co_return std::make_tuple(error_code{},
                                  view.watch_is_last_blocker ? step::acquired : step::relist);
    }
    if (is_retryable(ec)) {
        co_return std::make_tuple(co_await wait_connected(s), step::relist);
    }
    if (ec) {
        co_return std::make_tuple(ec, step::relist);
    }
    if (co_await cancellation_requested()) {
        co_return std::make_tuple(make_error_code(asio::error::operation_aborted), step::relist);
    }
    auto [wait_ec, event] = co_await w.async_wait(use_tuple);
    if (wait_ec) {
        co_return std::make_tuple(wait_ec, step::relist);
    }
    // Fast hand-off: sequence numbers only grow, so once our only blocker is gone nothing can be
    // ahead of us any more.
    if (event.type == watch_event_type::deleted && view.watch_is_last_blocker) {
        co_return std::make_tuple(error_code{}, step::acquired);
    }
    co_return std::make_tuple(error_code{}, step::relist);
}

/// Our node, read back now, still exists and belongs to our session.
asio::awaitable<error_code> verify_owner(attempt& a) {
    auto& s = a.req.session;
    auto [ec, data] = co_await call<void(error_code, node_data)>(
        [&](auto h) { s->get_data(a.own->path, std::move(h)); });
    if (ec == zk_errc::no_node) {
        co_return make_error_code(errc::lock_node_deleted);
    }
    if (!ec && data.stat.ephemeral_owner != s->session_id()) {
        ZKR_LOG(error, a.req.channel,
                a.own->path << " is owned by session 0x" << std::hex << data.stat.ephemeral_owner
                            << ", not ours");
        co_return make_error_code(errc::lock_lost);
    }
    co_return ec;
}

/// Leaves nothing behind: deletes our node (or, after a lost create, whatever carries our uuid).
asio::awaitable<void> clean_up(attempt& a) {
    co_await asio::this_coro::reset_cancellation_state();
    auto& s = a.req.session;
    if (a.own) {
        // Deleting now keeps a following attempt from queueing behind our own stale node; if
        // that cannot finish now, finish it in the background.
        auto [ec] = co_await call<void(error_code)>(
            [&](auto h) { s->remove(a.own->path, -1, std::move(h)); });
        if (is_retryable(ec)) {
            remove_in_background(s, a.own->path, a.req.channel);
        }
        co_return;
    }
    // A create may have happened without our hearing of it: a background sweep finds it by uuid.
    asio::co_spawn(
        s->strand(),
        [](attempt a) -> asio::awaitable<void> {
            auto& s = a.req.session;
            if (co_await wait_connected(s)) {
                co_return;  // session ended: nothing of ours is left
            }
            if (!co_await adopt_lost_create(a) && a.own) {
                co_await remove_for_sure(s, a.own->path);
            }
        }(a),
        asio::detached);
}

}  // namespace

asio::awaitable<result> acquire(acquire_request request) {
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    attempt a{std::move(request), {}, {}, std::nullopt};
    a.uuid = make_uuid();
    a.name_prefix = protected_prefix(a.uuid, a.req.marker);
    children kids;
    bool relist = false;

    error_code ec = co_await create_node(a, kids, relist);
    while (!ec) {
        if (co_await cancellation_requested()) {
            ec = asio::error::operation_aborted;
            break;
        }
        if (relist) {
            auto [list_ec, listing] = co_await call<void(error_code, children)>(
                [&](auto h) { a.req.session->get_children(a.req.dir, std::move(h)); });
            if (is_retryable(list_ec)) {
                ec = co_await wait_connected(a.req.session);
                continue;
            }
            if (list_ec) {
                ec = list_ec == zk_errc::no_node ? make_error_code(errc::lock_node_deleted)
                                                 : list_ec;
                break;
            }
            kids = std::move(listing);
        }
        auto view = look_at(a, kids);
        kids = children{};
        auto [turn_ec, next] = co_await queue_turn(a, std::move(view));
        ec = turn_ec;
        if (ec) {
            break;
        }
        if (next == step::acquired && a.req.verify_owner) {
            ec = co_await verify_owner(a);
            if (ec) {
                break;
            }
        }
        if (next == step::acquired) {
            ZKR_LOG(debug, a.req.channel, "acquired " << a.own->path);
            co_return result{error_code{}, std::move(*a.own)};
        }
        if (next == step::busy) {
            co_await clean_up(a);
            co_return result{error_code{}, acquired_node{}};
        }
        relist = true;
    }
    if (ec == errc::lock_node_deleted || is_session_lost(ec)) {
        // Nothing to delete: our node is already gone.
        co_return result{ec, acquired_node{}};
    }
    ZKR_LOG(debug, a.req.channel, "acquisition in " << a.req.dir << " ends: " << ec.message());
    co_await clean_up(a);
    co_return result{ec, acquired_node{}};
}

}  // namespace zkr::detail
