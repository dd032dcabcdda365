// The counting semaphore: Curator's InterProcessSemaphoreV2 layout ("locks" queue, "leases"),
// with the maximum kept in the semaphore node and checked.
#include "access.hpp"
#include "lock_acquire.hpp"
#include "log.hpp"
#include "path.hpp"
#include "semaphore_impl.hpp"

#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>

#include <boost/asio/co_spawn.hpp>

#include <algorithm>
#include <charconv>
#include <utility>

namespace zkr {
namespace detail {

std::string default_node_data();

/// One acquisition: the semaphore's impl, and what this acquisition asks of it.
struct semaphore_request {
    std::shared_ptr<const semaphore_impl> impl;
    int count;
    bool try_only;
    std::optional<std::chrono::milliseconds> max_hold;  ///< options.max_hold, checked
};

namespace {

namespace asio = boost::asio;
constexpr const char* channel = log::channels::semaphore;

/// The semaphore node carries the maximum: create it, adopt an empty one, or compare.
asio::awaitable<error_code> check_limit(session_ptr s, std::string path, int max) {
    const auto wanted = std::to_string(max);
    for (;;) {
        auto [ec, data] = co_await call_retrying<void(error_code, node_data)>(
            s, [&](auto h) { s->get_data(path, std::move(h)); });
        if (ec == zk_errc::no_node) {
            if (auto pec = co_await ensure_path(s, std::string(parent_path(path)));
                pec && path.rfind('/') != 0) {
                co_return pec;
            }
            // Sent again after a lost answer, a create that happened finds its own node: either
            // way, node_exists means "read what is there now".
            auto [cec, node] = co_await call_retrying<void(error_code, created_node)>(
                s, [&](auto h) { s->create(path, wanted, create_mode::persistent, std::move(h)); });
            if (!cec) {
                co_return error_code{};
            }
            if (cec != zk_errc::node_exists) {
                co_return cec;
            }
            continue;
        }
        if (ec) {
            co_return ec;
        }
        if (data.data.empty()) {
            // Created by a client that stores nothing (a parent made by Curator, say): claim it.
            // No init-capture in a co_await's temporary lambda (g++ 12 destroys them twice).
            const auto version = data.stat.version;
            auto [sec, st] = co_await call_retrying<void(error_code, stat)>(
                s, [&](auto h) { s->set_data(path, wanted, version, std::move(h)); });
            if (!sec || sec == zk_errc::bad_version) {
                continue;
            }
            co_return sec;
        }
        if (data.data != wanted) {
            int stored = 0;
            const auto* end = data.data.data() + data.data.size();
            const auto [stop, perr] = std::from_chars(data.data.data(), end, stored);
            if (perr != std::errc{} || stop != end || stored < 1) {
                // Not a count of leases: this node belongs to something else.
                ZKR_LOG(error, channel,
                        path << " holds " << data.data.size()
                             << " bytes that are not a lease count: another kind of node");
                co_return make_error_code(errc::path_in_use);
            }
            ZKR_LOG(error, channel, path << " allows " << stored << " leases, not " << wanted);
            co_return make_error_code(errc::semaphore_limit_mismatch);
        }
        co_return error_code{};
    }
}

/// The lease of our nodes, each held from now on.
lease held_lease(const session_ptr& s, std::vector<acquired_node> nodes,
                 const semaphore_options& options,
                 std::optional<std::chrono::milliseconds> max_hold,
                 const observed_lock_ptr& observed = nullptr) {
    std::vector<zkr::lock> leases;
    for (auto& node : nodes) {
        auto state = std::make_shared<lock_state>(s, std::move(node), options.on_loss, channel,
                                                  max_hold, observed ? observed->copy() : nullptr);
        state->start();
        leases.emplace_back(std::move(state));
    }
    return lease(std::move(leases));
}

/// Takes over lease nodes of ours (semaphore::async_adopt).
asio::awaitable<std::tuple<error_code, lease>> adopt_leases(session_ptr s,
                                                            std::vector<std::string> nodes,
                                                            semaphore_options options) {
    std::vector<std::shared_ptr<node_claim>> claims;  // until the lease's own states have started
    std::vector<acquired_node> found;
    for (auto& node : nodes) {
        auto [ec, st, claim] = co_await claim_own_node(s, node);
        if (ec) {
            co_return std::make_tuple(ec, lease{});
        }
        claims.push_back(std::move(claim));
        found.push_back(acquired_node{std::move(node), st});
    }
    co_return std::make_tuple(error_code{},
                              held_lease(s, std::move(found), options, options.max_hold));
}

struct attempt {
    session_ptr s;
    std::string leases_dir;
    std::string prefix;  // "_c_<uuid>-lease-"
    std::vector<acquired_node> created;
    bool waited = false;           ///< for a lease to be returned: a hand-off, as metrics count it
    std::uint64_t generation = 0;  ///< the ZooKeeper session it began in
};

/// Creates leases until we have `count`, surviving connection loss.
asio::awaitable<error_code> create_leases(attempt& a, int count, const std::string& data) {
    while (static_cast<int>(a.created.size()) < count) {
        auto [ec, node] = co_await call<void(error_code, created_node)>([&](auto h) {
            a.s->create(join_path(a.leases_dir, a.prefix), data, create_mode::ephemeral_sequential,
                        std::move(h));
        });
        if (!ec) {
            a.created.push_back(acquired_node{std::move(node.path), node.stat});
            continue;
        }
        if (ec == zk_errc::no_node) {
            if (auto pec = co_await ensure_path(a.s, a.leases_dir)) {
                co_return pec;
            }
            continue;
        }
        if (!is_retryable(ec)) {
            co_return ec;
        }
        if (auto wec = co_await wait_connected(a.s, a.generation)) {
            co_return wec;
        }
        auto [fec, ours] = co_await find_own_nodes(a.s, a.leases_dir, a.prefix);
        if (fec && !is_retryable(fec)) {
            co_return fec;
        }
        if (!fec) {
            a.created = std::move(ours);
        }
    }
    co_return error_code{};
}

enum class outcome { granted, busy };

/// Forgets our lease nodes that are no longer in `names` (deleted underneath us: an operator,
/// a bug elsewhere); true if any was. A lease is granted only with all its nodes present.
bool drop_missing(attempt& a, const std::vector<std::string>& names) {
    const auto before = a.created.size();
    std::erase_if(a.created, [&](const acquired_node& n) {
        return std::find(names.begin(), names.end(), node_name(n.path)) == names.end();
    });
    return a.created.size() != before;
}

/// While first in the queue: wait until the leases, ours included, fit under the maximum.
asio::awaitable<std::tuple<error_code, outcome>> wait_for_room(attempt& a, int max, int count,
                                                               bool try_only,
                                                               const std::string& data) {
    for (;;) {
        if (co_await cancellation_requested()) {
            co_return std::make_tuple(make_error_code(asio::error::operation_aborted),
                                      outcome::busy);
        }
        auto [ec, kids, w] = co_await call_retrying<void(error_code, children, zkr::watch)>(
            a.s, [&](auto h) { a.s->watch_children(a.leases_dir, std::move(h)); });
        if (ec) {
            co_return std::make_tuple(ec, outcome::busy);
        }
        if (drop_missing(a, kids.names)) {
            // As Curator does: make them again, and count again.
            ZKR_LOG(
                warning, channel,
                "a lease node of ours in " << a.leases_dir << " was deleted: creating it again");
            if (auto cec = co_await create_leases(a, count, data)) {
                co_return std::make_tuple(cec, outcome::busy);
            }
            continue;
        }
        if (static_cast<int>(kids.names.size()) <= max) {
            co_return std::make_tuple(error_code{}, outcome::granted);
        }
        if (try_only) {
            co_return std::make_tuple(error_code{}, outcome::busy);
        }
        ZKR_LOG(debug, channel,
                kids.names.size() << " leases for " << max << " slots in " << a.leases_dir
                                  << ": waiting");
        if (co_await cancellation_requested()) {
            continue;
        }
        a.waited = true;
        auto [wait_ec, event] = co_await w.async_wait(use_tuple);
        if (wait_ec && wait_ec != asio::error::operation_aborted) {
            co_return std::make_tuple(wait_ec, outcome::busy);
        }
    }
}

asio::awaitable<std::tuple<error_code, lease>> acquire_leases(semaphore_request r) {
    const auto& m = *r.impl;  // kept alive by r, in this frame
    const auto& s = m.session;
    auto observed = observed_lock::start(s, "semaphore", m.path);
    const auto failed = [&observed](error_code ec) {
        if (ec && observed) {
            observed->failed(ec);
        }
        return std::make_tuple(ec, lease{});
    };
    const auto generation = s->generation();
    if (auto ec = co_await check_limit(s, m.path, m.max)) {
        co_return failed(ec);
    }
    const auto data = m.options.node_data.empty() ? default_node_data() : m.options.node_data;
    // First in line for the lease directory: only the queue's head watches it.
    acquire_request turn_request{
        s,
        std::make_shared<const queue_spec>(queue_spec{join_path(m.path, names::semaphore_queue),
                                                      std::string(names::lock_marker), data}),
        r.try_only};
    turn_request.channel = channel;
    turn_request.observed = false;  // a step of this acquisition, not one of its own
    turn_request.watch_own_node = false;
    auto [qec, turn] = co_await call<void(error_code, zkr::lock)>([&](auto h) {
        acquire_lock(std::move(turn_request), loss_policy::on_expiry, std::move(h));
    });
    if (qec || !turn.owns()) {
        co_return failed(qec);
    }
    attempt a{s,
              join_path(m.path, names::semaphore_leases),
              protected_prefix(make_uuid(), names::lease_marker),
              {},
              false,
              generation};
    auto ec = co_await create_leases(a, r.count, data);
    auto granted = outcome::busy;
    if (!ec) {
        std::tie(ec, granted) = co_await wait_for_room(a, m.max, r.count, r.try_only, data);
    }
    co_await forget_cancellation();
    co_await turn.async_release(use_tuple);
    if (auto end = ended_since(*s, generation); end && !ec) {
        ec = end;  // the session ended meanwhile: our leases went with it
    }
    if (!ec && granted == outcome::granted) {
        for (auto& node : a.created) {
            node.waited = a.waited;
        }
        co_return std::make_tuple(
            error_code{}, held_lease(s, std::move(a.created), m.options, r.max_hold, observed));
    }
    // Not granted: take back every lease node we made, even ones whose answer was lost.
    if (is_retryable(ec) || ec == asio::error::operation_aborted) {
        if (!co_await wait_connected(s, generation)) {
            if (auto [fec, ours] = co_await find_own_nodes(s, a.leases_dir, a.prefix); !fec) {
                a.created = std::move(ours);
            }
        }
    }
    for (auto& node : a.created) {
        remove_in_background(s, node.path, channel);
    }
    co_return failed(ec);
}

}  // namespace
}  // namespace detail

semaphore::semaphore(session& s, std::string path, int max_leases, semaphore_options options)
    : semaphore(detail::access::seam(s), std::move(path), max_leases, std::move(options)) {}

semaphore::semaphore(std::shared_ptr<detail::session_seam> s, std::string path, int max_leases,
                     semaphore_options options)
    : impl_(std::make_shared<const detail::semaphore_impl>(
          detail::semaphore_impl{std::move(s), std::move(path), max_leases, std::move(options)})) {}

const std::string& semaphore::path() const noexcept {
    return detail::access::path_of(*this);
}

int semaphore::max_leases() const noexcept {
    return impl_ ? impl_->max : 0;  // moved from
}

void semaphore::initiate_acquire(const impl_ptr& impl, int count, bool try_only,
                                 detail::handler<void(error_code, lease)> h) {
    const auto& m = *impl;
    const auto& ex = m.session->completions();
    if (detail::validate_path(m.path) || m.path == "/") {
        detail::fail(std::move(h), ex, make_error_code(errc::invalid_path));
        return;
    }
    if (m.max < 1 || count < 1 || count > m.max) {
        detail::fail(std::move(h), ex, make_error_code(errc::invalid_argument));
        return;
    }
    auto max_hold = m.options.max_hold;
    if (auto ec = detail::check_max_hold(max_hold)) {
        detail::fail(std::move(h), ex, ec);
        return;
    }
    // The lease nodes' paths: "<path>/leases/" with a protected prefix and a sequence.
    const auto node =
        detail::join_path(detail::join_path(m.path, names::semaphore_leases),
                          std::string(names::protected_name_length(names::lease_marker), '0'));
    if (detail::validate_path(node)) {
        detail::fail(std::move(h), ex, make_error_code(errc::invalid_path));
        return;
    }
    if (auto ec = m.session->check_request_size(node, m.options.node_data.size())) {
        detail::fail(std::move(h), ex, ec);
        return;
    }
    detail::spawn(
        m.session,
        detail::acquire_leases(detail::semaphore_request{impl, count, try_only, max_hold}),
        detail::delivering(std::move(h), ex));
}

void semaphore::initiate_adopt(const impl_ptr& impl, std::vector<std::string> nodes,
                               detail::handler<void(error_code, lease)> h) {
    const auto& session = impl->session;
    const auto& ex = session->completions();
    auto checked = impl->options;
    if (nodes.empty() || std::cmp_greater(nodes.size(), impl->max) ||
        detail::check_max_hold(checked.max_hold)) {
        detail::fail(std::move(h), ex, make_error_code(errc::invalid_argument));
        return;
    }
    const auto leases_dir = detail::join_path(impl->path, names::semaphore_leases);
    for (const auto& node : nodes) {
        if (!detail::names_node_of(node, leases_dir, names::lease_marker)) {
            detail::fail(std::move(h), ex, make_error_code(errc::invalid_path));
            return;
        }
    }
    detail::spawn(session, detail::adopt_leases(session, std::move(nodes), std::move(checked)),
                  detail::delivering(std::move(h), ex));
}

}  // namespace zkr
