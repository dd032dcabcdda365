// The floor of the counter benchmark: the raw ZooKeeper C client doing exactly the two requests
// an increment needs, and nothing else: get the node's data and version, set the value plus one
// at that version, again from the get when another writer came first (ZBADVERSION). The counter
// is Curator's SharedCount layout (4 bytes, big-endian int32), as the shared_count rows.
//
// The single-threaded C client with no library (floor_session.hpp).
//
//   zkr-bench-counter-floor --hosts HOST:PORT --path PATH
// then the protocol of bench/counter_protocol.hpp on stdin/stdout.
#include "common.hpp"
#include "counter_protocol.hpp"
#include "floor_session.hpp"

#include <zookeeper/zookeeper.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>

namespace {

using bench::die;

/// Increments a SharedCount through one floor session.
class floor_counter {
  public:
    explicit floor_counter(bench::floor_session& session) : zk_(session) {}

    /// Adds 1 to the int32 at `path` again and again while `s.next()` says time is left.
    bench::increments add_for(const std::string& path, std::int64_t ms, bool record) {
        path_ = path;
        stretch_ = bench::stretch(ms, record);
        done_ = false;
        next_increment();
        zk_.serve_until([&] { return done_; });
        return stretch_.result();
    }

  private:
    void next_increment() {
        if (!stretch_.next()) {
            done_ = true;
            return;
        }
        send_get();
    }

    void send_get() {
        if (const int rc = zoo_aget(zk_.handle(), path_.c_str(), 0, &on_get, this); rc != ZOK) {
            die("zoo_aget " + path_ + ": " + zerror(rc));
        }
    }

    static void on_get(int rc, const char* data, int length, const Stat* stat, const void* self) {
        auto* me = &bench::completion_target<floor_counter>(self);
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
        if (const int sent = zoo_aset(me->zk_.handle(), me->path_.c_str(), next.data(), 4,
                                      stat->version, &on_set, me);
            sent != ZOK) {
            die("zoo_aset " + me->path_ + ": " + zerror(sent));
        }
    }

    static void on_set(int rc, const Stat*, const void* self) {
        auto* me = &bench::completion_target<floor_counter>(self);
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

    bench::floor_session& zk_;
    std::string path_;
    bench::stretch stretch_{0, false};
    bool done_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    auto opt = bench::options(argc, argv);
    if (opt["--hosts"].empty() || opt["--path"].empty()) {
        std::cerr << "usage: zkr-bench-counter-floor --hosts HOST:PORT --path PATH\n";
        return 2;
    }
    bench::floor_session session(opt["--hosts"]);
    floor_counter counter(session);
    const auto& path = opt["--path"];
    bench::counter_protocol(session.id(), [&](std::int64_t ms, bool record) {
        return counter.add_for(path, ms, record);
    });
    return 0;
}
