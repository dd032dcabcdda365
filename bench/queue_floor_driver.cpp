// The floor of the queue benchmark: the raw ZooKeeper C client doing the fewest requests a put
// and a take need in Curator's SimpleDistributedQueue layout (items "qn-<sequence>" under the
// queue's path), and nothing else. A put is one create, sequential. A take lists the path's
// children, reads the head item's data and deletes it: 3 requests. When another consumer came
// first (no node at the read or the delete) it tries the next item of the same listing, and
// lists again when the listing is used up; the next take lists again. A consumer ends when a
// listing holds no item: the queue was filled before the consumers started, so empty is empty for
// good. Nothing waits (no watch): the floor of a drain, not of a consumer that waits for items.
//
// The single-threaded C client with no library (floor_session.hpp).
//
//   zkr-bench-queue-floor --hosts HOST:PORT [--requests minimal|zkr]
// then the protocol of bench/queue_protocol.hpp on stdin/stdout.
#include "common.hpp"
#include "floor_session.hpp"
#include "queue_protocol.hpp"

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using bench::completion_target;
using bench::die;

/// Puts and takes items on one queue path through one floor session.
class floor_queue {
  public:
    floor_queue(bench::floor_session& session, std::string path, bool zkr_requests)
        : zk_(session),
          path_(std::move(path)),
          claims_(path_ + "/zkr-claims"),
          zkr_(zkr_requests) {}

    std::vector<std::int64_t> put(std::int64_t first, std::int64_t n) {
        std::vector<std::int64_t> latency;
        const std::string prefix = path_ + "/qn-";
        for (std::int64_t id = first; id < first + n; ++id) {
            const auto data = std::to_string(id);
            const auto start = bench::now_ns();
            done_ = false;
            if (zkr_) {
                zoo_create_op_init(&ops_[0], prefix.c_str(), data.data(),
                                   static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE,
                                   ZOO_SEQUENCE, created_.data(), created_.size());
                check(zoo_aexists(zk_.handle(), path_.c_str(), 0, &on_stat, this), "exists");
            } else {
                check(zoo_acreate(zk_.handle(), prefix.c_str(), data.data(),
                                  static_cast<int>(data.size()), &ZOO_OPEN_ACL_UNSAFE, ZOO_SEQUENCE,
                                  &on_created, this),
                      "create");
            }
            zk_.serve_until([&] { return done_; });
            latency.push_back(bench::now_ns() - start);
        }
        return latency;
    }

    bench::consumption take_all() {
        done_ = false;
        if (zkr_) {  // the claims' directory, as zkr makes it on its first take
            check(zoo_acreate(zk_.handle(), claims_.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE, 0,
                              &on_claims_dir, this),
                  "create");
            zk_.serve_until([&] { return done_; });
            done_ = false;
        }
        taken_.begin();
        list();
        zk_.serve_until([&] { return done_; });
        return std::move(taken_);
    }

  private:
    void check(int rc, const char* what) const {
        if (rc != ZOK) {
            die(std::string("zoo_a") + what + " in " + path_ + ": " + zerror(rc));
        }
    }

    static void on_created(int rc, const char*, const void* self) {
        auto& me = completion_target<floor_queue>(self);
        me.check(rc, "create");
        me.done_ = true;
    }

    static void on_claims_dir(int rc, const char*, const void* self) {
        auto& me = completion_target<floor_queue>(self);
        me.check(rc == ZNODEEXISTS ? ZOK : rc, "create");
        me.done_ = true;
    }

    static void on_stat(int rc, const Stat*, const void* self) {
        auto& me = completion_target<floor_queue>(self);
        me.check(rc, "exists");
        me.check(
            zoo_amulti(me.zk_.handle(), 1, me.ops_.data(), me.results_.data(), &on_put_multi, &me),
            "multi");
    }

    static void on_put_multi(int rc, const void* self) {
        auto& me = completion_target<floor_queue>(self);
        me.check(rc, "multi");
        me.done_ = true;
    }

    void list() {
        check(zoo_aget_children(zk_.handle(), path_.c_str(), 0, &on_listed, this), "get_children");
        if (zkr_) {  // sent at once: the answers come in order, the claims' last
            check(zoo_aget_children(zk_.handle(), claims_.c_str(), 0, &on_claims_listed, this),
                  "get_children");
        }
    }

    static void on_claims_listed(int rc, const String_vector* children, const void* self) {
        auto& me = completion_target<floor_queue>(self);
        me.check(rc, "get_children");
        const std::unordered_set<std::string> claimed(children->data,
                                                      children->data + children->count);
        std::erase_if(me.listing_, [&](const std::string& item) { return claimed.count(item); });
        me.try_next();
    }

    static void on_listed(int rc, const String_vector* children, const void* self) {
        auto& me = completion_target<floor_queue>(self);
        if (rc != ZOK) {
            die("list " + me.path_ + ": " + zerror(rc));
        }
        me.listing_.clear();
        for (int i = 0; i < children->count; ++i) {
            if (std::string_view(children->data[i]).starts_with("qn-")) {
                me.listing_.emplace_back(children->data[i]);
            }
        }
        std::sort(me.listing_.begin(), me.listing_.end());
        me.next_ = 0;
        if (!me.zkr_) {
            me.try_next();
        }
    }

    /// Reads the next item of the listing, or lists again; an empty listing ends the take.
    void try_next() {
        if (next_ == listing_.size()) {
            if (listing_.empty()) {
                done_ = true;
                return;
            }
            list();
            return;
        }
        item_ = path_ + "/" + listing_[next_++];
        if (const int rc = zoo_aget(zk_.handle(), item_.c_str(), 0, &on_read, this); rc != ZOK) {
            die("zoo_aget " + item_ + ": " + zerror(rc));
        }
    }

    static void on_read(int rc, const char* data, int length, const Stat*, const void* self) {
        auto& me = completion_target<floor_queue>(self);
        if (rc == ZNONODE) {
            me.try_next();  // another consumer took it
            return;
        }
        if (rc != ZOK) {
            die("get " + me.item_ + ": " + zerror(rc));
        }
        me.data_.assign(data, static_cast<std::size_t>(std::max(length, 0)));
        if (!me.zkr_) {
            me.check(zoo_adelete(me.zk_.handle(), me.item_.c_str(), -1, &on_deleted, &me),
                     "delete");
            return;
        }
        me.claim_ = me.claims_ + "/" + me.listing_[me.next_ - 1];
        zoo_create_op_init(&me.ops_[0], me.claim_.c_str(), nullptr, -1, &ZOO_OPEN_ACL_UNSAFE,
                           ZOO_EPHEMERAL, me.created_.data(), me.created_.size());
        zoo_delete_op_init(&me.ops_[1], me.item_.c_str(), -1);
        zoo_delete_op_init(&me.ops_[2], me.claim_.c_str(), -1);
        me.check(
            zoo_amulti(me.zk_.handle(), 3, me.ops_.data(), me.results_.data(), &on_take_multi, &me),
            "multi");
    }

    static void on_take_multi(int rc, const void* self) {
        auto& me = completion_target<floor_queue>(self);
        if (rc != ZOK && (me.results_[0].err == ZNODEEXISTS || me.results_[1].err == ZNONODE)) {
            me.try_next();  // claimed, or taken, by another consumer
            return;
        }
        on_deleted(rc, self);
    }

    static void on_deleted(int rc, const void* self) {
        auto& me = completion_target<floor_queue>(self);
        if (rc == ZNONODE) {
            me.try_next();  // another consumer took it between our read and our delete
            return;
        }
        if (rc != ZOK) {
            die("delete " + me.item_ + ": " + zerror(rc));
        }
        if (!me.taken_.handed(me.data_)) {
            me.done_ = true;
            return;
        }
        me.taken_.begin();
        me.list();  // each take starts from a listing, as a take call of its own would
    }

    bench::floor_session& zk_;
    std::string path_;
    std::string claims_;
    bool zkr_;
    bool done_ = false;
    std::array<zoo_op_t, 3> ops_{};
    std::array<zoo_op_result_t, 3> results_{};
    std::array<char, 256> created_{};
    std::string claim_;
    std::vector<std::string> listing_;
    std::size_t next_ = 0;
    std::string item_;
    std::string data_;
    bench::consumption taken_;
};

}  // namespace

int main(int argc, char** argv) {
    auto opt = bench::options(argc, argv);
    const auto requests = opt.count("--requests") ? opt["--requests"] : "minimal";
    if (opt["--hosts"].empty() || (requests != "minimal" && requests != "zkr")) {
        std::cerr << "usage: zkr-bench-queue-floor --hosts HOST:PORT [--requests minimal|zkr]\n";
        return 2;
    }
    const bool zkr_requests = requests == "zkr";
    bench::floor_session session(opt["--hosts"]);
    bench::queue_protocol(
        session.id(),
        [&](const std::string& path, std::int64_t first, std::int64_t n) {
            return floor_queue(session, path, zkr_requests).put(first, n);
        },
        [&](const std::string& path) -> std::function<bench::consumption()> {
            auto done = floor_queue(session, path, zkr_requests).take_all();
            return [done] { return done; };
        });
    return 0;
}
