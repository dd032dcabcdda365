// A node kept in existence: one long-running coroutine (`keep`) per started object, on the
// driver strand, that makes sure the node exists with the desired data, watches it, and sleeps
// until something changes (the watch fires, the session expires or renews, the data is set, the
// object is closed, a TTL node is due to be touched).
#include "access.hpp"
#include "contender.hpp"
#include "coroutines.hpp"
#include "log.hpp"
#include "path.hpp"

#include <zkr/log.hpp>
#include <zkr/names.hpp>
#include <zkr/persistent_node.hpp>
#include <zkr/session.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <list>
#include <mutex>
#include <optional>

namespace zkr {
namespace detail {

namespace asio = boost::asio;

namespace {
constexpr const char* channel = log::channels::persistent_node;

bool is_ephemeral(persistent_node_mode m) {
    return m == persistent_node_mode::ephemeral || m == persistent_node_mode::protected_ephemeral;
}

create_mode create_mode_of(persistent_node_mode m) {
    switch (m) {
        case persistent_node_mode::ephemeral:
            return create_mode::ephemeral;
        case persistent_node_mode::protected_ephemeral:
            return create_mode::ephemeral_sequential;
        case persistent_node_mode::persistent:
            return create_mode::persistent;
        case persistent_node_mode::persistent_with_ttl:
            return create_mode::persistent_with_ttl;
    }
    return create_mode::ephemeral;
}

}  // namespace

class persistent_node_impl final : public session_listener,
                                   public std::enable_shared_from_this<persistent_node_impl> {
  public:
    persistent_node_impl(session_ptr s, std::string p, std::string data, persistent_node_options o)
        : session(std::move(s)),
          path(std::move(p)),
          options(o),
          uuid(make_uuid()),
          desired_(std::move(data)),
          wake_(session->strand()) {}

    const session_ptr session;
    const std::string path;
    const persistent_node_options options;
    const std::string uuid;

    // ---- session_listener (driver strand) ----
    void on_session_event(session_event event) override {
        if (event == session_event::expired && is_ephemeral(options.mode)) {
            // Gone with the session, from now on: a wait for it waits for the next one.
            exists_ = false;
            set_current({});
        }
        if (event == session_event::expired || event == session_event::renewed ||
            event == session_event::closed) {
            kick();
        }
    }
    bool holds_node(const std::string& node) const noexcept override {
        return node_ && node_->path == node;
    }

    std::size_t desired_size() const noexcept { return desired_.size(); }

    std::string node_path() const {
        std::lock_guard lock(path_mutex_);
        return current_path_;
    }

    // ---- operations (driver strand) ----
    void start(handler<void(error_code)> h) {
        if (started_ || closing_) {
            fail(std::move(h), session->completions(), make_error_code(errc::already_started));
            return;
        }
        started_ = true;
        add_waiter(&persistent_node_impl::created_waiters_, 0, std::move(h));
        session->add_listener(weak_from_this(), listener_scope::lasting);
        running_ = true;
        asio::co_spawn(session->strand(), keep(shared_from_this()), asio::detached);
    }

    void wait_created(handler<void(error_code)> h) {
        if (stop_error_) {
            fail(std::move(h), session->completions(), stop_error_);
        } else if (closing_) {
            fail(std::move(h), session->completions(),
                 make_error_code(asio::error::operation_aborted));
        } else if (exists_) {
            fail(std::move(h), session->completions(), error_code{});
        } else {
            add_waiter(&persistent_node_impl::created_waiters_, 0, std::move(h));
        }
    }

    void set_data(std::string data, handler<void(error_code)> h) {
        if (stop_error_) {
            fail(std::move(h), session->completions(), stop_error_);
            return;
        }
        if (closing_) {
            fail(std::move(h), session->completions(),
                 make_error_code(asio::error::operation_aborted));
            return;
        }
        desired_ = std::move(data);
        ++desired_seq_;
        if (!started_) {
            fail(std::move(h), session->completions(), error_code{});
            return;
        }
        add_waiter(&persistent_node_impl::set_waiters_, desired_seq_, std::move(h));
        kick();
    }

    void close(std::optional<handler<void(error_code)>> h) {
        closing_ = true;
        if (!running_) {
            const auto aborted = make_error_code(asio::error::operation_aborted);
            complete_all(&persistent_node_impl::created_waiters_, aborted);
            complete_all(&persistent_node_impl::set_waiters_, aborted);
            if (h) {
                fail(std::move(*h), session->completions(), error_code{});
            }
            return;
        }
        if (h) {
            add_waiter(&persistent_node_impl::close_waiters_, 0, std::move(*h));
        }
        kick();
    }

  private:
    struct own_node {
        std::string path;
        std::int64_t czxid = 0;
        std::uint64_t generation = 0;
    };
    struct waiter {
        std::uint64_t id;
        std::uint64_t seq;
        pending_handler<void(error_code)> h;
    };
    using waiter_list = std::list<waiter> persistent_node_impl::*;
    enum class next { wait, again, stop };

    void add_waiter(waiter_list list, std::uint64_t seq, handler<void(error_code)> h) {
        const auto id = ++next_waiter_;
        auto slot = asio::get_associated_cancellation_slot(h);
        if (slot.is_connected() && list != &persistent_node_impl::close_waiters_) {
            slot.assign([weak = weak_from_this(), list, id,
                         strand = session->strand()](asio::cancellation_type) {
                asio::post(strand, [weak, list, id] {
                    if (auto self = weak.lock()) {
                        self->complete_if(list, make_error_code(asio::error::operation_aborted),
                                          [id](const waiter& w) { return w.id == id; });
                    }
                });
            });
        }
        (this->*list).push_back(waiter{id, seq, {std::move(h), session->completions()}});
    }

    template <class Pred>
    void complete_if(waiter_list list, error_code ec, Pred pred) {
        auto& waiters = this->*list;
        for (auto it = waiters.begin(); it != waiters.end();) {
            if (pred(*it)) {
                asio::get_associated_cancellation_slot(it->h.get()).clear();
                it->h.complete(ec);
                it = waiters.erase(it);
            } else {
                ++it;
            }
        }
    }
    void complete_all(waiter_list list, error_code ec) {
        complete_if(list, ec, [](const waiter&) { return true; });
    }

    void kick() {
        dirty_ = true;
        wake_.cancel();
    }

    void set_current(const std::string& p) {
        std::lock_guard lock(path_mutex_);
        current_path_ = p;
    }

    void adopt(std::string p, const zkr::stat& st, std::uint64_t generation, bool data_current) {
        node_ = own_node{std::move(p), st.czxid, generation};
        written_seq_ = data_current ? desired_seq_ : 0;
        last_write_ = std::chrono::steady_clock::now();
    }
    void forget() {
        node_.reset();
        exists_ = false;
        watch_ = zkr::watch{};
        set_current({});
    }

    /// The node exists, is ours and holds the desired data.
    void created() {
        exists_ = true;
        taken_reported_ = false;
        set_current(node_->path);
        complete_all(&persistent_node_impl::created_waiters_, {});
        complete_if(&persistent_node_impl::set_waiters_, {},
                    [seq = written_seq_](const waiter& w) { return w.seq <= seq; });
    }

    void stop_with(error_code ec) {
        stop_error_ = ec;
        complete_all(&persistent_node_impl::created_waiters_, ec);
        complete_all(&persistent_node_impl::set_waiters_, ec);
    }

    void watch_node(zkr::watch w) {
        watch_ = std::move(w);
        // Our own replacing or dropping of the watch aborts its wait: nothing to look at then.
        watch_.async_wait(asio::bind_executor(
            session->strand(), [weak = weak_from_this()](error_code ec, watch_event) {
                if (ec == asio::error::operation_aborted) {
                    return;
                }
                if (auto self = weak.lock()) {
                    self->kick();
                }
            }));
    }

    /// After a request failed with `ec`: the next round, or the end when the session has ended
    /// for good (a renewing session has a next generation for us).
    next after_failure(error_code ec) {
        if (auto final = session->final_error()) {
            stop_with(final);
            return next::stop;
        }
        if (is_retryable(ec) || is_session_lost(ec)) {
            return next::again;
        }
        if (ec == zk_errc::unimplemented) {
            ec = make_error_code(errc::ttl_disabled);  // as session::async_create_ttl says it
        }
        ZKR_LOG(error, channel, "cannot keep " << path << ": " << ec.message());
        stop_with(ec);
        return next::stop;
    }

    bool touch_due() const {
        return options.mode == persistent_node_mode::persistent_with_ttl &&
               std::chrono::steady_clock::now() - last_write_ >= options.ttl / 2;
    }

    /// One look: our node exists with the desired data and is watched (wait), something changed
    /// meanwhile (again), or the node cannot be kept (stop).
    asio::awaitable<next> round() {
        const auto& s = session;
        const auto generation = s->generation();
        if (auto ec = co_await wait_connected(s, generation)) {
            co_return after_failure(ec);
        }
        if (node_ && is_ephemeral(options.mode) && node_->generation != generation) {
            forget();  // it went with its session
        }
        if (node_) {
            co_return co_await look_at_ours();
        }
        exists_ = false;
        co_return co_await create(generation);
    }

    asio::awaitable<next> look_at_ours() {
        const auto& s = session;
        auto [ec, st, w] = co_await call<void(error_code, std::optional<zkr::stat>, zkr::watch)>(
            [&](auto h) { s->watch_exists(node_->path, std::move(h)); });
        if (ec) {
            co_return after_failure(ec);
        }
        if (!st || st->czxid != node_->czxid) {
            // Deleted, or deleted and replaced by someone else's: ours is to be made again.
            ZKR_LOG(info, channel, node_->path << " was deleted: creating it again");
            forget();
            co_return next::again;
        }
        if (written_seq_ != desired_seq_ || touch_due()) {
            const auto seq = desired_seq_;
            // Both watches would fire with our own write: drop them, and arm one afterwards.
            watch_ = zkr::watch{};
            w = zkr::watch{};
            auto [sec, written] = co_await call<void(error_code, zkr::stat)>(
                [&](auto h) { s->set_data(node_->path, desired_, st->version, std::move(h)); });
            if (sec == zk_errc::no_node || sec == zk_errc::bad_version) {
                co_return next::again;  // changed meanwhile: look again
            }
            if (sec) {
                co_return after_failure(sec);
            }
            written_seq_ = seq;
            last_write_ = std::chrono::steady_clock::now();
            co_return next::again;  // the next round watches it
        }
        watch_node(std::move(w));
        created();
        co_return next::wait;
    }

    asio::awaitable<next> create(std::uint64_t generation) {
        const auto& s = session;
        const bool protect = options.mode == persistent_node_mode::protected_ephemeral;
        const auto dir = std::string(parent_path(path));
        const auto prefix = protected_prefix(uuid, "-");
        const auto target = protect ? join_path(dir, prefix + std::string(node_name(path))) : path;
        if (is_ephemeral(options.mode) && unsure_generation_ != generation) {
            unsure_ = false;  // what the last generation may have made went with it
        }
        for (;;) {
            if (closing_) {
                co_return next::again;
            }
            if (protect && unsure_) {
                // Did the create whose answer was lost happen? Our uuid tells.
                auto [fec, ours] = co_await find_own_nodes(s, dir, prefix);
                if (fec) {
                    co_return after_failure(fec);
                }
                unsure_ = false;
                if (!ours.empty()) {
                    adopt(ours.front().path, ours.front().stat, generation, false);
                    for (std::size_t i = 1; i < ours.size(); ++i) {
                        remove_in_background(s, ours[i].path, channel);
                    }
                    co_return next::again;
                }
            }
            const auto seq = desired_seq_;
            auto [ec, made] = co_await call<void(error_code, created_node)>([&](auto h) {
                s->create(target, desired_, create_mode_of(options.mode), std::move(h),
                          options.ttl.count());
            });
            if (!ec) {
                unsure_ = false;
                adopt(made.path, made.stat, generation, seq == desired_seq_);
                co_return next::again;  // the next round watches it
            }
            if (is_retryable(ec)) {
                unsure_ = true;
                unsure_generation_ = generation;
                if (auto wec = co_await wait_connected(s, generation)) {
                    co_return after_failure(wec);
                }
                continue;
            }
            if (ec == zk_errc::no_node && dir != "/") {
                if (auto pec = co_await ensure_path(s, dir)) {
                    co_return after_failure(pec);
                }
                continue;
            }
            if (ec == zk_errc::node_exists && !protect) {
                auto [gec, got] = co_await call<void(error_code, node_data)>(
                    [&](auto h) { s->get_data(path, std::move(h)); });
                if (gec == zk_errc::no_node) {
                    continue;  // gone meanwhile
                }
                if (gec) {
                    co_return after_failure(gec);
                }
                const auto owner = got.stat.ephemeral_owner;
                const bool ours = is_ephemeral(options.mode)
                                      ? owner == s->session_id() && !s->holds_node(path)
                                      // A persistent node has no owner: our lost create is
                                      // recognised by its data (see docs/long-lived.md).
                                      : unsure_ && owner == 0 && got.data == desired_;
                unsure_ = false;
                if (ours) {
                    adopt(path, got.stat, generation, got.data == desired_);
                    co_return next::again;
                }
                co_return co_await wait_taken();
            }
            co_return after_failure(ec);
        }
    }

    /// Another session's node holds the path: say so once, and watch it go.
    asio::awaitable<next> wait_taken() {
        const auto& s = session;
        auto [ec, st, w] = co_await call<void(error_code, std::optional<zkr::stat>, zkr::watch)>(
            [&](auto h) { s->watch_exists(path, std::move(h)); });
        if (ec) {
            co_return after_failure(ec);
        }
        if (!st) {
            co_return next::again;
        }
        if (!taken_reported_) {
            taken_reported_ = true;
            ZKR_LOG(warning, channel,
                    path << " is held by another session's node: waiting for it to go");
            complete_all(&persistent_node_impl::created_waiters_,
                         make_error_code(errc::node_taken));
        }
        watch_node(std::move(w));
        co_return next::wait;
    }

    /// Deletes our node once we stop, if it is still ours (its czxid): never another's.
    asio::awaitable<void> remove_own() {
        const auto& s = session;
        while (node_) {
            if (s->final_error()) {
                break;  // its ephemeral nodes went with it; nothing can be sent
            }
            const auto generation = s->generation();
            if (is_ephemeral(options.mode) && node_->generation != generation) {
                break;
            }
            if (co_await wait_connected(s, generation)) {
                continue;
            }
            auto [ec, st] = co_await call<void(error_code, std::optional<zkr::stat>)>(
                [&](auto h) { s->exists(node_->path, std::move(h)); });
            if (is_retryable(ec) || is_session_lost(ec)) {
                continue;  // a persistent node outlives a renewal: delete it in the next one
            }
            if (ec || !st || st->czxid != node_->czxid) {
                break;
            }
            auto [rec] = co_await call<void(error_code)>(
                [&](auto h) { s->remove(node_->path, st->version, std::move(h)); });
            if (!rec || rec == zk_errc::no_node) {
                break;
            }
            if (rec != zk_errc::bad_version && !is_retryable(rec) && !is_session_lost(rec)) {
                ZKR_LOG(error, channel,
                        "could not delete " << node_->path << ": " << rec.message());
                break;
            }
        }
        forget();
    }

    static asio::awaitable<void> keep(std::shared_ptr<persistent_node_impl> n) {
        while (!n->closing_) {
            n->dirty_ = false;
            const auto step = co_await n->round();
            if (step == next::stop) {
                break;
            }
            if (n->closing_ || n->dirty_ || step == next::again) {
                continue;
            }
            if (n->exists_ && n->options.mode == persistent_node_mode::persistent_with_ttl) {
                n->wake_.expires_at(n->last_write_ + n->options.ttl / 2);
            } else {
                n->wake_.expires_at(asio::steady_timer::time_point::max());
            }
            co_await n->wake_.async_wait(use_tuple);
        }
        co_await n->remove_own();
        n->running_ = false;
        n->session->remove_listener(n.get());
        const auto aborted = make_error_code(asio::error::operation_aborted);
        n->complete_all(&persistent_node_impl::created_waiters_, aborted);
        n->complete_all(&persistent_node_impl::set_waiters_, aborted);
        n->complete_all(&persistent_node_impl::close_waiters_, {});
    }

    // Driver strand.
    std::string desired_;
    std::uint64_t desired_seq_ = 1;  // the data as constructed is the first
    std::uint64_t written_seq_ = 0;  // what our node holds
    std::chrono::steady_clock::time_point last_write_{};
    std::optional<own_node> node_;
    bool exists_ = false;
    bool started_ = false;
    bool running_ = false;
    bool closing_ = false;
    bool dirty_ = false;
    bool taken_reported_ = false;
    // A create of ours may have been applied unanswered (in that generation).
    bool unsure_ = false;
    std::uint64_t unsure_generation_ = 0;
    error_code stop_error_;
    zkr::watch watch_;
    asio::steady_timer wake_;
    std::uint64_t next_waiter_ = 0;
    std::list<waiter> created_waiters_;
    std::list<waiter> set_waiters_;
    std::list<waiter> close_waiters_;
    // node_path() may be called from any thread.
    mutable std::mutex path_mutex_;
    std::string current_path_;
};

}  // namespace detail

persistent_node::persistent_node(session& s, std::string path, std::string data,
                                 persistent_node_options options)
    : persistent_node(detail::access::seam(s), std::move(path), std::move(data), options) {}

persistent_node::persistent_node(std::shared_ptr<detail::session_seam> s, std::string path,
                                 std::string data, persistent_node_options options)
    : impl_(std::make_shared<detail::persistent_node_impl>(std::move(s), std::move(path),
                                                           std::move(data), options)) {}

persistent_node::persistent_node(persistent_node&&) noexcept = default;

persistent_node& persistent_node::operator=(persistent_node&& other) noexcept {
    if (this != &other) {
        persistent_node gone(std::move(*this));
        impl_ = std::move(other.impl_);
    }
    return *this;
}

persistent_node::~persistent_node() {
    if (impl_) {
        try {
            impl_->session->on_driver([impl = impl_] { impl->close(std::nullopt); });
        } catch (...) {
        }
    }
}

const std::string& persistent_node::path() const noexcept {
    return detail::access::path_of(*this);
}

std::string persistent_node::node_path() const {
    return impl_ ? impl_->node_path() : std::string{};
}

void persistent_node::initiate_start(const impl_ptr& n, detail::handler<void(error_code)> h) {
    const auto& s = n->session;
    const auto& o = n->options;
    const bool protect = o.mode == persistent_node_mode::protected_ephemeral;
    const auto node =
        protect ? detail::join_path(detail::parent_path(n->path),
                                    detail::protected_prefix(n->uuid, "-") +
                                        std::string(detail::node_name(n->path)) + "0000000000")
                : n->path;
    if (detail::validate_path(n->path) || n->path == "/" || detail::validate_path(node)) {
        detail::fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    const bool ttl_mode = o.mode == persistent_node_mode::persistent_with_ttl;
    if (ttl_mode != (o.ttl.count() > 0) || o.ttl.count() < 0) {
        detail::fail(std::move(h), s->completions(), make_error_code(errc::invalid_argument));
        return;
    }
    s->on_driver([n, node, h = std::move(h)]() mutable {
        if (auto ec = n->session->check_request_size(node, n->desired_size())) {
            detail::fail(std::move(h), n->session->completions(), ec);
            return;
        }
        n->start(std::move(h));
    });
}

void persistent_node::initiate_wait_created(const impl_ptr& n,
                                            detail::handler<void(error_code)> h) {
    n->session->on_driver([n, h = std::move(h)]() mutable { n->wait_created(std::move(h)); });
}

void persistent_node::initiate_set_data(const impl_ptr& n, std::string data,
                                        detail::handler<void(error_code)> h) {
    if (auto ec = n->session->check_request_size(n->path + "0000000000" + n->uuid, data.size())) {
        detail::fail(std::move(h), n->session->completions(), ec);
        return;
    }
    n->session->on_driver([n, data = std::move(data), h = std::move(h)]() mutable {
        n->set_data(std::move(data), std::move(h));
    });
}

void persistent_node::initiate_close(const impl_ptr& n, detail::handler<void(error_code)> h) {
    n->session->on_driver([n, h = std::move(h)]() mutable { n->close(std::move(h)); });
}

}  // namespace zkr
