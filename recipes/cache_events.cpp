#include "cache_events.hpp"

#include "path.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace zkr::detail {

namespace {

bool is_marker(cache_event_type t) {
    return t == cache_event_type::initialized || t == cache_event_type::resynced;
}

bool same_node(const cache_event& a, const cache_event& b) {
    return a.path == b.path && a.node && b.node && a.node->stat.czxid == b.node->stat.czxid;
}

}  // namespace

void cache_events::push(cache_event e) {
    if (e.type == cache_event_type::resynced && !queue_.empty() &&
        queue_.back().type == cache_event_type::resynced) {
        queue_.back() = std::move(e);
        deliver();
        return;
    }
    if (e.type == cache_event_type::updated || e.type == cache_event_type::removed) {
        // The last queued event of this path, not past a marker: what a waiter would see
        // just before `e`. Merging with it drops only states nobody has been told of.
        for (auto it = queue_.rbegin(); it != queue_.rend() && !is_marker(it->type); ++it) {
            if (it->path != e.path) {
                continue;
            }
            const bool live =
                it->type == cache_event_type::added || it->type == cache_event_type::updated;
            if (live && same_node(*it, e)) {
                if (e.type == cache_event_type::updated) {
                    it->node = std::move(e.node);  // an added stays added, with the newer data
                    return;
                }
                if (it->type == cache_event_type::added) {
                    queue_.erase(std::next(it).base());  // came and went unseen
                    return;
                }
                queue_.erase(std::next(it).base());  // the removal says the last state
            }
            break;
        }
    }
    queue_.push_back(std::move(e));
    deliver();
}

void cache_events::wait(event_waiter w) {
    if (waiter_) {
        waiter_.complete(make_error_code(boost::asio::error::operation_aborted), cache_event{});
    }
    waiter_ = std::move(w);
    deliver();
}

void cache_events::end(error_code ec) {
    if (!end_) {
        end_ = ec;
    }
    deliver();
}

void cache_events::close() {
    queue_.clear();
    end(make_error_code(boost::asio::error::operation_aborted));
}

void cache_events::deliver() {
    if (!waiter_) {
        return;  // none, or cancelled (its event stays queued)
    }
    if (!queue_.empty()) {
        waiter_.complete(error_code{}, queue_.front());
        queue_.pop_front();
        waiter_ = {};
    } else if (end_) {
        waiter_.complete(end_, cache_event{});
        waiter_ = {};
    }
}

bool followed_node::older(const std::optional<node_data>& now) const {
    if (!now) {
        return false;  // a removal: renewal syncs first, so no server reports a stale absence
    }
    if (!last) {
        return now->stat.czxid <= gone_czxid;
    }
    const auto& l = last->stat;
    return now->stat.czxid < l.czxid || (now->stat.czxid == l.czxid && now->stat.mzxid < l.mzxid);
}

bool followed_node::advance(const std::string& path, std::optional<node_data> now,
                            cache_events& events) {
    if (older(now)) {
        return false;
    }
    if (last && (!now || now->stat.czxid != last->stat.czxid)) {
        events.push(cache_event{cache_event_type::removed, path, last});
        gone_czxid = last->stat.czxid;
        last.reset();
    }
    if (!now) {
        return true;
    }
    if (!last) {
        last = std::move(now);
        events.push(cache_event{cache_event_type::added, path, last});
    } else if (now->stat.mzxid > last->stat.mzxid) {
        last = std::move(now);
        events.push(cache_event{cache_event_type::updated, path, last});
    } else if (now->stat.pzxid >= last->stat.pzxid) {
        last = std::move(now);  // the same data; its children or its ACL changed
    }
    return true;
}

boost::asio::awaitable<error_code> follow_renewal(session_ptr s, std::uint64_t generation) {
    // The old generation's requests and watches may end inside the expiry's own handling,
    // before the session has moved on to the next generation: look once that is done.
    co_await boost::asio::post(s->strand(), boost::asio::use_awaitable);
    for (;;) {
        if (co_await cancellation_requested()) {
            co_return make_error_code(boost::asio::error::operation_aborted);
        }
        if (s->generation() != generation) {
            generation = s->generation();
            auto ec = co_await wait_connected(s, generation);
            if (ec != zk_errc::session_expired) {
                co_return ec;  // connected in the new generation, or its end
            }
            continue;  // that one expired too: the next
        }
        if (auto ec = s->final_error()) {
            co_return ec;
        }
        const auto now = s->state();
        auto [ec, next] = co_await call<void(error_code, session_state)>(
            [&](auto h) { s->wait_state(now, std::move(h)); });
        if (ec && ec != errc::session_closed) {
            co_return ec;
        }
        (void)next;
    }
}

void cache_core::close_here() {
    if (closed) {
        return;
    }
    closed = true;
    stop->emit(boost::asio::cancellation_type::terminal);
    if (on_close) {
        on_close();
    }
    start.complete(make_error_code(boost::asio::error::operation_aborted));
    events.close();
}

void cache_core::finish(error_code ec) {
    if (closed) {
        return;
    }
    start.complete(ec);
    events.end(ec);
}

void start_cache(const std::shared_ptr<cache_core>& c, handler<void(error_code)> h,
                 cache_follower follow, error_code refused) {
    namespace asio = boost::asio;
    const auto& s = c->session;
    if (validate_path(c->path)) {
        refused = make_error_code(errc::invalid_path);
    }
    if (refused) {
        fail(std::move(h), s->completions(), refused);
        return;
    }
    cache_start start;
    start.prepare(std::move(h), *s, [weak = std::weak_ptr<cache_core>(c)] {
        if (auto c = weak.lock()) {
            c->close_here();
        }
    });
    s->on_driver([c, start = std::move(start), follow = std::move(follow)]() mutable {
        if (c->started || c->closed) {
            start.complete(c->closed ? make_error_code(asio::error::operation_aborted)
                                     : make_error_code(errc::already_started));
            return;
        }
        c->started = true;
        c->start = std::move(start);
        asio::co_spawn(c->session->strand(), reporting_cancellation(follow()),
                       asio::bind_cancellation_slot(c->stop->slot(), [c](std::exception_ptr e,
                                                                         std::tuple<error_code> r) {
                           c->finish(e ? make_error_code(zk_errc::system_error) : std::get<0>(r));
                       }));
    });
}

void wait_cache_event(const std::shared_ptr<cache_core>& c,
                      handler<void(error_code, cache_event)> h) {
    const auto& s = c->session;
    auto w = waiter_list<void(error_code, cache_event)>::prepare(std::move(h), s->strand(),
                                                                 s->completions());
    s->on_driver([c, w = std::move(w)]() mutable { c->events.wait(std::move(w)); });
}

void close_cache(const std::shared_ptr<cache_core>& c) noexcept {
    if (!c) {
        return;
    }
    try {
        c->session->on_driver([c] { c->close_here(); });
    } catch (...) {
        // Out of memory for the post: the cache ends with its session instead.
    }
}

}  // namespace zkr::detail

namespace zkr {

const char* to_string(cache_event_type t) noexcept {
    switch (t) {
        case cache_event_type::added:
            return "added";
        case cache_event_type::updated:
            return "updated";
        case cache_event_type::removed:
            return "removed";
        case cache_event_type::initialized:
            return "initialized";
        case cache_event_type::resynced:
            return "resynced";
    }
    return "unknown";
}

}  // namespace zkr
