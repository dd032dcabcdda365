// The ZooKeeper requests of a session (the connection is session_connection.cpp's). The C
// client's callbacks live in c_bridge.cpp, its I/O in transport.cpp; everything here runs on the
// driver strand unless it says otherwise.
#include "session_impl.hpp"

#include "c_bridge.hpp"
#include "io_thread.hpp"
#include "log.hpp"
#include "observed_request.hpp"
#include "path.hpp"
#include "recycling.hpp"
#include "watch_state.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <zookeeper/zookeeper.h>

namespace zkr::detail {
namespace {

namespace asio = boost::asio;

constexpr const char* channel = log::channels::session;

using any_strand = asio::strand<asio::any_io_executor>;

/// A strand over the concrete io_context executor when that is what we were given: a Boost 1.81
/// strand queries its inner executor's blocking property on every execute, and through an
/// any_io_executor each such query allocates its answer (a third of the allocations of an
/// uncontended lock cycle, measured with bench/callgrind.py). A strand given to us is kept.
asio::any_io_executor make_session_strand(const asio::any_io_executor& ex) {
    if (ex.target<io_strand>() != nullptr || ex.target<any_strand>() != nullptr) {
        return ex;
    }
    if (const auto* io = ex.target<asio::io_context::executor_type>()) {
        return asio::make_strand(*io);
    }
    return asio::make_strand(ex);
}

}  // namespace

struct session_impl::acl_storage {
    explicit acl_storage(acl_list acl) : entries(std::move(acl)) {
        c_entries.reserve(entries.size());
        for (auto& e : entries) {
            c_entries.push_back(ACL{e.permissions, Id{e.scheme.data(), e.id.data()}});
            bytes += 12 + e.scheme.size() + e.id.size();  // permissions, two strings
        }
        vector.count = static_cast<std::int32_t>(c_entries.size());
        vector.data = c_entries.data();
    }
    acl_list entries;  // owns the strings c_entries points into
    std::vector<ACL> c_entries;
    ACL_vector vector{};
    std::size_t bytes = 4;  // as serialised in a create request
};

namespace {

/// A request's fixed part: the length prefix, the request header, the fields around the path
/// and the data, with room to spare.
constexpr std::size_t request_overhead = 64;

/// Room kept in the packet that re-arms watches for its header and the relative zxid.
constexpr std::size_t watch_packet_overhead = 1024;

}  // namespace

error_code session_impl::check_request_size(const std::string& path, std::size_t data_bytes) const {
    const auto bytes = request_overhead + chroot_length_ + path.size() + data_bytes + acl_->bytes;
    if (bytes <= config_.max_packet_bytes) {
        return {};
    }
    ZKR_LOG(error, channel,
            "a request of " << bytes << " bytes on " << path
                            << " exceeds the servers' packet limit of " << config_.max_packet_bytes
                            << " bytes: refused");
    return make_error_code(errc::request_too_large);
}

std::size_t session_impl::watch_bytes(const std::string& path) const noexcept {
    return 4 + chroot_length_ + path.size();
}

bool session_impl::watch_room_to_spare() const noexcept {
    return transport_->registry().watch_bytes() < config_.max_packet_bytes / 4;
}

error_code session_impl::check_watch_budget(const std::string& path) {
    const auto armed = transport_->registry().watch_bytes();
    if (armed + watch_bytes(path) + watch_packet_overhead <= config_.max_packet_bytes) {
        watch_budget_full_.store(false, std::memory_order_relaxed);
        return {};
    }
    // A long queue meets the limit once per waiter past it: one line says it for all of them.
    if (!watch_budget_full_.exchange(true, std::memory_order_relaxed)) {
        ZKR_LOG(error, channel,
                "a watch on " << path << " refused: the session's watches (" << armed
                              << " bytes) would no longer fit in the " << config_.max_packet_bytes
                              << "-byte packet that re-arms them after a reconnect (further "
                                 "refusals are not logged until a watch is free)");
    }
    return make_error_code(errc::too_many_watches);
}

session_impl::executors session_impl::choose_executors(const asio::any_io_executor& ex,
                                                       bool dedicated_io_thread) {
    // With zkr's own thread the user's executor is used as given: this object may be destroyed
    // on that thread after the user's io_context (a close finishing there), and a strand of
    // ours over it could not be.
    if (dedicated_io_thread) {
        auto thread = io_thread::acquire();
        auto driver = asio::any_io_executor(asio::make_strand(thread->get_executor()));
        return {ex, std::move(thread), std::move(driver)};
    }
    auto user = make_session_strand(ex);
    return {user, nullptr, user};
}

session_impl::session_impl(asio::any_io_executor ex, session_config config)
    : session_impl(choose_executors(ex, config.dedicated_io_thread), std::move(config)) {}

session_impl::session_impl(executors ex, session_config config)
    : session_seam(ex.driver, ex.user, ex.thread, config.observer),
      config_(std::move(config)),
      io_thread_(std::move(ex.thread)),
      open_on_thread_(io_thread_ ? io_thread_->mark_open() : io_thread::open_session()),
      fsm_(config_.connect_timeout, config_.renew_after_expiry),
      transport_(std::make_shared<transport>(strand(), io_thread_)),
      timer_(strand()),
      quorum_(
          *this, [this] { return negotiated_timeout(); },
          [this] { notify(session_event::quorum_unreachable); },
          [this](bool watch, handler<void(error_code, node_data, zkr::watch)> h) {
              read_config(watch, std::move(h));
          }),
      acl_(std::make_unique<acl_storage>(config_.acl)) {
    if (const auto slash = config_.hosts.find('/'); slash != std::string::npos) {
        chroot_length_ = config_.hosts.size() - slash;
    }
    if (config_.tls) {
        tunnels_ = std::make_shared<tls_tunnels>(strand(), *config_.tls, config_.session_timeout);
    }
}

session_impl::~session_impl() {
    // Normally closed by now (the public session's destructor starts it). If not, the
    // transport frees the C handle when its last wait is gone.
    if (transport_->is_open()) {
        asio::post(strand(), [t = transport_, ec = final_error(), tunnels = tunnels_] {
            t->close(ec, [tunnels] {
                if (tunnels) {
                    tunnels->close();  // the C client's goodbye went through them
                }
            });
        });
    }
}

bool session_impl::running_in_driver() const noexcept {
    if (const auto* s = strand().target<io_strand>()) {
        return s->running_in_this_thread();
    }
    if (const auto* s = strand().target<any_strand>()) {
        return s->running_in_this_thread();
    }
    return false;
}

client_id session_impl::id() const {
    std::lock_guard lock(password_mutex_);
    return client_id{session_id_.load(), password_};
}

std::size_t session_impl::pending_operations() const noexcept {
    return current_transport()->registry().size();
}

std::shared_ptr<transport> session_impl::current_transport() const {
    std::lock_guard lock(transport_mutex_);
    return transport_;
}

void session_impl::begin_request_batch() {
    if (batch_depth_++ == 0 && transport_) {
        batch_transport_ = transport_;
        batch_transport_->hold_updates();
    }
}

void session_impl::end_request_batch() {
    if (--batch_depth_ == 0 && batch_transport_) {
        const auto batched_on = std::move(batch_transport_);
        batched_on->release_updates();
    }
}

template <class Op, class Start>
void session_impl::start_request(std::unique_ptr<Op> op, Start start) {
    if (!running_in_driver()) {
        asio::post(strand(), [self = self(), op = std::move(op), start]() mutable {
            self->start_request(std::move(op), std::move(start));
        });
        return;
    }
    if (!transport_->is_open()) {
        op->fail_later(strand(), unavailable_error());
        return;
    }
    if (op->watch_wanted) {
        if (auto ec = check_watch_budget(op->path)) {
            op->fail_later(strand(), ec);
            return;
        }
    }
    op->register_op(transport_->registry(), watch_bytes(op->path));
    const int rc = transport_->call([&](zhandle_t* zh) { return start(zh, op.get()); });
    if (rc == ZOK) {
        static_cast<void>(op.release());  // the C client calls it back
        return;
    }
    op->unregister_op();
    auto ec = from_zk_code(rc);
    if (rc == ZINVALIDSTATE) {
        ec = unavailable_error() == errc::not_connected ? ec : unavailable_error();
    }
    op->fail_later(strand(), ec);
}

void session_impl::create(std::string path, std::string data, create_mode mode,
                          handler<void(error_code, created_node)> h, std::int64_t ttl_ms) {
    auto op = std::make_unique<create_op>(
        observe_round_trip(observer(), request_kind::create, quorum_.confirming(std::move(h))),
        std::move(path));
    if (auto ec = check_request_size(op->path, data.size())) {
        op->fail_later(strand(), ec);
        return;
    }
    op->data = std::move(data);
    start_request(std::move(op), [acl = &acl_->vector, mode, ttl_ms](zhandle_t* zh, create_op* o) {
        // zoo_acreate2_ttl with a ttl of -1 is zoo_acreate2 (what the C client does itself).
        return zoo_acreate2_ttl(zh, o->path.c_str(), o->data.data(),
                                static_cast<int>(o->data.size()), acl, to_c_mode(mode),
                                ttl_ms > 0 ? ttl_ms : -1, &bridge::on_created, o);
    });
}

void session_impl::remove(std::string path, int version, handler<void(error_code)> h) {
    auto op = std::make_unique<void_op>(
        observe_round_trip(observer(), request_kind::remove, quorum_.confirming(std::move(h))),
        std::move(path));
    start_request(std::move(op), [version](zhandle_t* zh, void_op* o) {
        return zoo_adelete(zh, o->path.c_str(), version, &bridge::on_void, o);
    });
}

/// The kind a read reports to the observer: its watching form counts as the read.
template <class Op>
constexpr request_kind request_kind_of() {
    if constexpr (std::is_same_v<Op, data_op> || std::is_same_v<Op, watch_data_op>) {
        return request_kind::get_data;
    } else if constexpr (std::is_same_v<Op, exists_op> || std::is_same_v<Op, watch_exists_op>) {
        return request_kind::exists;
    } else {
        return request_kind::get_children;
    }
}

// The three reads share one shape: an optional watch, then one C call chosen by the op type.
template <class Op>
void session_impl::read(std::string path, int watch_type, handler<typename Op::signature> h,
                        bool server_config) {
    auto op = std::make_unique<Op>(
        observe_round_trip(observer(), request_kind_of<Op>(), std::move(h)), std::move(path));
    if constexpr (Op::watching) {
        op->watch_wanted =
            std::allocate_shared<watch_state>(recycling_allocator<watch_state>(), weak_self(),
                                              shared_completions(), op->path, watch_type);
    }
    start_request(std::move(op), [server_config](zhandle_t* zh, Op* o) {
        static_cast<void>(server_config);  // read by get_data's instantiation only
        watcher_fn fn = Op::watching ? &bridge::on_watch : nullptr;
        void* ctx = o->watcher.get();
        const char* p = o->path.c_str();
        if constexpr (request_kind_of<Op>() == request_kind::get_data) {
            if (server_config) {
                return zoo_awgetconfig(zh, fn, ctx, &bridge::on_data<Op>, o);
            }
            return zoo_awget(zh, p, fn, ctx, &bridge::on_data<Op>, o);
        } else if constexpr (request_kind_of<Op>() == request_kind::exists) {
            return zoo_awexists(zh, p, fn, ctx, &bridge::on_exists<Op>, o);
        } else {
            return zoo_awget_children2(zh, p, fn, ctx, &bridge::on_children<Op>, o);
        }
    });
}

void session_impl::read_config(bool watch, handler<void(error_code, node_data, zkr::watch)> h) {
    // zoo_awgetconfig reads the node as it is, outside the session's chroot.
    if (watch) {
        read<watch_data_op>(ZOO_CONFIG_NODE, ZWATCHTYPE_DATA, std::move(h), true);
        return;
    }
    read<data_op>(
        ZOO_CONFIG_NODE, 0,
        [h = std::move(h)](error_code ec, node_data config) mutable {
            std::move(h)(ec, std::move(config), zkr::watch());
        },
        true);
}

void session_impl::get_data(std::string path, handler<void(error_code, node_data)> h) {
    read<data_op>(std::move(path), 0, std::move(h));
}
void session_impl::watch_data(std::string path,
                              handler<void(error_code, node_data, zkr::watch)> h) {
    read<watch_data_op>(std::move(path), ZWATCHTYPE_DATA, std::move(h));
}
void session_impl::exists(std::string path, handler<void(error_code, std::optional<stat>)> h) {
    read<exists_op>(std::move(path), 0, std::move(h));
}
void session_impl::watch_exists(std::string path,
                                handler<void(error_code, std::optional<stat>, zkr::watch)> h) {
    read<watch_exists_op>(std::move(path), ZWATCHTYPE_DATA, std::move(h));
}
void session_impl::get_children(std::string path, handler<void(error_code, children)> h) {
    read<children_op>(std::move(path), 0, std::move(h));
}
void session_impl::watch_children(std::string path,
                                  handler<void(error_code, children, zkr::watch)> h) {
    read<watch_children_op>(std::move(path), ZWATCHTYPE_CHILD, std::move(h));
}

void session_impl::set_data(std::string path, std::string data, int version,
                            handler<void(error_code, stat)> h) {
    auto op = std::make_unique<set_op>(
        observe_round_trip(observer(), request_kind::set_data, quorum_.confirming(std::move(h))),
        std::move(path));
    if (auto ec = check_request_size(op->path, data.size())) {
        op->fail_later(strand(), ec);
        return;
    }
    op->data = std::move(data);
    start_request(std::move(op), [version](zhandle_t* zh, set_op* o) {
        return zoo_aset(zh, o->path.c_str(), o->data.data(), static_cast<int>(o->data.size()),
                        version, &bridge::on_set, o);
    });
}

void session_impl::sync(std::string path, handler<void(error_code)> h) {
    auto op = std::make_unique<void_op>(
        observe_round_trip(observer(), request_kind::sync, std::move(h)), std::move(path));
    start_request(std::move(op), [](zhandle_t* zh, void_op* o) {
        return zoo_async(zh, o->path.c_str(), &bridge::on_sync, o);
    });
}

void session_impl::multi(std::vector<op> ops, handler<void(error_code, std::vector<op_result>)> h) {
    auto m = std::make_unique<multi_op>(
        observe_round_trip(observer(), request_kind::multi, quorum_.confirming(std::move(h))), "/");
    std::size_t bytes = 0;
    for (const auto& o : ops) {
        bytes += request_overhead + o.path.size() + o.data.size() + acl_->bytes;
    }
    if (auto ec = check_request_size("/", bytes)) {
        m->fail_later(strand(), ec);
        return;
    }
    m->prepare(std::move(ops), &acl_->vector);
    start_request(std::move(m), [](zhandle_t* zh, multi_op* o) {
        return zoo_amulti(zh, static_cast<int>(o->c_ops.size()), o->c_ops.data(),
                          o->c_results.data(), &bridge::on_multi, o);
    });
}

void session_impl::remove_watch(std::shared_ptr<watch_state> state) {
    on_driver([self = self(), state = std::move(state)]() mutable {
        // Read on the driver strand, where contexts are freed: the watch may have fired since.
        auto* context = static_cast<watch_context*>(state->c_context);
        auto& registry = self->transport_->registry();
        if (context == nullptr || context->registry != &registry) {
            return;  // fired, or armed in an earlier generation, whose handle frees it
        }
        const auto type = static_cast<ZooWatcherType>(state->watch_type);
        if (registry.armed_count(state->path, type == ZWATCHTYPE_CHILD) > 1) {
            // Others of ours still need the server's watch on this path: forget ours locally
            // (synchronous; no completion is called with local removal in this build).
            const int rc = self->transport_->call([&](zhandle_t* zh) {
                return zoo_aremove_watches(zh, state->path.c_str(), type, &bridge::on_watch,
                                           context, 1, nullptr, nullptr);
            });
            if (rc == ZOK && registry.remove(context)) {
                delete context;
            }
            return;
        }
        // Our last watch there: the server drops it (a watch left there would fire one day into
        // nothing and count against the server until then), then the C client forgets ours.
        auto removal = std::make_unique<watch_removal>(std::move(state), registry);
        registry.add(removal.get());
        const auto& path = removal->state->path;
        const int rc = self->transport_->call([&](zhandle_t* zh) {
            return zoo_aremove_all_watches(
                zh, path.c_str(), type, 0,
                reinterpret_cast<void_completion_t*>(&bridge::on_watch_dropped), removal.get());
        });
        if (rc == ZOK) {
            static_cast<void>(removal.release());  // the C client calls it back
        } else {
            registry.remove(removal.get());
        }
    });
}

}  // namespace zkr::detail
