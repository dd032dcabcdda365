// zkr's recipes and the Curator and kazoo recipes that share their layouts, on one path, each
// proved both ways on a real server: the peer process waits for zkr, and zkr waits for the peer.
#include "test_support.hpp"

#include <zkr/mutex.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_mutex.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <memory>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

/// One holder of the test's own: the verb of its record line, and how it lets go.
struct held {
    std::string enter;  // "enter" or "enter-read"
    std::function<asio::awaitable<error_code>()> release;
};

/// A held handle (zkr::lock, zkr::lease) as a holder.
template <class Handle>
held holder(Handle handle, std::string enter = "enter") {
    auto h = std::make_shared<Handle>(std::move(handle));
    return {std::move(enter), [h]() -> asio::awaitable<error_code> {
                auto [ec] = co_await h->async_release(asio::as_tuple(asio::use_awaitable));
                co_return ec;
            }};
}

/// What the test takes first, on the path: its holders, in the order it lets them go.
using take_fn = std::function<asio::awaitable<std::vector<held>>(session&, const std::string&)>;

/// A hand-off between zkr and a peer driver on one path, both ways, in one record file:
///  1. the test takes its holders, recorded as "enter zkr-test-N";
///  2. the peer (one critical section, held 1 s) starts and queues (`queued` children in
///     `queue_dir`): it waits for zkr;
///  3. the test lets its first holder go: the peer enters (a line starting with `peer_enter`);
///  4. a zkr worker in `worker_mode` starts, and must wait for the peer (the test's other
///     holders stay in);
///  5. the worker and the peer exit, and the test lets its other holders go.
/// check_record (at most `max_inside` exclusive holders) finds any entry that did not wait.
struct handoff {
    std::string driver;
    std::vector<std::string> env;
    std::string peer_enter;
    std::string queue_dir;  // under the path; "" for the path itself
    std::size_t queued;
    std::string worker_mode;
    std::size_t max_inside = 1;
};

void append(const std::string& file, const std::string& line) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0) << file;
    EXPECT_EQ(::write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    ::close(fd);
}

bool record_has(const std::string& file, const std::string& prefix) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(prefix, 0) == 0) {
            return true;
        }
    }
    return false;
}

void hand_off_both_ways(const handoff& h, const take_fn& take) {
    const auto path = fresh_root() + "/shared";
    const auto queue = h.queue_dir.empty() ? path : path + "/" + h.queue_dir;
    record_file record;
    std::size_t holders_taken = 0;
    with_sessions(
        {config_for_peer_tests(shared_hosts())},
        [&](session& s) -> asio::awaitable<void> {
            auto holders = co_await take(s, path);
            holders_taken = holders.size();
            CO_REQUIRE(!holders.empty());
            const auto line = [&](std::size_t i, const std::string& verb) {
                append(record.path, verb + " zkr-test-" + std::to_string(i) + " " +
                                        std::to_string(::getpid()) + "\n");
            };
            const auto let_go = [&](std::size_t i) -> asio::awaitable<error_code> {
                line(i, holders[i].enter == "enter" ? "exit" : "exit-read");
                co_return co_await holders[i].release();
            };
            for (std::size_t i = 0; i < holders.size(); ++i) {
                line(i, holders[i].enter);
            }
            // The peer queues behind the test's holders: it waits for zkr.
            auto other = peer(h.driver, {path, "1", record.path, "1000"}, h.env);
            expect_ready(other, h.driver);
            // Each look is a session of its own: every 50 ms is often enough.
            CO_REQUIRE(wait_until([&] { return children_count(queue) == h.queued; }, 30s, 50ms));
            CO_REQUIRE(!co_await let_go(0));
            CO_REQUIRE(wait_until([&] { return record_has(record.path, h.peer_enter); }, 30s));
            // The peer holds: a zkr process must wait for it.
            auto worker = zkr_worker(h.worker_mode, path, 1, record.path, 2);
            EXPECT_TRUE(worker.exits_cleanly(peer_start_limit));
            EXPECT_TRUE(other.exits_cleanly(peer_start_limit));
            for (std::size_t i = 1; i < holders.size(); ++i) {
                CO_REQUIRE(!co_await let_go(i));
            }
            co_await s.async_close(asio::use_awaitable);
        },
        180s);
    // The test's holders, the peer's section and the worker's, none entered too early.
    EXPECT_EQ(check_record(record.path, h.max_inside), holders_taken + 2);
    EXPECT_TRUE(wait_until([&] { return children_count(queue) == 0; }, 10s, 50ms))
        << "contenders left";
}

TEST(Interop, ZkrMutexAndCuratorLeaderSelectorShareAPath) {
    // LeaderSelector is an InterProcessMutex on its path: zkr::mutex contends with it.
    hand_off_both_ways(
        {"curator-lock", {"CURATOR_RECIPE=selector"}, "lead curator", "", 2, "lock"},
        [](session& s, const std::string& path) -> asio::awaitable<std::vector<held>> {
            mutex m(s, path);
            auto h = co_await m.async_lock(asio::use_awaitable);
            co_return std::vector<held>{holder(std::move(h))};
        });
}

TEST(Interop, ZkrAndCuratorSemaphoresCountEachOthersLeases) {
    // Two leases of two held by zkr: Curator's InterProcessSemaphoreV2 waits (its lease node is
    // the third). One let go: Curator gets it, and a zkr worker must wait for Curator's.
    hand_off_both_ways(
        {"curator-lock",
         {"CURATOR_RECIPE=semaphore:2"},
         "enter curator",
         "leases",
         3,
         "semaphore:2",
         2},
        [](session& s, const std::string& path) -> asio::awaitable<std::vector<held>> {
            semaphore pool(s, path, 2);
            auto first = co_await pool.async_acquire(asio::use_awaitable);
            auto second = co_await pool.async_acquire(asio::use_awaitable);
            co_return std::vector<held>{holder(std::move(first)), holder(std::move(second))};
        });
}

TEST(Interop, KazooReaderWaitsForAZkrWriterAndAZkrWriterForIt) {
    // kazoo 2.8's ReadLock waits for the last writer in the directory, even one queued after it
    // (integration/peers/README.md): the zkr writer arrives once the reader holds.
    hand_off_both_ways(
        {"kazoo_lock.py", {"KAZOO_RW=read"}, "enter-read kazoo", "", 2, "write"},
        [](session& s, const std::string& path) -> asio::awaitable<std::vector<held>> {
            shared_mutex rw(s, path);
            auto h = co_await rw.async_lock(asio::use_awaitable);
            co_return std::vector<held>{holder(std::move(h))};
        });
}

TEST(Interop, KazooWriterWaitsForZkrReadersAndZkrReadersForIt) {
    hand_off_both_ways(
        {"kazoo_lock.py", {"KAZOO_RW=write"}, "enter kazoo", "", 2, "read"},
        [](session& s, const std::string& path) -> asio::awaitable<std::vector<held>> {
            shared_mutex rw(s, path);
            auto h = co_await rw.async_lock_shared(asio::use_awaitable);
            co_return std::vector<held>{holder(std::move(h), "enter-read")};
        });
}

}  // namespace
}  // namespace zkr::test
