// The floor of the counter benchmark: the raw ZooKeeper C client doing exactly the two requests
// an increment needs, and nothing else: get the node's data and version, set the value plus one
// at that version, again from the get when another writer came first (ZBADVERSION). The counter
// is Curator's SharedCount layout (4 bytes, big-endian int32), as the shared_count rows.
//
// The multi-threaded C client (libzookeeper_mt) and its synchronous calls: each request blocks
// the caller until the client's completion thread hands the answer over, the way Curator and
// kazoo call their clients. The C client is set up as zkr sets up its sessions
// (zoo_set_servers_resolution_delay -1, see floor_driver.cpp).
//
//   zkr-bench-counter-floor --hosts HOST:PORT --path PATH
// then the protocol of bench/counter_protocol.hpp on stdin/stdout.
#include "common.hpp"
#include "counter_protocol.hpp"

#include <zookeeper/zookeeper.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

namespace {

using bench::die;

/// One session of the multi-threaded C client, connected by the constructor.
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
        std::unique_lock lock(m_);
        if (!cv_.wait_for(lock, std::chrono::seconds(20), [&] { return connected_; })) {
            die("no ZooKeeper session within 20 s");
        }
    }

    floor_session(const floor_session&) = delete;
    floor_session& operator=(const floor_session&) = delete;

    ~floor_session() { zookeeper_close(zh_); }

    std::int64_t id() const { return zoo_client_id(zh_)->client_id; }

    /// Adds 1 to the int32 at `path`: get, then set at the version read, until the set lands.
    void add_one(const std::string& path) {
        for (;;) {
            std::array<char, 8> data{};
            int length = static_cast<int>(data.size());
            Stat stat{};
            if (const int rc = zoo_get(zh_, path.c_str(), 0, data.data(), &length, &stat);
                rc != ZOK) {
                die("zoo_get " + path + ": " + zerror(rc));
            }
            if (length != 4) {
                die(path + " holds " + std::to_string(length) + " bytes, not a SharedCount");
            }
            const auto value =
                static_cast<std::uint32_t>(static_cast<unsigned char>(data[0]) << 24 |
                                           static_cast<unsigned char>(data[1]) << 16 |
                                           static_cast<unsigned char>(data[2]) << 8 |
                                           static_cast<unsigned char>(data[3])) +
                1;
            for (int i = 0; i < 4; ++i) {
                data[i] = static_cast<char>(value >> (24 - 8 * i));
            }
            const int rc = zoo_set(zh_, path.c_str(), data.data(), 4, stat.version);
            if (rc == ZOK) {
                return;
            }
            if (rc != ZBADVERSION) {
                die("zoo_set " + path + ": " + zerror(rc));
            }
        }
    }

  private:
    static void on_session(zhandle_t*, int type, int state, const char*, void* context) {
        if (type != ZOO_SESSION_EVENT) {
            return;
        }
        auto* self = static_cast<floor_session*>(context);
        const std::lock_guard lock(self->m_);
        self->connected_ = state == ZOO_CONNECTED_STATE;
        self->cv_.notify_all();
    }

    zhandle_t* zh_ = nullptr;
    std::mutex m_;
    std::condition_variable cv_;
    bool connected_ = false;
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
        bench::stretch s(ms, record);
        for (; s.next(); s.landed()) {
            session.add_one(path);
        }
        return s.result();
    });
    return 0;
}
