#include "fake_session.hpp"

#include "path.hpp"
#include "watch_state.hpp"

#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <utility>

namespace zkr::test {

namespace asio = boost::asio;

namespace {

bool is_sequential(create_mode m) {
    return m == create_mode::ephemeral_sequential || m == create_mode::persistent_sequential ||
           m == create_mode::persistent_sequential_with_ttl;
}

bool is_ephemeral(create_mode m) {
    return m == create_mode::ephemeral || m == create_mode::ephemeral_sequential;
}

}  // namespace

// ---- fake_server ----

fake_server::fake_server() {
    nodes["/"] = fake_node{};
}

std::vector<std::string> fake_server::children_of(const std::string& path) const {
    std::vector<std::string> out;
    for (const auto& [p, n] : nodes) {
        if (p != "/" && detail::parent_path(p) == path) {
            out.emplace_back(detail::node_name(p));
        }
    }
    return out;
}

std::vector<std::string> fake_server::owned_by(std::int64_t session_id) const {
    std::vector<std::string> out;
    for (const auto& [p, n] : nodes) {
        if (n.stat.ephemeral_owner == session_id) {
            out.push_back(p);
        }
    }
    return out;
}

std::string fake_server::create_as(std::int64_t owner, const std::string& path, std::string data,
                                   bool sequential) {
    created_node out;
    const auto mode = sequential ? create_mode::ephemeral_sequential : create_mode::ephemeral;
    apply_create(path, std::move(data), mode, owner, out);
    return out.path;
}

void fake_server::remove(const std::string& path) {
    apply_remove(path, -1);
}

error_code fake_server::apply_create(const std::string& path, std::string data, create_mode mode,
                                     std::int64_t owner, created_node& out) {
    const auto parent = std::string(detail::parent_path(path));
    auto p = nodes.find(parent);
    if (p == nodes.end()) {
        return make_error_code(zk_errc::no_node);
    }
    if (p->second.stat.ephemeral_owner != 0) {
        return make_error_code(zk_errc::no_children_for_ephemerals);
    }
    auto full = path;
    if (is_sequential(mode)) {
        char seq[16];
        std::snprintf(seq, sizeof seq, "%010d", p->second.next_sequence);
        full += seq;
    }
    if (nodes.count(full) != 0) {
        return make_error_code(zk_errc::node_exists);
    }
    ++p->second.next_sequence;
    ++p->second.stat.cversion;
    ++p->second.stat.num_children;
    fake_node n;
    n.data = std::move(data);
    n.stat.czxid = n.stat.mzxid = next_zxid();
    n.stat.data_length = static_cast<std::int32_t>(n.data.size());
    n.stat.ephemeral_owner = is_ephemeral(mode) ? owner : 0;
    out = created_node{full, n.stat};
    nodes.emplace(full, std::move(n));
    fire(full, watch_event_type::created);
    return {};
}

error_code fake_server::apply_remove(const std::string& path, int version) {
    auto it = nodes.find(path);
    if (it == nodes.end() || path == "/") {
        return make_error_code(zk_errc::no_node);
    }
    if (version != -1 && it->second.stat.version != version) {
        return make_error_code(zk_errc::bad_version);
    }
    if (it->second.stat.num_children != 0) {
        return make_error_code(zk_errc::not_empty);
    }
    nodes.erase(it);
    auto& parent = nodes.find(detail::parent_path(path))->second;
    --parent.stat.num_children;
    ++parent.stat.cversion;
    fire(path, watch_event_type::deleted);
    return {};
}

error_code fake_server::apply_set(const std::string& path, std::string data, int version,
                                  zkr::stat& out) {
    auto it = nodes.find(path);
    if (it == nodes.end()) {
        return make_error_code(zk_errc::no_node);
    }
    if (version != -1 && it->second.stat.version != version) {
        return make_error_code(zk_errc::bad_version);
    }
    it->second.data = std::move(data);
    it->second.stat.data_length = static_cast<std::int32_t>(it->second.data.size());
    it->second.stat.mzxid = next_zxid();
    ++it->second.stat.version;
    out = it->second.stat;
    fire(path, watch_event_type::changed);
    return {};
}

error_code fake_server::apply_ops(const std::vector<op>& ops, std::int64_t owner,
                                  std::vector<op_result>& results) {
    auto apply = [&] {
        for (std::size_t i = 0; i < ops.size(); ++i) {
            const auto& o = ops[i];
            created_node c;
            auto& r = results[i];
            switch (o.type) {
                case op::kind::create:
                    r.ec = apply_create(o.path, o.data, o.mode, owner, c);
                    r.path = c.path;
                    break;
                case op::kind::remove:
                    r.ec = apply_remove(o.path, o.version);
                    break;
                case op::kind::set_data:
                    r.ec = apply_set(o.path, o.data, o.version, r.stat);
                    break;
                case op::kind::check: {
                    const auto it = nodes.find(o.path);
                    r.ec = it == nodes.end() ? make_error_code(zk_errc::no_node)
                           : o.version != -1 && it->second.stat.version != o.version
                               ? make_error_code(zk_errc::bad_version)
                               : error_code{};
                    break;
                }
            }
            if (r.ec) {
                return r.ec;
            }
        }
        return error_code{};
    };
    // A trial run on the tree as it is, quiet, then undone; for real only if it all succeeded.
    const auto before = nodes;
    const auto zxid = zxid_;
    quiet_ = true;
    const auto ec = apply();
    quiet_ = false;
    nodes = before;
    zxid_ = zxid;
    return ec ? ec : apply();
}

void fake_server::expire(std::int64_t session_id) {
    for (const auto& path : owned_by(session_id)) {
        apply_remove(path, -1);
    }
}

void fake_server::disarm(const detail::watch_state* state) {
    std::erase_if(watches_, [&](const armed_watch& w) { return w.state.get() == state; });
}

std::size_t fake_server::watches_on(const std::string& path) const {
    return static_cast<std::size_t>(std::count_if(
        watches_.begin(), watches_.end(), [&](const armed_watch& w) { return w.path == path; }));
}

std::size_t fake_server::watches_of(const detail::session_seam* owner) const {
    return static_cast<std::size_t>(std::count_if(
        watches_.begin(), watches_.end(),
        [&](const armed_watch& w) { return w.state->session.lock().get() == owner; }));
}

void fake_server::end_watches_of(const detail::session_seam* owner, error_code ec) {
    std::vector<armed_watch> ended;
    std::erase_if(watches_, [&](armed_watch& w) {
        if (w.state->session.lock().get() != owner) {
            return false;
        }
        ended.push_back(std::move(w));
        return true;
    });
    for (auto& w : ended) {
        asio::post(w.state->executors->via, [s = w.state, ec] { s->deliver(ec, {}); });
    }
}

void fake_server::fire(const std::string& path, watch_event_type type) {
    if (quiet_) {
        return;
    }
    const auto parent = std::string(detail::parent_path(path));
    std::vector<armed_watch> fired;
    std::erase_if(watches_, [&](armed_watch& w) {
        const bool on_node = w.path == path && w.kind != watch_kind::children;
        const bool on_parent =
            w.path == parent && w.kind == watch_kind::children && type != watch_event_type::changed;
        if (!on_node && !on_parent) {
            return false;
        }
        fired.push_back(std::move(w));
        return true;
    });
    for (auto& w : fired) {
        const auto t = w.kind == watch_kind::children ? watch_event_type::child : type;
        asio::post(w.state->executors->via,
                   [s = w.state, event = watch_event{t, w.path}] { s->deliver({}, event); });
    }
}

// ---- fake_session ----

const char* fault_name(fault f) {
    switch (f) {
        case fault::none:
            return "none";
        case fault::loss_before:
            return "connection loss before the request";
        case fault::loss_after:
            return "connection loss after the request was applied";
        case fault::expiry:
            return "session expiry";
        case fault::conflict:
            return "another client's change";
        case fault::cancel:
            return "cancellation";
        case fault::cancel_while_disconnected:
            return "cancellation while waiting for the connection";
    }
    return "?";
}

void drain(asio::io_context& ioc, const char* what) {
    for (int rounds = 0; rounds < 100000; ++rounds) {
        ioc.restart();
        if (ioc.poll() == 0) {
            return;
        }
    }
    ADD_FAILURE() << what << " never settles";
}

fake_session::fake_session(asio::io_context& ioc, fake_server& server, std::int64_t id)
    : session_seam(ioc.get_executor(), ioc.get_executor()), server_(server), id_(id) {}

bool fake_session::running_in_driver() const noexcept {
    // One thread runs everything: being inside a handler is being on the driver.
    return strand().target<asio::io_context::executor_type>()->running_in_this_thread();
}

error_code fake_session::final_error() const noexcept {
    if (state_ == session_state::expired) {
        return make_error_code(zk_errc::session_expired);
    }
    if (state_ == session_state::closed) {
        return make_error_code(errc::session_closed);
    }
    return {};
}

void fake_session::wait_state(session_state seen,
                              detail::handler<void(error_code, session_state)> h) {
    if (state_ != seen || final_error()) {
        const auto ec = state_ == seen ? make_error_code(errc::session_closed) : error_code{};
        asio::post(strand(),
                   [h = std::move(h), ec, now = state_]() mutable { std::move(h)(ec, now); });
        return;
    }
    state_waiters_.emplace_back(seen, std::move(h));
}

void fake_session::set_state(session_state next) {
    state_ = next;
    loss_deadline_passed_ = false;  // a new state: a new outage, or none
    auto waiters = std::move(state_waiters_);
    state_waiters_.clear();
    for (auto& [seen, h] : waiters) {
        asio::post(strand(),
                   [h = std::move(h), next]() mutable { std::move(h)(error_code{}, next); });
    }
}

void fake_session::expire() {
    set_state(session_state::expired);
    server_.end_watches_of(this, make_error_code(zk_errc::session_expired));
    server_.expire(id_);
    notify(detail::session_event::expired);
    if (!renews) {
        return;
    }
    listeners_.end_generation();
    ++generation_;
    id_ += 1'000'000;  // the server's new session
    set_state(session_state::connecting);
    asio::post(strand(), [self = std::static_pointer_cast<fake_session>(shared_from_this())] {
        if (self->state_ == session_state::connecting) {
            self->set_state(session_state::connected);
            self->notify(detail::session_event::renewed);
        }
    });
}

template <class Apply>
void fake_session::request(const char* kind, const std::string& path, Apply apply) {
    const auto step = requests_.size();
    requests_.push_back({kind, path});
    const auto f = step == fault_step_ ? fault_ : fault::none;
    // `apply(ec)`: with no error, do the request and post its answer; with one, post only it.
    if (auto ec = final_error()) {
        apply(ec);
        return;
    }
    if (state_ != session_state::connected) {
        apply(make_error_code(zk_errc::connection_loss));  // sent into a dead connection
        return;
    }
    switch (f) {
        case fault::none:
            apply(error_code{});
            return;
        case fault::cancel:
            fault_applied_ = true;
            if (on_cancel) {
                on_cancel();
            }
            apply(error_code{});
            return;
        case fault::conflict:
            fault_applied_ = true;
            apply(make_error_code(errc::invalid_argument));  // the request's own conflict
            return;
        case fault::expiry:
            fault_applied_ = true;
            apply(make_error_code(zk_errc::session_expired));
            expire();
            return;
        case fault::loss_before:
        case fault::loss_after:
        case fault::cancel_while_disconnected: {
            fault_applied_ = true;
            if (f == fault::loss_after) {
                answer_lost_ = true;  // applied, but its answer is lost
                apply(error_code{});
            } else {
                apply(make_error_code(zk_errc::connection_loss));
            }
            set_state(session_state::suspended);
            notify(detail::session_event::suspended);
            auto self = std::static_pointer_cast<fake_session>(shared_from_this());
            auto reconnect = [self] {
                if (self->state_ == session_state::suspended) {
                    self->set_state(session_state::connected);
                    self->notify(detail::session_event::reconnected);
                }
            };
            if (f != fault::cancel_while_disconnected) {
                asio::post(strand(), reconnect);
                return;
            }
            // Once the recipe has the answer and waits for the connection: the cancellation, then
            // (behind what it posts) the reconnection.
            asio::post(strand(), [self, reconnect] {
                if (self->on_cancel) {
                    self->on_cancel();
                }
                asio::post(self->strand(),
                           [self, reconnect] { asio::post(self->strand(), reconnect); });
            });
            return;
        }
    }
}

namespace {}  // namespace

/// The answer to one request: posted, as a server's answer arrives later. An answer lost with
/// the connection (fault::loss_after) arrives as connection_loss with empty values.
template <class... Values>
struct fake_session::answer {
    fake_session* session;
    std::shared_ptr<detail::handler<void(error_code, Values...)>> h;

    void operator()(error_code ec, Values... values) const {
        if (std::exchange(session->answer_lost_, false)) {
            ec = make_error_code(zk_errc::connection_loss);
            ((values = Values{}), ...);
        }
        asio::post(session->strand(), [h = std::move(*h), ec, ... v = std::move(values)]() mutable {
            std::move(h)(ec, std::move(v)...);
        });
    }
};

template <class... Values>
fake_session::answer<Values...> fake_session::make_answer(
    detail::handler<void(error_code, Values...)> h) {
    return {this, std::make_shared<detail::handler<void(error_code, Values...)>>(std::move(h))};
}

// The requests share one shape: `r(ec)` is called once or twice (see request()); a request
// answered with an error it did not produce itself posts that error with empty values. The
// conflict fault comes in as errc::invalid_argument: the request turns it into another client's
// change and then runs normally.

void fake_session::create(std::string path, std::string data, create_mode mode,
                          detail::handler<void(error_code, created_node)> h, std::int64_t) {
    request("create", path,
            [this, a = make_answer(std::move(h)), path, data, mode](error_code ec) mutable {
                if (ec == errc::invalid_argument) {
                    const auto parent = std::string(detail::parent_path(path));
                    if (is_sequential(mode)) {
                        if (parent != "/" && server_.children_of(parent).empty()) {
                            server_.remove(parent);
                        }
                    } else if (server_.exists(parent) && !server_.exists(path)) {
                        server_.create_as(999, path, {}, false);
                        server_.nodes.at(path).stat.ephemeral_owner =
                            0;  // someone's persistent node
                    }
                    ec = {};
                }
                if (ec) {
                    a(ec, created_node{});
                    return;
                }
                created_node out;
                ec = server_.apply_create(path, data, mode, id_, out);
                a(ec, std::move(out));
            });
}

void fake_session::remove(std::string path, int version, detail::handler<void(error_code)> h) {
    request("remove", path,
            [this, a = make_answer(std::move(h)), path, version](error_code ec) mutable {
                if (ec == errc::invalid_argument) {
                    if (server_.exists(path) && server_.children_of(path).empty()) {
                        server_.remove(path);
                    }
                    ec = {};
                }
                a(ec ? ec : server_.apply_remove(path, version));
            });
}

namespace {

/// Another client deletes what a read is about to look at, when it can be deleted.
void delete_if_leaf(fake_server& server, const std::string& path) {
    if (path != "/" && server.exists(path) && server.children_of(path).empty()) {
        server.remove(path);
    }
}

}  // namespace

zkr::watch fake_session::arm(const std::string& path, fake_server::watch_kind kind) {
    const int type = kind == fake_server::watch_kind::children ? 2 : 1;
    auto state =
        std::make_shared<detail::watch_state>(weak_from_this(), shared_completions(), path, type);
    state->c_context = this;  // non-null: cancel_here asks remove_watch to drop it
    server_.arm({path, kind, state});
    return zkr::watch(std::move(state));
}

template <class Look, class... Values>
void fake_session::read(const char* kind, const std::string& path,
                        detail::handler<void(error_code, Values...)> h, Look look) {
    request(kind, path, [this, a = make_answer(std::move(h)), path, look](error_code ec) mutable {
        if (ec == errc::invalid_argument) {
            delete_if_leaf(server_, path);
            ec = {};
        }
        if (ec) {
            a(ec, Values{}...);
            return;
        }
        std::apply([&](auto&&... v) { a(std::move(v)...); }, look());
    });
}

std::optional<node_data> fake_session::node_at(const std::string& path) const {
    if (auto it = server_.nodes.find(path); it != server_.nodes.end()) {
        return node_data{it->second.data, it->second.stat};
    }
    return std::nullopt;
}

std::optional<children> fake_session::children_at(const std::string& path) const {
    if (auto it = server_.nodes.find(path); it != server_.nodes.end()) {
        return children{server_.children_of(path), it->second.stat};
    }
    return std::nullopt;
}

void fake_session::get_data(std::string path, detail::handler<void(error_code, node_data)> h) {
    read("get_data", path, std::move(h), [this, path] {
        auto n = node_at(path);
        return std::make_tuple(n ? error_code{} : make_error_code(zk_errc::no_node),
                               n.value_or(node_data{}));
    });
}

void fake_session::watch_data(std::string path,
                              detail::handler<void(error_code, node_data, zkr::watch)> h) {
    read("watch_data", path, std::move(h), [this, path] {
        if (server_.watches_of(this) >= watch_budget) {
            return std::make_tuple(make_error_code(errc::too_many_watches), node_data{},
                                   zkr::watch{});
        }
        auto n = node_at(path);
        // A data watch is set only on a node that exists (exists() watches for its creation).
        return n ? std::make_tuple(error_code{}, std::move(*n),
                                   arm(path, fake_server::watch_kind::data))
                 : std::make_tuple(make_error_code(zk_errc::no_node), node_data{}, zkr::watch{});
    });
}

void fake_session::exists(std::string path,
                          detail::handler<void(error_code, std::optional<zkr::stat>)> h) {
    read("exists", path, std::move(h), [this, path] {
        auto n = node_at(path);
        return std::make_tuple(error_code{}, n ? std::optional<zkr::stat>(n->stat) : std::nullopt);
    });
}

void fake_session::watch_exists(
    std::string path, detail::handler<void(error_code, std::optional<zkr::stat>, zkr::watch)> h) {
    read("watch_exists", path, std::move(h), [this, path] {
        if (server_.watches_of(this) >= watch_budget) {
            return std::make_tuple(make_error_code(errc::too_many_watches),
                                   std::optional<zkr::stat>{}, zkr::watch{});
        }
        auto n = node_at(path);
        return std::make_tuple(error_code{}, n ? std::optional<zkr::stat>(n->stat) : std::nullopt,
                               arm(path, fake_server::watch_kind::exists));
    });
}

void fake_session::get_children(std::string path, detail::handler<void(error_code, children)> h) {
    read("get_children", path, std::move(h), [this, path] {
        auto kids = children_at(path);
        return std::make_tuple(kids ? error_code{} : make_error_code(zk_errc::no_node),
                               kids.value_or(children{}));
    });
}

void fake_session::watch_children(std::string path,
                                  detail::handler<void(error_code, children, zkr::watch)> h) {
    read("watch_children", path, std::move(h), [this, path] {
        if (server_.watches_of(this) >= watch_budget) {
            return std::make_tuple(make_error_code(errc::too_many_watches), children{},
                                   zkr::watch{});
        }
        auto kids = children_at(path);
        return kids ? std::make_tuple(error_code{}, std::move(*kids),
                                      arm(path, fake_server::watch_kind::children))
                    : std::make_tuple(make_error_code(zk_errc::no_node), children{}, zkr::watch{});
    });
}

void fake_session::set_data(std::string path, std::string data, int version,
                            detail::handler<void(error_code, zkr::stat)> h) {
    request("set_data", path,
            [this, a = make_answer(std::move(h)), path, data, version](error_code ec) mutable {
                if (ec == errc::invalid_argument) {
                    delete_if_leaf(server_, path);
                    ec = {};
                }
                zkr::stat st;
                if (!ec) {
                    ec = server_.apply_set(path, data, version, st);
                }
                a(ec, st);
            });
}

void fake_session::multi(std::vector<op> ops,
                         detail::handler<void(error_code, std::vector<op_result>)> h) {
    request("multi", ops.empty() ? "/" : ops.front().path,
            [this, a = make_answer(std::move(h)), ops](error_code ec) mutable {
                if (ec == errc::invalid_argument) {
                    ec = {};  // no conflict modelled for transactions
                }
                if (ec) {
                    a(ec, std::vector<op_result>{});
                    return;
                }
                std::vector<op_result> results(ops.size());
                ec = server_.apply_ops(ops, id_, results);
                a(ec, std::move(results));
            });
}

void fake_session::sync(std::string path, detail::handler<void(error_code)> h) {
    request("sync", path, [a = make_answer(std::move(h))](error_code ec) mutable {
        a(ec == errc::invalid_argument ? error_code{} : ec);
    });
}

void fake_session::remove_watch(std::shared_ptr<detail::watch_state> state) {
    server_.disarm(state.get());
    state->detach_context();
}

}  // namespace zkr::test
