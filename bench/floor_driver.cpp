// The floor: the raw ZooKeeper C client doing exactly the requests a lock needs, and nothing
// else. No library, no executor, no extra thread hop: every step runs in the C client's own
// completion callback, so this is as fast as a lock on this client can be.
//
// The algorithm is the one zkr implements (and Curator, less the pipelining):
//   acquire: create <dir>/_c_<uuid>-lock-<seq> (ephemeral sequential), list <dir>;
//            first in sequence order: acquired;
//            else get_data with a watch on the immediate predecessor, and when it is deleted:
//            acquired if it was the only node ahead when we listed, else list again.
//   release: delete our node.
// "sequential" sends the listing after the create's answer (2 round trips), "pipelined" sends
// both back to back (ZooKeeper answers one session's requests in order: 1 round trip).
//
//   zkr-bench-floor --hosts HOST:PORT --mode sequential|pipelined
//                   [--resolution-delay MS|default] [--hop yes|no]
// then the line protocol of common.hpp on stdin/stdout.
//
// --hop yes (row floor-hop): every answer is copied into value types and continues on one
// application thread (an io_context run by one thread), never on the C client's completion
// thread: the one thread hand-off per answer that zkr's first transport, on this client, needed
// to keep its code off the C client's threads. floor-pipe to floor-hop is what that hand-off
// costs on this machine.
//
// Built twice. zkr-bench-floor links the multi-threaded C client (libzookeeper_mt: two threads per
// handle, callbacks on its completion thread): rows floor-seq, floor-pipe, floor-hop, the old
// transport's reference. zkr-bench-floor-st links the single-threaded one (libzookeeper_st) and
// drives every handle from one thread with epoll, as zookeeper_interest asks (row floor-st,
// pipelined): no library and no thread, the lowest cost zkr's own transport allows.
//
// The C client is set up the way zkr sets up its sessions (src/transport.cpp): by default
// every handle gets zoo_set_servers_resolution_delay(zh, -1), so the floor and zkr pay the same
// transport costs. --resolution-delay MS passes another value; --resolution-delay default leaves
// the function uncalled, i.e. the C client's own behaviour (re-resolving its hosts every poll).
#include "common.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <zookeeper/zookeeper.h>

#ifndef THREADED
#include <sys/epoll.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using bench::die;
using bench::now_ns;

std::string g_hosts;
bool g_pipelined = true;
/// The argument of zoo_set_servers_resolution_delay, or nothing to leave it uncalled. Left
/// alone, the C client resolves its host list again (getaddrinfo, a netlink query, srand) every
/// time its I/O thread polls; zkr's sessions call it with -1 (no routine resolutions, still one
/// on connection loss), and so does the floor unless told otherwise.
std::optional<int> g_resolution_delay_ms = -1;
constexpr int session_timeout_ms = 30000;

/// With --hop yes: the application thread every answer continues on.
boost::asio::io_context* g_app = nullptr;

/// Runs `f` where the algorithm continues: right here on the C client's completion thread, or,
/// with --hop yes, on the application thread.
template <class F>
void continue_with(F&& f) {
    if (g_app != nullptr) {
        boost::asio::post(*g_app, std::forward<F>(f));
    } else {
        f();
    }
}

#ifdef THREADED
/// The C client's threads do the I/O: waiting is blocking on a condition they signal.
template <class Done>
void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                std::chrono::seconds limit, Done done, const char* what) {
    if (!cv.wait_for(lock, limit, done)) {
        die(what);
    }
}

/// Nothing to do: the C client's I/O thread sends what a request queued.
inline void touched(zhandle_t*) {}
#else
/// floor-st: every handle of the process on this one thread. zookeeper_interest says what each
/// handle waits for; epoll (level-triggered) waits; zookeeper_process does the I/O and runs the
/// callbacks right here. Only handles that something happened to are asked again.
class st_loop {
  public:
    st_loop() : ep_(epoll_create1(EPOLL_CLOEXEC)) {
        if (ep_ < 0) {
            die("epoll_create1: " + std::string(std::strerror(errno)));
        }
    }

    void add(zhandle_t* zh) {
        auto& e = entries_[zh];
        e = std::make_unique<entry>();
        e->zh = zh;
        touch(e.get());
    }

    void remove(zhandle_t* zh) {
        auto it = entries_.find(zh);
        if (it == entries_.end()) {
            return;
        }
        if (it->second->fd != -1) {
            epoll_event ignored{};
            epoll_ctl(ep_, EPOLL_CTL_DEL, it->second->fd, &ignored);
        }
        std::erase(dirty_, it->second.get());
        entries_.erase(it);
    }

    /// A request was queued on `zh`: ask the handle again before the next wait.
    void touch(zhandle_t* zh) {
        auto it = entries_.find(zh);
        if (it != entries_.end()) {
            touch(it->second.get());
        }
    }

    /// Turns the loop until a line can be read on standard input: the sessions keep their
    /// pings and answers flowing while the orchestrator takes its time.
    void run_until_input() {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.ptr = nullptr;
        if (epoll_ctl(ep_, EPOLL_CTL_ADD, 0, &ev) != 0 && errno != EEXIST) {
            die("epoll_ctl stdin: " + std::string(std::strerror(errno)));
        }
        input_ready_ = false;
        run_until([&] { return input_ready_; }, std::chrono::hours(1), "no command within 1 h");
        epoll_ctl(ep_, EPOLL_CTL_DEL, 0, &ev);
    }

    /// Turns the loop until `done()`.
    template <class Done>
    void run_until(Done done, std::chrono::seconds limit, const char* what) {
        const auto give_up = now_ns() + std::chrono::nanoseconds(limit).count();
        std::array<epoll_event, 64> events{};
        while (!done()) {
            refresh();
            if (done()) {
                break;
            }
            const auto now = now_ns();
            if (now > give_up) {
                die(what);
            }
            std::int64_t next = give_up;
            for (const auto& [zh, e] : entries_) {
                next = std::min(next, e->deadline);
            }
            const int timeout_ms =
                static_cast<int>(std::max<std::int64_t>(0, next - now) / 1000000);
            const int n =
                epoll_wait(ep_, events.data(), static_cast<int>(events.size()), timeout_ms);
            for (int i = 0; i < n; ++i) {
                auto* e = static_cast<entry*>(events[i].data.ptr);
                if (e == nullptr) {
                    input_ready_ = true;  // standard input
                    continue;
                }
                int ready = 0;
                if ((events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
                    ready |= ZOOKEEPER_READ;
                }
                if ((events[i].events & EPOLLOUT) != 0) {
                    ready |= ZOOKEEPER_WRITE;
                }
                int rc = zookeeper_process(e->zh, ready);
                // One answer per call: drain what arrived together.
                for (int k = 1; rc == ZOK && (ready & ZOOKEEPER_READ) != 0 && k < 64; ++k) {
                    rc = zookeeper_process(e->zh, ZOOKEEPER_READ);
                }
                touch(e);
            }
            const auto after = now_ns();
            for (const auto& [zh, e] : entries_) {
                if (e->deadline <= after) {
                    touch(e.get());  // its timeout: pings, connection timeouts
                }
            }
        }
    }

  private:
    struct entry {
        zhandle_t* zh = nullptr;
        int fd = -1;
        std::uint32_t registered = 0;
        std::int64_t deadline = 0;
        bool dirty = false;
    };

    void touch(entry* e) {
        if (!e->dirty) {
            e->dirty = true;
            dirty_.push_back(e);
        }
    }

    void refresh() {
        while (!dirty_.empty()) {
            auto batch = std::exchange(dirty_, {});
            for (auto* e : batch) {
                e->dirty = false;
                int fd = -1;
                int interest = 0;
                timeval tv{};
                const int rc = zookeeper_interest(e->zh, &fd, &interest, &tv);
                std::int64_t wait_ns = (tv.tv_sec * 1000000LL + tv.tv_usec) * 1000;
                if (rc != ZOK) {
                    fd = -1;
                    wait_ns = std::max<std::int64_t>(wait_ns, 10000000);
                }
                e->deadline = now_ns() + wait_ns;
                follow(e, fd, interest);
            }
        }
    }

    /// Registers the handle's socket for what it waits on (a reconnect brings a new socket).
    void follow(entry* e, int fd, int interest) {
        const std::uint32_t want = ((interest & ZOOKEEPER_READ) != 0 ? EPOLLIN : 0u) |
                                   ((interest & ZOOKEEPER_WRITE) != 0 ? EPOLLOUT : 0u);
        epoll_event ev{};
        ev.events = want;
        ev.data.ptr = e;
        if (fd != e->fd) {
            if (e->fd != -1) {
                epoll_ctl(ep_, EPOLL_CTL_DEL, e->fd, &ev);  // may be gone with its socket
            }
            e->fd = fd;
            e->registered = 0;
            if (fd != -1 && epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0) {
                e->registered = want;
            }
        } else if (fd != -1 && want != e->registered) {
            if (epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev) != 0) {
                epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
            }
            e->registered = want;
        }
    }

    int ep_;
    bool input_ready_ = false;
    std::unordered_map<zhandle_t*, std::unique_ptr<entry>> entries_;
    std::vector<entry*> dirty_;
};

st_loop g_loop;

/// Waiting is turning the loop: every callback runs on this thread, inside it.
template <class Done>
void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable&,
                std::chrono::seconds limit, Done done, const char* what) {
    lock.unlock();
    g_loop.run_until(done, limit, what);
    lock.lock();
}

/// The request is queued; the loop sends what the socket does not take at once.
inline void touched(zhandle_t* zh) {
    g_loop.touch(zh);
}
#endif

/// The next protocol line; with the single-threaded client the sessions are served meanwhile.
void expect(const std::string& verb) {
#ifndef THREADED
    g_loop.run_until_input();
#endif
    bench::expect(verb);
}

/// Counts down to zero from any thread; wait() blocks until then.
class countdown {
  public:
    explicit countdown(long n = 0) : left_(n) {}
    void reset(long n) {
        std::lock_guard lock(m_);
        left_ = n;
    }
    void arrive() {
        std::lock_guard lock(m_);
        if (--left_ == 0) {
            cv_.notify_all();
        }
    }
    void wait() {
        std::unique_lock lock(m_);
        wait_until(
            lock, cv_, std::chrono::minutes(10), [&] { return left_ <= 0; },
            "timed out waiting for the scenario to finish");
    }

  private:
    std::mutex m_;
    std::condition_variable cv_;
    long left_;
};

/// One ZooKeeper session: one C-client handle (multi-threaded: its own I/O and completion
/// threads; single-threaded: one more handle for the loop).
class connection {
  public:
    connection() {
        zh_ = zookeeper_init(g_hosts.c_str(), &on_session, session_timeout_ms, nullptr, this, 0);
        if (zh_ == nullptr) {
            die("zookeeper_init failed: " + std::string(std::strerror(errno)));
        }
#ifndef THREADED
        g_loop.add(zh_);
#endif
        if (g_resolution_delay_ms) {
            const int rc = zoo_set_servers_resolution_delay(zh_, *g_resolution_delay_ms);
            if (rc != ZOK) {
                die("zoo_set_servers_resolution_delay(" + std::to_string(*g_resolution_delay_ms) +
                    "): " + zerror(rc));
            }
        }
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() {
#ifndef THREADED
        g_loop.remove(zh_);
#endif
        zookeeper_close(zh_);
    }

    bool connected() {
        std::lock_guard lock(m_);
        return state_ == ZOO_CONNECTED_STATE;
    }

    void wait_connected() {
        std::unique_lock lock(m_);
        // A thousand connections opened at once overflow the server's accept backlog: some
        // wait for the kernel's SYN retransmissions (1, 3, 7, 15 s).
        wait_until(
            lock, cv_, std::chrono::seconds(60), [&] { return state_ == ZOO_CONNECTED_STATE; },
            "no ZooKeeper session within 60 s");
    }

    zhandle_t* get() const {
        return zh_;
    }

  private:
    static void on_session(zhandle_t*, int type, int state, const char*, void* ctx) {
        if (type != ZOO_SESSION_EVENT) {
            return;
        }
        auto* self = static_cast<connection*>(ctx);
        std::lock_guard lock(self->m_);
        self->state_ = state;
        self->cv_.notify_all();
    }

    zhandle_t* zh_ = nullptr;
    std::mutex m_;
    std::condition_variable cv_;
    int state_ = 0;
};

/// Creates `dir` and its ancestors as persistent nodes (before anything is measured).
void ensure_dir(zhandle_t* zh, const std::string& dir) {
    for (std::size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos == dir.size() || dir[pos] == '/') {
            const auto prefix = dir.substr(0, pos);
#ifdef THREADED
            const int rc = zoo_create(zh, prefix.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE,
                                      ZOO_PERSISTENT, nullptr, 0);
#else
            int rc = 1;
            const auto created = [](int result, const char*, const void* data) {
                *static_cast<int*>(const_cast<void*>(data)) = result;
            };
            if (zoo_acreate(zh, prefix.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT,
                            created, &rc) != ZOK) {
                die("zoo_acreate " + prefix);
            }
            touched(zh);
            g_loop.run_until([&] { return rc != 1; }, std::chrono::seconds(20), "create timed out");
#endif
            if (rc != ZOK && rc != ZNODEEXISTS) {
                die("create " + prefix + ": " + zerror(rc));
            }
        }
    }
}

/// One acquirer: the lock algorithm as a chain of C-client callbacks.
class contender {
  public:
    using hook = std::function<void(contender&)>;

    contender(zhandle_t* zh, std::string dir, std::uint64_t seed)
        : zh_(zh), dir_(std::move(dir)), rng_(seed) {}

    hook on_acquired;
    hook on_released;

    std::int64_t sequence() const { return seq_; }

    void acquire() {
        const auto path = dir_ + "/_c_" + bench::random_uuid(rng_) + "-lock-";
        check(zoo_acreate2(zh_, path.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE,
                           ZOO_EPHEMERAL_SEQUENTIAL, &created, this),
              "zoo_acreate2");
        if (g_pipelined) {
            list();
        }
        touched(zh_);
    }

    void release() {
        check(zoo_adelete(zh_, node_.c_str(), -1, &deleted, this), "zoo_adelete");
        touched(zh_);
    }

  private:
    static contender* self(const void* data) {
        return static_cast<contender*>(const_cast<void*>(data));
    }
    static void check(int rc, const char* what) {
        if (rc != ZOK) {
            die(std::string(what) + ": " + zerror(rc));
        }
    }

    void list() {
        check(zoo_aget_children(zh_, dir_.c_str(), 0, &listed, this), "list");
        touched(zh_);
    }

    static void created(int rc, const char* value, const Stat*, const void* data) {
        continue_with([c = self(data), rc, node = std::string(rc == ZOK ? value : "")] {
            check(rc, "create");
            c->node_ = node;
            c->seq_ = bench::sequence_of(c->node_);
            if (!g_pipelined) {
                c->list();
            }
        });
    }

    static void listed(int rc, const String_vector* names, const void* data) {
        auto* c = self(data);
        if (g_app == nullptr) {
            c->evaluate(rc, names->count, [&](std::int32_t i) { return names->data[i]; });
            return;
        }
        std::vector<std::string> copy;
        if (rc == ZOK) {
            copy.assign(names->data, names->data + names->count);
        }
        continue_with([c, rc, copy = std::move(copy)] {
            c->evaluate(rc, static_cast<std::int32_t>(copy.size()),
                        [&](std::int32_t i) { return copy[static_cast<std::size_t>(i)].c_str(); });
        });
    }

    template <class NameAt>
    void evaluate(int rc, std::int32_t count, NameAt name_at) {
        check(rc, "get_children");
        // One pass: our predecessor is the highest sequence below ours.
        std::int64_t best = -1;
        const char* predecessor = nullptr;
        int ahead = 0;
        bool found = false;
        for (std::int32_t i = 0; i < count; ++i) {
            const char* name = name_at(i);
            if (std::strstr(name, "-lock-") == nullptr) {
                continue;
            }
            const auto s = bench::sequence_of(name);
            if (s == seq_) {
                found = true;
            } else if (s < seq_) {
                ++ahead;
                if (s > best) {
                    best = s;
                    predecessor = name;
                }
            }
        }
        if (!found) {
            die("own node missing from the listing");
        }
        if (ahead == 0) {
            on_acquired(*this);
            return;
        }
        predecessor_was_head_ = ahead == 1;
        watched_ = dir_ + "/" + predecessor;
        check(zoo_awget(zh_, watched_.c_str(), &on_watch, this, &got, this), "zoo_awget");
        touched(zh_);
    }

    static void got(int rc, const char*, int, const Stat*, const void* data) {
        continue_with([c = self(data), rc] {
            if (rc == ZNONODE) {
                c->predecessor_gone();  // deleted before we could watch it
            } else {
                check(rc, "get_data");  // armed: wait for the deletion event
            }
        });
    }

    static void on_watch(zhandle_t*, int type, int, const char*, void* ctx) {
        if (type == ZOO_SESSION_EVENT) {
            return;  // the C client tells every armed watcher about session changes
        }
        if (type != ZOO_DELETED_EVENT) {
            die("unexpected watch event on a predecessor");
        }
        continue_with([c = static_cast<contender*>(ctx)] { c->predecessor_gone(); });
    }

    void predecessor_gone() {
        if (predecessor_was_head_) {
            on_acquired(*this);  // nothing can be ahead of us any more
        } else {
            list();
        }
    }

    static void deleted(int rc, const void* data) {
        continue_with([c = self(data), rc] {
            check(rc, "delete");
            c->on_released(*c);
        });
    }

    zhandle_t* zh_;
    std::string dir_;
    std::uint64_t rng_;
    std::string node_;
    std::int64_t seq_ = -1;
    std::string watched_;
    bool predecessor_was_head_ = false;
};

std::uint64_t seed(std::size_t i) {
    static const std::uint64_t base =
        static_cast<std::uint64_t>(now_ns()) ^ (std::uint64_t(getpid()) << 40);
    return base + (static_cast<std::uint64_t>(i) << 20);
}

// ---- scenarios: setup (-> ready), go (-> done json), end (-> closed) ----

void run_uncontended(const bench::command& cmd) {
    const auto dir = cmd.get("dir");
    const auto secs = cmd.get_double("secs", 2.0);
    connection conn;
    conn.wait_connected();
    ensure_dir(conn.get(), dir);
    contender c(conn.get(), dir, seed(0));

    std::vector<std::int64_t> acquire_ns;
    std::vector<std::int64_t> release_ns;
    acquire_ns.reserve(200000);
    release_ns.reserve(200000);
    std::int64_t t0 = 0;
    std::int64_t t1 = 0;
    std::int64_t end = 0;
    countdown finished(1);
    c.on_acquired = [&](contender& self) {
        t1 = now_ns();
        acquire_ns.push_back(t1 - t0);
        self.release();
    };
    c.on_released = [&](contender& self) {
        const auto t2 = now_ns();
        release_ns.push_back(t2 - t1);
        if (t2 < end) {
            t0 = now_ns();
            self.acquire();
        } else {
            finished.arrive();
        }
    };
    bench::say("ready");
    expect("go");
    const auto cpu0 = bench::cpu_ns();
    const auto start = now_ns();
    end = start + static_cast<std::int64_t>(secs * 1e9);
    t0 = now_ns();
    c.acquire();
    finished.wait();
    const auto wall = now_ns() - start;
    const auto cpu = bench::cpu_ns() - cpu0;
    bench::say("done " + bench::json()
                             .num("cycles", static_cast<std::int64_t>(acquire_ns.size()))
                             .num("wall_ns", wall)
                             .num("cpu_ns", cpu)
                             .array("acquire_ns", acquire_ns)
                             .array("release_ns", release_ns)
                             .text());
    expect("end");
}

void run_contended(const bench::command& cmd) {
    const auto dir = cmd.get("dir");
    const auto secs = cmd.get_double("secs", 2.0);
    const auto n = static_cast<std::size_t>(cmd.get_int("n", 8));
    std::vector<std::unique_ptr<connection>> conns;
    for (std::size_t i = 0; i < n; ++i) {
        conns.push_back(std::make_unique<connection>());
    }
    for (auto& c : conns) {
        c->wait_connected();
    }
    ensure_dir(conns[0]->get(), dir);

    struct per_contender {
        std::vector<std::int64_t> acquired, released;
    };
    std::vector<per_contender> records(n);
    std::vector<std::unique_ptr<contender>> cs;
    std::atomic<int> holders{0};
    std::atomic<long> violations{0};
    std::atomic<bool> stop{false};
    std::int64_t start = 0;
    std::int64_t end = 0;
    countdown finished(static_cast<long>(n));
    for (std::size_t i = 0; i < n; ++i) {
        cs.push_back(std::make_unique<contender>(conns[i]->get(), dir, seed(i)));
        auto& rec = records[i];
        cs[i]->on_acquired = [&](contender& self) {
            const auto t = now_ns();
            if (holders.fetch_add(1) != 0) {
                ++violations;
            }
            rec.acquired.push_back(t - start);
            holders.fetch_sub(1);
            rec.released.push_back(now_ns() - start);
            self.release();
        };
        cs[i]->on_released = [&](contender& self) {
            if (!stop.load() && now_ns() < end) {
                self.acquire();
            } else {
                stop = true;
                finished.arrive();
            }
        };
    }
    bench::say("ready");
    expect("go");
    const auto cpu0 = bench::cpu_ns();
    start = now_ns();
    end = start + static_cast<std::int64_t>(secs * 1e9);
    for (auto& c : cs) {
        c->acquire();
    }
    finished.wait();
    const auto wall = now_ns() - start;
    const auto cpu = bench::cpu_ns() - cpu0;
    bench::contended_records all;
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t k = 0; k < records[i].acquired.size(); ++k) {
            all.acquired.push_back(records[i].acquired[k]);
            all.released.push_back(records[i].released[k]);
            all.who.push_back(static_cast<std::int64_t>(i));
        }
    }
    bench::say("done " + bench::json()
                             .num("cycles", static_cast<std::int64_t>(all.acquired.size()))
                             .num("wall_ns", wall)
                             .num("cpu_ns", cpu)
                             .num("violations", violations.load())
                             .array("acquired", all.acquired)
                             .array("released", all.released)
                             .array("who", all.who)
                             .text());
    expect("end");
}

/// A holder, then N waiters queued behind it (each on its own session, or all on one), then a
/// drain: the holder releases and every waiter releases as soon as it acquires.
void run_waiters(const bench::command& cmd) {
    const auto dir = cmd.get("dir");
    const auto n = static_cast<std::size_t>(cmd.get_int("n", 32));
    const bool shared = cmd.get_int("shared", 0) != 0;
    std::vector<std::unique_ptr<connection>> conns;
    const std::size_t count = shared ? 1 : n + 1;
    for (std::size_t i = 0; i < count; ++i) {
        conns.push_back(std::make_unique<connection>());
    }
    for (auto& c : conns) {
        c->wait_connected();
    }
    ensure_dir(conns[0]->get(), dir);
    auto handle = [&](std::size_t i) { return conns[shared ? 0 : i]->get(); };

    contender holder(handle(0), dir, seed(0));
    countdown held(1);
    holder.on_acquired = [&](contender&) { held.arrive(); };
    holder.on_released = [](contender&) {};
    holder.acquire();
    held.wait();
    bench::say("setup");
    expect("queue");  // the orchestrator has counted the watches of the sessions alone

    std::mutex order_mutex;
    std::vector<std::int64_t> order;  // sequence numbers in acquisition order
    order.reserve(n);
    std::atomic<int> holders{0};
    std::atomic<long> violations{0};
    countdown drained(static_cast<long>(n));
    std::vector<std::unique_ptr<contender>> waiters;
    waiters.reserve(n);
    const auto heap0 = bench::heap_bytes();
    const auto rss0 = bench::rss_bytes();
    for (std::size_t i = 0; i < n; ++i) {
        waiters.push_back(std::make_unique<contender>(handle(i + 1), dir, seed(i + 1)));
        waiters.back()->on_acquired = [&](contender& self) {
            if (holders.fetch_add(1) != 0) {
                ++violations;
            }
            {
                std::lock_guard lock(order_mutex);
                order.push_back(self.sequence());
            }
            holders.fetch_sub(1);
            self.release();
        };
        waiters.back()->on_released = [&](contender&) { drained.arrive(); };
    }
    const auto queue_start = now_ns();
    for (auto& w : waiters) {
        w->acquire();
    }
    bench::say("ready");
    expect("go");  // the orchestrator has seen every waiter's watch on the server
    const auto queued_ns = now_ns() - queue_start;
    const auto heap1 = bench::heap_bytes();
    const auto rss1 = bench::rss_bytes();
    const auto cpu0 = bench::cpu_ns();
    const auto start = now_ns();
    holder.release();
    drained.wait();
    const auto wall = now_ns() - start;
    const auto cpu = bench::cpu_ns() - cpu0;
    bench::say_done(
        {n, std::move(order), wall, cpu, queued_ns, heap1 - heap0, rss1 - rss0, violations.load()});
    expect("end");
}

/// N idle sessions: what each costs the process in threads and resident memory.
void run_sessions(const bench::command& cmd) {
    const auto n = static_cast<std::size_t>(cmd.get_int("n", 1000));
    bench::say("ready");
    expect("go");
    bench::trim_memory();
    const auto threads0 = bench::thread_count();
    const auto rss0 = bench::rss_bytes();
    const auto heap0 = bench::heap_bytes();
    const auto cpu0 = bench::cpu_ns();
    const auto start = now_ns();
    std::vector<std::unique_ptr<connection>> conns;
    conns.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        conns.push_back(std::make_unique<connection>());
    }
    for (auto& c : conns) {
        c->wait_connected();
    }
    const auto wall = now_ns() - start;
    bench::say_sessions({n, wall, bench::thread_count() - threads0, bench::rss_bytes() - rss0,
                         bench::heap_bytes() - heap0, bench::cpu_ns() - cpu0});
    expect("end");
}

}  // namespace

int main(int argc, char** argv) {
    bool hop = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        if (key == "--hosts") {
            g_hosts = argv[i + 1];
        } else if (key == "--mode") {
            g_pipelined = std::string(argv[i + 1]) != "sequential";
        } else if (key == "--hop") {
            hop = std::string(argv[i + 1]) == "yes";
        } else if (key == "--resolution-delay") {
            const std::string value = argv[i + 1];
            if (value == "default") {
                g_resolution_delay_ms.reset();  // the C client's own behaviour
            } else {
                std::size_t used = 0;
                try {
                    g_resolution_delay_ms = std::stoi(value, &used);
                } catch (const std::exception&) {
                    used = 0;
                }
                if (used == 0 || used != value.size()) {
                    std::cerr << "--resolution-delay: expected milliseconds or 'default', got '"
                              << value << "'\n";
                    return 2;
                }
            }
        }
    }
    if (g_hosts.empty()) {
        std::cerr << "usage: zkr-bench-floor --hosts HOST:PORT [--mode sequential|pipelined]"
                     " [--resolution-delay MS|default] [--hop yes|no]\n";
        return 2;
    }
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
#ifndef THREADED
    if (hop || !g_pipelined) {
        std::cerr << "zkr-bench-floor-st: pipelined only, no --hop (nothing to hop to)\n";
        return 2;
    }
#endif
    boost::asio::io_context app;
    auto keep_running = boost::asio::make_work_guard(app);
    std::thread app_thread;
    if (hop) {
        g_app = &app;
        app_thread = std::thread([&] { app.run(); });
    }
    // Each scenario's connections close on leaving its scope, before "closed".
    bench::command_loop({{"uncontended", run_uncontended},
                         {"contended", run_contended},
                         {"waiters", run_waiters},
                         {"sessions", run_sessions}});
    keep_running.reset();
    if (app_thread.joinable()) {
        app_thread.join();
    }
    return 0;
}
