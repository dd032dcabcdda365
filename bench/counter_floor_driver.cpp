// The floor of the counter benchmark: the raw ZooKeeper C client doing exactly the two requests
// an increment needs, and nothing else: get the node's data and version, set the value plus one
// at that version, again from the get when another writer came first (ZBADVERSION). The counter
// is Curator's SharedCount layout (4 bytes, big-endian int32), as the shared_count rows.
//
// The single-threaded C client (libzookeeper_st), zkr's own transport, with no library: one
// thread polls the handle as zookeeper_interest asks, and each answer's completion sends the
// next request, so nothing hops between threads. The C client is set up as zkr sets up its
// sessions (zoo_set_servers_resolution_delay -1, see floor_driver.cpp). The handle is served
// only while the driver connects or increments: the protocol's waits are seconds, the session
// timeout 30 s.
//
//   zkr-bench-counter-floor --hosts HOST:PORT --path PATH
// then the protocol of bench/counter_protocol.hpp on stdin/stdout.
#include "common.hpp"
#include "counter_protocol.hpp"

#include <zookeeper/zookeeper.h>

#include <poll.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>

namespace {

using bench::die;

/// One session of the single-threaded C client, connected by the constructor.
class floor_session {
  public:
    explicit floor_session(const std::string& hosts) {
        zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
        zh_ = zookeeper_init(hosts.c_str(), &on_session, 30000, nullptr, this, 0);
        if (zh_ == nullptr) {
            die("zookeeper_init failed: " + std::string(std::strerror(errno)));
        }
        if (const int rc = zoo_set_servers_resolution_delay(zh_, -1); rc != ZOK) {
            die("zoo_set_servers_resolution_delay: " + std::string(zerror(rc)));
        }
        const auto deadline = bench::now_ns() + 20'000'000'000;
        serve_until([&] { return connected_ || bench::now_ns() > deadline; });
        if (!connected_) {
            die("no ZooKeeper session within 20 s");
        }
    }

    floor_session(const floor_session&) = delete;
    floor_session& operator=(const floor_session&) = delete;

    ~floor_session() { zookeeper_close(zh_); }

    std::int64_t id() const { return zoo_client_id(zh_)->client_id; }

    /// Adds 1 to the int32 at `path` again and again while `s.next()` says time is left.
    bench::increments add_for(const std::string& path, std::int64_t ms, bool record) {
        path_ = path;
        stretch_ = bench::stretch(ms, record);
        done_ = false;
        next_increment();
        serve_until([&] { return done_; });
        return stretch_.result();
    }

  private:
    /// Polls the handle and lets the C client process what came, until `done()`.
    void serve_until(const std::function<bool()>& done) {
        while (!done()) {
            int fd = -1;
            int interest = 0;
            timeval tv{};
            if (const int rc = zookeeper_interest(zh_, &fd, &interest, &tv);
                rc != ZOK && rc != ZCONNECTIONLOSS && rc != ZOPERATIONTIMEOUT) {
                die("zookeeper_interest: " + std::string(zerror(rc)));
            }
            pollfd p{fd,
                     static_cast<short>((interest & ZOOKEEPER_READ ? POLLIN : 0) |
                                        (interest & ZOOKEEPER_WRITE ? POLLOUT : 0)),
                     0};
            const int timeout_ms = static_cast<int>(tv.tv_sec * 1000 + tv.tv_usec / 1000);
            if (poll(fd == -1 ? nullptr : &p, fd == -1 ? 0 : 1, timeout_ms) < 0 && errno != EINTR) {
                die("poll: " + std::string(std::strerror(errno)));
            }
            const int events = (p.revents & (POLLIN | POLLHUP | POLLERR) ? ZOOKEEPER_READ : 0) |
                               (p.revents & POLLOUT ? ZOOKEEPER_WRITE : 0);
            zookeeper_process(zh_, events);
        }
    }

    void next_increment() {
        if (!stretch_.next()) {
            done_ = true;
            return;
        }
        send_get();
    }

    void send_get() {
        if (const int rc = zoo_aget(zh_, path_.c_str(), 0, &on_get, this); rc != ZOK) {
            die("zoo_aget " + path_ + ": " + zerror(rc));
        }
    }

    static void on_get(int rc, const char* data, int length, const Stat* stat, const void* self) {
        auto* me = static_cast<floor_session*>(const_cast<void*>(self));
        if (rc != ZOK) {
            die("get " + me->path_ + ": " + zerror(rc));
        }
        if (length != 4) {
            die(me->path_ + " holds " + std::to_string(length) + " bytes, not a SharedCount");
        }
        std::uint32_t value = 0;
        for (int i = 0; i < 4; ++i) {
            value = value << 8 | static_cast<unsigned char>(data[i]);
        }
        ++value;
        std::array<char, 4> next{};
        for (int i = 0; i < 4; ++i) {
            next[i] = static_cast<char>(value >> (24 - 8 * i));
        }
        if (const int sent =
                zoo_aset(me->zh_, me->path_.c_str(), next.data(), 4, stat->version, &on_set, me);
            sent != ZOK) {
            die("zoo_aset " + me->path_ + ": " + zerror(sent));
        }
    }

    static void on_set(int rc, const Stat*, const void* self) {
        auto* me = static_cast<floor_session*>(const_cast<void*>(self));
        if (rc == ZBADVERSION) {
            me->send_get();  // another writer came first: again from the fresh value
            return;
        }
        if (rc != ZOK) {
            die("set " + me->path_ + ": " + zerror(rc));
        }
        me->stretch_.landed();
        me->next_increment();
    }

    static void on_session(zhandle_t*, int type, int state, const char*, void* context) {
        if (type == ZOO_SESSION_EVENT) {
            static_cast<floor_session*>(context)->connected_ = state == ZOO_CONNECTED_STATE;
        }
    }

    zhandle_t* zh_ = nullptr;
    bool connected_ = false;
    std::string path_;
    bench::stretch stretch_{0, false};
    bool done_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    std::map<std::string, std::string> opt;
    for (int i = 1; i + 1 < argc; i += 2) {
        opt[argv[i]] = argv[i + 1];
    }
    if (opt["--hosts"].empty() || opt["--path"].empty()) {
        std::cerr << "usage: zkr-bench-counter-floor --hosts HOST:PORT --path PATH\n";
        return 2;
    }
    floor_session session(opt["--hosts"]);
    const auto& path = opt["--path"];
    bench::counter_protocol(session.id(), [&](std::int64_t ms, bool record) {
        return session.add_for(path, ms, record);
    });
    return 0;
}
