// The bridge from the ZooKeeper C client's callbacks to zkr (docs/design-notes.md, "The
// transport").
//
// Each request hands the C client a heap context (a request_context) as its `data` pointer; each
// watching read adds a watch_context as its `watcherCtx`. The C client calls `bridge` from inside
// zookeeper_process, on the session's driver strand: results are turned into value types and the
// request's handler runs right there (recipe code continues in place; handlers of users are
// wrapped to be posted to their own executors).
#pragma once

#include "callback_registry.hpp"
#include "completion.hpp"
#include "watch_state.hpp"

#include <zkr/op.hpp>
#include <zkr/watch.hpp>
#include <zkr/znode.hpp>

#include <zookeeper/zookeeper.h>

#include <boost/asio/post.hpp>

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace zkr::detail {

/// The C client's watcher context for one watch. Owned by the registry from the moment the
/// server armed the watch until the C client calls it with the event (or the session closes).
class watch_context final : public pending_callback {
  public:
    /// `bytes`: what the watch weighs in the packet that re-arms watches after a reconnect.
    watch_context(std::shared_ptr<watch_state> s, callback_registry* r, std::size_t bytes)
        : state(std::move(s)), registry(r), bytes_(bytes) {
        registry->add_watch_bytes(bytes_);
    }
    ~watch_context() override {
        registry->remove_watch_bytes(bytes_);
        if (armed_) {
            registry->disarm(state->path, state->watch_type == ZWATCHTYPE_CHILD, this);
        }
        state->detach_context();
    }

    /// The server armed it: counted among the session's watches on its path.
    void arm() {
        armed_ = true;
        registry->arm(state->path, state->watch_type == ZWATCHTYPE_CHILD, this);
    }
    void abandon(error_code ec) override { state->deliver(ec, {}); }

    std::shared_ptr<watch_state> state;
    callback_registry* const registry;

  private:
    const std::size_t bytes_;
    bool armed_ = false;
};

template <class T>
inline constexpr bool is_watch_v = std::is_same_v<T, zkr::watch>;

/// One request in flight. `Results` are the handler's arguments after the error_code.
template <class... Results>
class request_context : public pending_callback {
  public:
    using signature = void(error_code, Results...);
    static constexpr bool watching = (is_watch_v<Results> || ...);

    request_context(handler<signature> h, std::string p)
        : path(std::move(p)), handler_(std::move(h)) {}

    /// Enters the registry of the C handle it is about to be sent on, with its watch if it
    /// asked for one (watch_wanted): the handle is chosen only then, on the driver strand (a
    /// renewed session has a new one).
    void register_op(callback_registry& r, std::size_t watch_bytes) {
        registry_ = &r;
        if (watch_wanted) {
            watcher =
                std::make_unique<watch_context>(std::move(watch_wanted), registry_, watch_bytes);
            watcher->state->c_context = watcher.get();
        }
        registry_->add(this);
    }
    void unregister_op() { registry_->remove(this); }

    /// Runs the handler with the results (the error_code first), here and now. Call once.
    template <class... Values>
    void finish(error_code ec, Values&&... values) {
        watcher.reset();
        if (registry_->discarding()) {
            return;  // the handle is freed after its io_context: nothing may run any more
        }
        auto h = std::move(handler_);
        std::move(h)(ec, std::forward<Values>(values)...);
    }

    /// Completes a read: with the watch too when this is a watching read. `armed` tells whether
    /// the server set the watch (it does only for some outcomes).
    template <class Result>
    void finish_read(error_code ec, Result&& result, bool armed) {
        if constexpr (watching) {
            finish(ec, std::forward<Result>(result), take_watch(armed));
        } else {
            finish(ec, std::forward<Result>(result));
        }
    }

    void fail(error_code ec) { finish(ec, Results{}...); }
    void abandon(error_code ec) override { fail(ec); }

    /// Fails without running the handler inside the caller's call: posted to `ex`.
    template <class Executor>
    void fail_later(const Executor& ex, error_code ec) {
        watcher.reset();
        boost::asio::post(
            ex, [h = std::move(handler_), ec]() mutable { std::move(h)(ec, Results{}...); });
    }

    /// The watch to hand to the caller: if the server armed it, the registry takes the context
    /// over; otherwise the C client dropped the registration and the context goes now.
    zkr::watch take_watch(bool armed) {
        if (!watcher || !armed) {
            watcher.reset();
            return zkr::watch();
        }
        auto state = watcher->state;
        watcher->arm();
        registry_->add(watcher.release());
        return zkr::watch(std::move(state));
    }

    /// True when the callback may proceed (the registry still knew this operation).
    bool claim() { return registry_->remove(this); }

    /// A request cut short by our own close reports why the session ended.
    error_code closing_error() const { return registry_->closing_reason(); }

    std::string path;
    std::string data;
    /// The watch a watching read arms, until register_op makes its C context.
    std::shared_ptr<watch_state> watch_wanted;
    std::unique_ptr<watch_context> watcher;

  private:
    handler<signature> handler_;
    callback_registry* registry_ = nullptr;
};

using create_op = request_context<created_node>;
using void_op = request_context<>;
using set_op = request_context<stat>;
using data_op = request_context<node_data>;
using watch_data_op = request_context<node_data, zkr::watch>;
using exists_op = request_context<std::optional<stat>>;
using watch_exists_op = request_context<std::optional<stat>, zkr::watch>;
using children_op = request_context<children>;
using watch_children_op = request_context<children, zkr::watch>;

/// A multi's request: owns the strings and buffers the C structures point into.
class multi_op final : public request_context<std::vector<op_result>> {
  public:
    using request_context::request_context;
    void prepare(std::vector<op> in, const ACL_vector* acl);
    std::vector<op_result> results() const;

    std::vector<op> ops;
    std::vector<std::string> path_buffers;
    std::vector<Stat> stats;
    std::vector<zoo_op_t> c_ops;
    std::vector<zoo_op_result_t> c_results;
};

/// A request asking the server to drop the session's watch on a path (our last one there).
class watch_removal final : public pending_callback {
  public:
    explicit watch_removal(std::shared_ptr<watch_state> s, callback_registry& r)
        : state(std::move(s)), registry(&r) {}
    void abandon(error_code) override {}

    std::shared_ptr<watch_state> state;
    callback_registry* const registry;
};

stat to_stat(const Stat& s) noexcept;
int to_c_mode(create_mode mode) noexcept;

/// The C client's entry points. Each runs on the driver strand, inside a C-client call.
struct bridge {
    static void on_watch(zhandle_t* zh, int type, int state, const char* path, void* ctx);
    static void on_created(int rc, const char* value, const Stat* st, const void* data);
    static void on_void(int rc, const void* data);
    static void on_sync(int rc, const char* value, const void* data);
    static void on_set(int rc, const Stat* st, const void* data);
    template <class Op>
    static void on_data(int rc, const char* value, int len, const Stat* st, const void* data);
    template <class Op>
    static void on_exists(int rc, const Stat* st, const void* data);
    template <class Op>
    static void on_children(int rc, const String_vector* names, const Stat* st, const void* data);
    static void on_multi(int rc, const void* data);
    static void on_watch_removed(int rc, const void* data);
    /// The server dropped the watch a watch_removal asked it to drop.
    static void on_watch_dropped(int rc, const void* data);
};

}  // namespace zkr::detail
