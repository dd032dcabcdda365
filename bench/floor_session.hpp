// What the floors of the side-by-side benchmarks start from (counter_floor_driver.cpp,
// queue_floor_driver.cpp): one session of the raw single-threaded ZooKeeper C client
// (libzookeeper_st, zkr's transport without zkr), connected by the constructor, served by one
// thread that polls the handle as zookeeper_interest asks; each answer's completion sends the
// next request, so nothing hops between threads. Set up as zkr sets up its sessions
// (zoo_set_servers_resolution_delay -1, see floor_driver.cpp). The handle is served only while
// the driver works (serve_until): the protocol's waits are seconds, the session timeout 30 s.
#pragma once

#include "common.hpp"

#include <zookeeper/zookeeper.h>

#include <poll.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

namespace bench {

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
        const auto deadline = now_ns() + 20'000'000'000;
        serve_until([&] { return connected_ || now_ns() > deadline; });
        if (!connected_) {
            die("no ZooKeeper session within 20 s");
        }
    }

    floor_session(const floor_session&) = delete;
    floor_session& operator=(const floor_session&) = delete;

    ~floor_session() { zookeeper_close(zh_); }

    std::int64_t id() const { return zoo_client_id(zh_)->client_id; }
    zhandle_t* handle() const { return zh_; }

    /// Polls the handle and lets the C client process what came (completions run here), until
    /// `done()`.
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

  private:
    static void on_session(zhandle_t*, int type, int state, const char*, void* context) {
        if (type == ZOO_SESSION_EVENT) {
            static_cast<floor_session*>(context)->connected_ = state == ZOO_CONNECTED_STATE;
        }
    }

    zhandle_t* zh_ = nullptr;
    bool connected_ = false;
};

/// The object a C completion's `data` pointer carries back (the C client passes it as const).
template <class T>
T& completion_target(const void* data) {
    return *static_cast<T*>(const_cast<void*>(data));
}

}  // namespace bench
