#include "queue_acquire.hpp"

#include "access.hpp"
#include "log.hpp"
#include "path.hpp"
#include "recycling.hpp"
#include "watch_state.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <optional>

namespace zkr::detail {
namespace {

namespace asio = boost::asio;

/// One acquisition in progress: what we know about our own node.
struct attempt {
    acquire_request req;
    /// "<dir>/_c_<uuid>-lock-": our node's path before the server appends its sequence.
    std::string create_path;
    std::optional<acquired_node> own;
    /// The ZooKeeper session it began in: it never continues in a renewed one.
    std::uint64_t generation = 0;

    const queue_spec& queue() const { return *req.queue; }
    /// "_c_<uuid>-lock-": finds our node without knowing its sequence.
    std::string_view name_prefix() const { return node_name(create_path); }
    std::string_view own_name() const { return node_name(own->path); }

    /// Our node is known: the create path, kept only to find it after a lost create, goes (a
    /// waiter may wait for hours, and there may be thousands).
    void found_own(acquired_node node) {
        own = std::move(node);
        std::string().swap(create_path);
    }
};

/// What the pipelined create and list returned.
struct first_look {
    error_code create_ec;
    created_node node;
    error_code list_ec;
    std::shared_ptr<shared_listing> listing;  ///< possibly shared with other contenders
};

/// Create and list sent back to back: ZooKeeper answers one session's requests in order, so the
/// listing already holds our node and an uncontended acquisition costs one round trip. Calls
/// `on_answer(first_look)` on the session strand once both answers are in.
template <class OnAnswer>
void create_and_list(const session_ptr& s, const std::string& path, const std::string& data,
                     const std::string& dir, OnAnswer on_answer) {
    struct join {
        OnAnswer on_answer;
        first_look look;
        int outstanding = 2;
        void arrived() {
            if (--outstanding == 0) {
                std::move(on_answer)(std::move(look));
            }
        }
    };
    // Both callbacks run on the session strand (their default executor), so no lock is needed.
    auto j =
        std::allocate_shared<join>(recycling_allocator<join>(), join{std::move(on_answer), {}, 2});
    const request_batch both(*s);
    s->create(path, data, create_mode::ephemeral_sequential,
              recycled([j](error_code ec, created_node node) {
                  j->look.create_ec = ec;
                  j->look.node = std::move(node);
                  j->arrived();
              }));
    s->first_look_listing(dir,
                          recycled([j](error_code ec, std::shared_ptr<shared_listing> listing) {
                              j->look.list_ec = ec;
                              j->look.listing = std::move(listing);
                              j->arrived();
                          }));
}

/// After a create whose answer was lost: did it happen? (find_own_nodes)
asio::awaitable<error_code> adopt_lost_create(attempt& a) {
    auto [ec, ours] =
        co_await find_own_nodes(a.req.session, a.queue().dir, std::string(a.name_prefix()));
    if (!ec && !ours.empty()) {
        ZKR_LOG(debug, a.req.channel,
                "found our node " << ours.front().path << " after a lost create");
        a.found_own(std::move(ours.front()));
    }
    co_return ec;
}

/// Phase 1, from the answers to the first create and list: our node exists and `kids` is a
/// listing that contains it (or `relist` is set).
asio::awaitable<error_code> create_node(attempt& a, first_look look, children& kids, bool& relist) {
    auto& s = a.req.session;
    for (;;) {
        if (auto ended = ended_since(*s, a.generation)) {
            co_return ended;  // nothing of this acquisition goes to a renewed session
        }
        const auto create_ec = look.create_ec;
        if (!create_ec) {
            a.found_own(acquired_node{std::move(look.node.path), look.node.stat});
            relist = static_cast<bool>(look.list_ec);
            if (look.listing) {
                kids = look.listing->kids;  // the slow path: a copy is fine
            }
            co_return error_code{};
        }
        if (create_ec == zk_errc::no_node) {
            if (auto ec = co_await ensure_path(s, a.queue().dir)) {
                co_return ec;
            }
        } else if (!is_retryable(create_ec)) {
            co_return create_ec;
        } else {
            ZKR_LOG(debug, a.req.channel,
                    "create in " << a.queue().dir << " unanswered (" << create_ec.message()
                                 << "); checking");
            if (auto ec = co_await wait_connected(s, a.generation)) {
                co_return ec;
            }
            if (auto ec = co_await adopt_lost_create(a); ec && !is_retryable(ec)) {
                co_return ec;
            }
            if (a.own) {
                relist = true;
                co_return error_code{};
            }
        }
        auto [ignored, next] = co_await call<void(error_code, first_look)>([&](auto h) {
            create_and_list(
                s, a.create_path, a.queue().data, a.queue().dir,
                [p = pending_handler<void(error_code, first_look)>(std::move(h), s->strand())](
                    first_look look) mutable { p.complete(error_code{}, std::move(look)); });
        });
        look = std::move(next);
    }
}

/// Our node, read back now, still exists and belongs to our session.
asio::awaitable<error_code> verify_owner(attempt& a) {
    auto& s = a.req.session;
    auto [ec, data] = co_await call_retrying<void(error_code, node_data)>(
        s, [&](auto h) { s->get_data(a.own->path, std::move(h)); }, a.generation);
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
    co_await forget_cancellation();
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
            if (co_await wait_connected(s, a.generation)) {
                co_return;  // session ended: nothing of ours is left
            }
            if (!co_await adopt_lost_create(a) && a.own) {
                co_await remove_for_sure(s, a.own->path);
            }
        }(a),
        asio::detached);
}

/// Names of no known scheme, warned about once per node and directory: a directory with
/// thousands of foreign nodes would otherwise fill the log at every listing.
void report_foreign(const attempt& a, const std::vector<std::string>& unknown) {
    for (const auto& name : unknown) {
        if (a.req.session->first_notice(a.queue().dir, name)) {
            ZKR_LOG(warning, a.req.channel,
                    "ignoring foreign node " << name << " in " << a.queue().dir);
        }
    }
}

/// Where we stand in a listing.
queue_view look_at(const attempt& a, const children& kids) {
    std::vector<std::string> unknown;
    auto view = evaluate(kids.names, a.own_name(), &unknown);
    report_foreign(a, unknown);
    return view;
}

/// Where we stand in a listing taken for several contenders: ordered once for all of them
/// (queue_index), instead of once per contender.
queue_view look_at(const attempt& a, shared_listing& listing) {
    if (listing.readers <= 1) {
        return look_at(a, listing.kids);
    }
    if (!listing.derived) {
        std::vector<std::string> unknown;
        listing.derived = std::make_shared<queue_index>(listing.kids.names, &unknown);
        report_foreign(a, unknown);
    }
    return static_cast<const queue_index*>(listing.derived.get())->view_of(a.own_name());
}

/// Where a step starts from.
enum class from { the_first_answer, a_relisting, the_head };

/// The slow paths, as a coroutine: creates our node if the first create failed (retrying and
/// adopting a create whose answer was lost), lists the directory again (through disconnections),
/// and, for elections, reads our node back once at the head. Ends with where our node stands
/// (verified if at the head). `first` is what the first create and list returned
/// (from::the_first_answer).
asio::awaitable<std::tuple<error_code, queue_view>> advance(attempt& a, from start,
                                                            first_look first) {
    co_await report_cancellation();  // co_spawn, not spawn
    auto& s = a.req.session;
    children kids;
    bool relist = start == from::a_relisting;
    if (!a.own) {
        if (auto ec = co_await create_node(a, std::move(first), kids, relist)) {
            co_return std::make_tuple(ec, queue_view{});
        }
    }
    queue_view view;
    if (start == from::the_head) {
        view.found = view.acquired = true;
    } else {
        if (co_await cancellation_requested()) {
            co_return std::make_tuple(make_error_code(asio::error::operation_aborted),
                                      queue_view{});
        }
        if (relist) {
            auto [list_ec, listing] = co_await call_retrying<void(error_code, children)>(
                s, [&](auto h) { s->get_children(a.queue().dir, std::move(h)); }, a.generation);
            if (list_ec) {
                co_return std::make_tuple(list_ec == zk_errc::no_node
                                              ? make_error_code(errc::lock_node_deleted)
                                              : list_ec,
                                          queue_view{});
            }
            kids = std::move(listing);
        }
        view = look_at(a, kids);
    }
    if (view.found && view.acquired && a.req.verify_owner) {
        if (auto ec = co_await verify_owner(a)) {
            co_return std::make_tuple(ec, queue_view{});
        }
    }
    co_return std::make_tuple(error_code{}, std::move(view));
}

/// One acquisition, driven from the session strand. The usual paths are callbacks: the pipelined
/// create and list, the watch on the node ahead, its deletion (the hand-off), a relisting;
/// advance() takes the rest (failed creates, disconnections, reading our node back). Only this
/// object and the watch are alive while it waits.
class acquisition final : public session_listener,
                          public std::enable_shared_from_this<acquisition> {
  public:
    acquisition(acquire_request request, handler<void(error_code, acquired_node)> on_done)
        : attempt_{std::move(request), {}, std::nullopt}, on_done_(std::move(on_done)) {
        attempt_.generation = attempt_.req.session->generation();
        if (attempt_.req.existing) {
            attempt_.own = *attempt_.req.existing;  // adopted: never created, never looked for
        } else {
            attempt_.create_path = protected_node_path(queue().dir, queue().marker);
        }
    }

    void start(asio::cancellation_slot caller) {
        if (caller.is_connected()) {
            // The caller may cancel from any thread; act on the strand. A weak reference: an
            // acquisition that has ended has nothing left to cancel.
            caller.assign([weak = weak_from_this(),
                           strand = attempt_.req.session->strand()](asio::cancellation_type) {
                asio::post(strand, [weak] {
                    if (auto self = weak.lock()) {
                        self->cancel();
                    }
                });
            });
        }
        attempt_.req.session->on_driver([self = shared_from_this()] { self->begin(); });
    }

    /// A waiting acquisition hears of the session through its requests and its watch.
    void on_session_event(session_event) override {}
    /// Our node, while we wait with it: an adoption in this process must not take it over
    /// (claim_own_node), or two handles would lead with one node.
    bool holds_node(const std::string& node) const noexcept override {
        return attempt_.own && attempt_.own->path == node;
    }

  private:
    const queue_spec& queue() const { return attempt_.queue(); }

    void cancel() {
        cancelled_ = true;
        in_flight_.emit(asio::cancellation_type::terminal);
        if (const auto& w = access::get_impl(watch_)) {
            w->cancel_here();  // the wait ends with operation_aborted
        }
    }

    /// Checked before starting each request or wait: requests do not take cancellation, so a
    /// cancellation that arrived meanwhile is only recorded. Ends the acquisition if so.
    bool ended_by_cancellation() {
        if (!cancelled_) {
            return false;
        }
        give_up(make_error_code(asio::error::operation_aborted));
        return true;
    }

    void begin() {
        if (ended_by_cancellation()) {
            return;
        }
        if (attempt_.own) {
            step(from::a_relisting);  // adopting a node of ours: where does it stand?
            return;
        }
        create_and_list(
            attempt_.req.session, attempt_.create_path, queue().data, queue().dir,
            [self = shared_from_this()](first_look look) { self->first_answer(std::move(look)); });
    }

    void first_answer(first_look look) {
        if (look.create_ec || look.list_ec) {
            step(from::the_first_answer, std::move(look));
            return;
        }
        attempt_.found_own(acquired_node{std::move(look.node.path), look.node.stat});
        on_view(look_at(attempt_, *look.listing));
    }

    /// Acts on where our node stands in a listing.
    void on_view(const queue_view& view) {
        if (ended_by_cancellation()) {
            return;
        }
        if (!view.found) {
            give_up(make_error_code(errc::lock_node_deleted));
        } else if (view.acquired) {
            at_head();
        } else if (attempt_.req.try_only) {
            clean_up_then_finish(error_code{});
        } else {
            watch_ahead(view);
        }
    }

    void at_head() {
        if (ended_by_cancellation()) {
            return;
        }
        if (attempt_.req.verify_owner) {
            step(from::the_head);
        } else {
            acquired();
        }
    }

    /// Watches the one node that blocks us (no herd: every waiter watches another node).
    void watch_ahead(const queue_view& view) {
        waited_ = true;
        if (!listening_) {
            // Only waiters: an acquisition at the head hands its node to its lock_state at once.
            listening_ = true;
            attempt_.req.session->add_listener(weak_from_this());
        }
        ZKR_LOG(debug, attempt_.req.channel,
                attempt_.own->path << " waits behind " << view.blockers << " node(s), watching "
                                   << view.watch);
        if (view.watch_is_last_blocker) {
            watch_own_node();  // its deletion will be the hand-off: no listing after it
        }
        attempt_.req.session->watch_data(
            join_path(queue().dir, view.watch),
            recycled([self = shared_from_this(), last = view.watch_is_last_blocker](
                         error_code ec, node_data, zkr::watch w) {
                if (ec == zk_errc::no_node) {
                    self->ahead_gone(last);  // gone before we could watch it
                } else if (is_retryable(ec)) {
                    self->step(from::a_relisting);
                } else if (ec) {
                    self->give_up(ec);
                } else {
                    self->wait(std::move(w), last);
                }
            }));
    }

    void wait(zkr::watch w, bool watched_last_blocker) {
        if (ended_by_cancellation()) {
            return;
        }
        watch_ = std::move(w);
        // In place on the driver strand: the hand-off continues inside the C client's callback.
        access::get_impl(watch_)->wait_here(recycled(
            [self = shared_from_this(), watched_last_blocker](error_code ec, watch_event event) {
                self->watch_ = zkr::watch{};
                if (ec) {
                    self->give_up(ec);
                    return;
                }
                self->ahead_gone(event.type == watch_event_type::deleted && watched_last_blocker);
            }));
    }

    /// The node ahead of us went away (or changed).
    void ahead_gone(bool it_was_the_last_blocker) {
        // Fast hand-off: sequence numbers only grow, so once our only blocker is gone nothing
        // can be ahead of us any more (except a downgrade's read node, for a writer of a
        // read-write lock). Otherwise the queue may have changed: list again.
        if (!it_was_the_last_blocker || !attempt_.req.fast_handoff) {
            relist();
        } else if (attempt_.req.verify_owner || own_node_unchanged()) {
            at_head();  // (an election reads our node back anyway)
        } else {
            confirm_own_node();
        }
    }

    /// Before a fast hand-off completes, our node must still be there: someone (an operator, a
    /// bug elsewhere) may have deleted it while we waited; the waiter behind us then believes,
    /// rightly, that it leads, and we must not believe it too. A watch on our own node, sent
    /// just before the one on the node ahead (so in the same round trip, off the hand-off's
    /// path), answers that without a request: ZooKeeper sends a session's watch events in the
    /// order of the changes, so a deletion of our node before the one ahead would have reached
    /// its watch first. It serves the holder afterwards as its loss watch. Armed only by the
    /// second in line (further back, the node ahead going is followed by a listing, which shows
    /// our node anyway), and not when the session's watches are near their budget (a long queue
    /// in one process keeps the room for the watches on the nodes ahead): the hand-off then asks
    /// the server (confirm_own_node).
    void watch_own_node() {
        const auto& r = attempt_.req;
        if (!r.watch_own_node || !r.fast_handoff || r.verify_owner || attempt_.own->armed ||
            !r.session->watch_room_to_spare()) {
            return;
        }
        r.session->watch_data(attempt_.own->path, [self = shared_from_this()](
                                                      error_code ec, node_data d, zkr::watch w) {
            auto& own = self->attempt_.own;
            // Kept with the node it watches (not with one that replaced it meanwhile).
            if (!ec && own && d.stat.czxid == own->stat.czxid &&
                d.stat.ephemeral_owner == self->attempt_.req.session->session_id()) {
                own->armed = std::make_shared<armed_node_watch>(
                    armed_node_watch{std::move(w), std::move(d.data)});
            }  // else the hand-off asks the server, as without this watch
        });
    }

    /// True if the watch on our own node has seen nothing: no deletion, no change, and no
    /// connection loss (after a reconnect the C client re-arms watches, and the server fires
    /// the re-armed ones in its own order, not in the order of the changes).
    bool own_node_unchanged() const {
        const auto* own_watch =
            attempt_.own && attempt_.own->armed ? &attempt_.own->armed->watch : nullptr;
        const auto* w = own_watch ? access::get_impl(*own_watch).get() : nullptr;
        return w != nullptr && !w->has_outcome() && !w->interrupted;
    }

    /// The hand-off's question without the watch: one request, no listing.
    void confirm_own_node() {
        if (ended_by_cancellation()) {
            return;
        }
        attempt_.req.session->exists(
            attempt_.own->path,
            [self = shared_from_this()](error_code ec, std::optional<zkr::stat> st) {
                if (!ec && st && st->ephemeral_owner == self->attempt_.req.session->session_id()) {
                    self->at_head();
                } else if (!ec) {
                    self->give_up(make_error_code(errc::lock_node_deleted));
                } else if (is_retryable(ec)) {
                    self->step(from::a_relisting);  // the listing says where we stand
                } else {
                    self->give_up(ec);
                }
            });
    }

    void relist() {
        if (ended_by_cancellation()) {
            return;
        }
        attempt_.req.session->get_children(
            queue().dir, recycled([self = shared_from_this()](error_code ec, children kids) {
                if (!ec) {
                    self->on_view(look_at(self->attempt_, kids));
                } else if (ec == zk_errc::no_node) {
                    self->give_up(make_error_code(errc::lock_node_deleted));
                } else if (is_retryable(ec)) {
                    self->step(from::a_relisting);  // lists again once connected
                } else {
                    self->give_up(ec);
                }
            }));
    }

    void step(from start, first_look first = {}) {
        if (ended_by_cancellation()) {
            return;
        }
        asio::co_spawn(
            attempt_.req.session->strand(), advance(attempt_, start, std::move(first)),
            asio::bind_cancellation_slot(
                in_flight_.slot(), [self = shared_from_this()](
                                       std::exception_ptr e, std::tuple<error_code, queue_view> r) {
                    auto& [ec, view] = r;
                    if (e) {
                        ec = make_error_code(zk_errc::system_error);
                    }
                    self->after_step(ec, view);
                }));
    }

    void after_step(error_code ec, const queue_view& view) {
        if (ec) {
            give_up(ec);
        } else if (ended_by_cancellation()) {
            return;
        } else if (view.found && view.acquired) {
            acquired();  // advance() has verified what needed verifying
        } else {
            on_view(view);
        }
    }

    void acquired() {
        ZKR_LOG(debug, attempt_.req.channel, "acquired " << attempt_.own->path);
        attempt_.own->waited = waited_;
        if (auto& own_watch = attempt_.own->armed; own_watch && !own_watch->watch.armed()) {
            own_watch.reset();  // it fired or the session moved on: the holder arms its own
        }
        finish(error_code{}, std::move(*attempt_.own));
    }

    /// Ends without the lock.
    void give_up(error_code ec) {
        if (ec == errc::lock_node_deleted || is_session_lost(ec)) {
            finish(ec, acquired_node{});  // nothing to delete: our node is already gone
            return;
        }
        ZKR_LOG(debug, attempt_.req.channel,
                "acquisition in " << queue().dir << " ends: " << ec.message());
        clean_up_then_finish(ec);
    }

    void clean_up_then_finish(error_code ec) {
        asio::co_spawn(attempt_.req.session->strand(), clean_up(attempt_),
                       [self = shared_from_this(), ec](std::exception_ptr) {
                           self->finish(ec, acquired_node{});
                       });
    }

    void finish(error_code ec, acquired_node node) {
        if (listening_) {
            attempt_.req.session->remove_listener(this);  // the lock's state holds it now
        }
        auto done = std::move(on_done_);
        std::move(done)(ec, std::move(node));
    }

    attempt attempt_;
    handler<void(error_code, acquired_node)> on_done_;
    asio::cancellation_signal in_flight_;  ///< cancels the step or the wait in progress
    bool cancelled_ = false;
    bool waited_ = false;     ///< found a holder ahead of us: acquired_node::waited
    bool listening_ = false;  ///< added to the session's listeners (holds_node)
    zkr::watch watch_;
};

}  // namespace

void acquire(acquire_request request, asio::cancellation_slot slot,
             handler<void(error_code, acquired_node)> on_done) {
    std::allocate_shared<acquisition>(recycling_allocator<acquisition>(), std::move(request),
                                      std::move(on_done))
        ->start(slot);
}

}  // namespace zkr::detail
