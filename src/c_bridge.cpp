#include "c_bridge.hpp"

#include "watch_state.hpp"

#include <boost/asio/error.hpp>

#include <cstring>

namespace zkr::detail {
namespace {

/// A request's result code as the caller should see it. The single-threaded C client can drop
/// its connection without reporting it (a failed send inside a request call); requests sent on
/// that connection stay queued, and the first answer on the next connection then fails them all
/// with ZRUNTIMEINCONSISTENCY. For the caller that is a connection loss: the request may or may
/// not have been applied, and it may be retried once connected.
error_code answer_code(int rc) {
    return from_zk_code(rc == ZRUNTIMEINCONSISTENCY ? ZCONNECTIONLOSS : rc);
}

/// The result as the caller should see it: answer_code, and for a request our own close cut
/// short (ZCLOSING), the reason the session ended (expired, closed).
template <class Op>
error_code result_of(const Op& op, int rc) {
    return rc == ZCLOSING ? op.closing_error() : answer_code(rc);
}

template <class Op>
Op* claim(const void* data) {
    auto* op = static_cast<Op*>(const_cast<void*>(data));
    return op->claim() ? op : nullptr;
}

std::optional<watch_event_type> event_type(int type) {
    if (type == ZOO_CREATED_EVENT) {
        return watch_event_type::created;
    }
    if (type == ZOO_DELETED_EVENT) {
        return watch_event_type::deleted;
    }
    if (type == ZOO_CHANGED_EVENT) {
        return watch_event_type::changed;
    }
    if (type == ZOO_CHILD_EVENT) {
        return watch_event_type::child;
    }
    return std::nullopt;
}

}  // namespace

int to_c_mode(create_mode mode) noexcept {
    switch (mode) {
        case create_mode::persistent:
            return ZOO_PERSISTENT;
        case create_mode::ephemeral:
            return ZOO_EPHEMERAL;
        case create_mode::persistent_sequential:
            return ZOO_PERSISTENT_SEQUENTIAL;
        case create_mode::ephemeral_sequential:
            return ZOO_EPHEMERAL_SEQUENTIAL;
        case create_mode::container:
            return ZOO_CONTAINER;
        case create_mode::persistent_with_ttl:
            return ZOO_PERSISTENT_WITH_TTL;
        case create_mode::persistent_sequential_with_ttl:
            return ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL;
    }
    return ZOO_PERSISTENT;
}

stat to_stat(const Stat& s) noexcept {
    return stat{s.czxid,    s.mzxid,          s.ctime,      s.mtime,       s.version, s.cversion,
                s.aversion, s.ephemeralOwner, s.dataLength, s.numChildren, s.pzxid};
}

void bridge::on_watch(zhandle_t*, int type, int state, const char* path, void* ctx) {
    auto* context = static_cast<watch_context*>(ctx);
    if (type == ZOO_SESSION_EVENT) {
        // The C client calls every armed watcher on each session state change and keeps it
        // armed. Only the end of the session ends the watch; the context stays registered until
        // close, because the C client still holds its pointer.
        context->state->interrupted = true;
        if (state == ZOO_EXPIRED_SESSION_STATE) {
            context->state->deliver(make_error_code(zk_errc::session_expired), {});
        } else if (state == ZOO_AUTH_FAILED_STATE) {
            context->state->deliver(make_error_code(zk_errc::auth_failed), {});
        }
        return;
    }
    if (!context->registry->remove(context)) {
        return;
    }
    if (auto kind = event_type(type)) {
        context->state->deliver({}, watch_event{*kind, path != nullptr ? path : ""});
    } else {
        // ZOO_NOTWATCHING_EVENT: the watch was removed (by us, or by the server).
        context->state->deliver(make_error_code(zk_errc::no_watcher), {});
    }
    delete context;
}

void bridge::on_created(int rc, const char* value, const Stat* st, const void* data) {
    if (auto* op = claim<create_op>(data)) {
        created_node node;
        if (rc == ZOK) {
            node.path = value != nullptr ? value : "";
            node.stat = st != nullptr ? to_stat(*st) : stat{};
        }
        op->finish(result_of(*op, rc), std::move(node));
        delete op;
    }
}

void bridge::on_void(int rc, const void* data) {
    if (auto* op = claim<void_op>(data)) {
        op->finish(result_of(*op, rc));
        delete op;
    }
}

void bridge::on_sync(int rc, const char*, const void* data) {
    on_void(rc, data);
}

void bridge::on_set(int rc, const Stat* st, const void* data) {
    if (auto* op = claim<set_op>(data)) {
        op->finish(result_of(*op, rc), rc == ZOK && st != nullptr ? to_stat(*st) : stat{});
        delete op;
    }
}

template <class Op>
void bridge::on_data(int rc, const char* value, int len, const Stat* st, const void* data) {
    if (auto* op = claim<Op>(data)) {
        node_data result;
        if (rc == ZOK) {
            if (value != nullptr && len > 0) {
                result.data.assign(value, static_cast<std::size_t>(len));
            }
            result.stat = st != nullptr ? to_stat(*st) : stat{};
        }
        op->finish_read(result_of(*op, rc), std::move(result), rc == ZOK);
        delete op;
    }
}

template <class Op>
void bridge::on_exists(int rc, const Stat* st, const void* data) {
    if (auto* op = claim<Op>(data)) {
        // "Does not exist" is an answer, not an error; an exists watch is armed either way.
        std::optional<stat> result;
        if (rc == ZOK && st != nullptr) {
            result = to_stat(*st);
        }
        const auto ec = rc == ZNONODE ? error_code{} : result_of(*op, rc);
        op->finish_read(ec, result, rc == ZOK || rc == ZNONODE);
        delete op;
    }
}

template <class Op>
void bridge::on_children(int rc, const String_vector* names, const Stat* st, const void* data) {
    if (auto* op = claim<Op>(data)) {
        children result;
        if (rc == ZOK) {
            if (names != nullptr) {
                result.names.reserve(static_cast<std::size_t>(names->count));
                for (std::int32_t i = 0; i < names->count; ++i) {
                    result.names.emplace_back(names->data[i]);
                }
            }
            result.stat = st != nullptr ? to_stat(*st) : stat{};
        }
        op->finish_read(result_of(*op, rc), std::move(result), rc == ZOK);
        delete op;
    }
}

template void bridge::on_data<data_op>(int, const char*, int, const Stat*, const void*);
template void bridge::on_data<watch_data_op>(int, const char*, int, const Stat*, const void*);
template void bridge::on_exists<exists_op>(int, const Stat*, const void*);
template void bridge::on_exists<watch_exists_op>(int, const Stat*, const void*);
template void bridge::on_children<children_op>(int, const String_vector*, const Stat*, const void*);
template void bridge::on_children<watch_children_op>(int, const String_vector*, const Stat*,
                                                     const void*);

void bridge::on_multi(int rc, const void* data) {
    if (auto* op = claim<multi_op>(data)) {
        op->finish(result_of(*op, rc), op->results());
        delete op;
    }
}

void bridge::on_watch_removed(int, const void*) {
    // Best effort: a watch that could not be removed fires later into a consumed state.
}

void bridge::on_watch_dropped(int rc, const void* data) {
    auto* removal = static_cast<watch_removal*>(const_cast<void*>(data));
    if (!removal->registry->remove(removal)) {
        return;  // drained at close: it is freed there
    }
    // On success the server dropped the session's watch on that path and kind, and the C client
    // forgot its watchers there without calling them: free ours here. On ZNOWATCHER the server
    // had no watch any more (it fired): the event frees it.
    if (rc == ZOK) {
        const auto& gone = *removal->state;
        for (auto* op :
             removal->registry->armed_on(gone.path, gone.watch_type == ZWATCHTYPE_CHILD)) {
            auto* context = static_cast<watch_context*>(op);
            if (context->state->watch_type != gone.watch_type ||
                !removal->registry->remove(context)) {
                continue;
            }
            // A watch armed again on the same path while the removal was in flight went with
            // it: its waiter hears so instead of waiting for good.
            if (context->state.get() != &gone) {
                context->state->deliver(make_error_code(zk_errc::no_watcher), {});
            }
            delete context;
        }
    }
    delete removal;
}

void multi_op::prepare(std::vector<op> in, const ACL_vector* acl) {
    ops = std::move(in);
    const auto n = ops.size();
    path_buffers.resize(n);
    stats.resize(n);
    c_ops.resize(n);
    c_results.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        auto& o = ops[i];
        switch (o.type) {
            case op::kind::create: {
                path_buffers[i].assign(o.path.size() + 16, '\0');
                zoo_create_op_init(&c_ops[i], o.path.c_str(), o.data.data(),
                                   static_cast<int>(o.data.size()), acl, to_c_mode(o.mode),
                                   path_buffers[i].data(),
                                   static_cast<int>(path_buffers[i].size()));
                break;
            }
            case op::kind::remove:
                zoo_delete_op_init(&c_ops[i], o.path.c_str(), o.version);
                break;
            case op::kind::set_data:
                zoo_set_op_init(&c_ops[i], o.path.c_str(), o.data.data(),
                                static_cast<int>(o.data.size()), o.version, &stats[i]);
                break;
            case op::kind::check:
                zoo_check_op_init(&c_ops[i], o.path.c_str(), o.version);
                break;
        }
    }
}

std::vector<op_result> multi_op::results() const {
    std::vector<op_result> out(ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
        out[i].ec = from_zk_code(c_results[i].err);
        if (ops[i].type == op::kind::create && c_results[i].err == ZOK) {
            out[i].path.assign(path_buffers[i], 0, path_buffers[i].find('\0'));
        }
        if (ops[i].type == op::kind::set_data && c_results[i].err == ZOK) {
            out[i].stat = to_stat(stats[i]);
        }
    }
    return out;
}

}  // namespace zkr::detail
