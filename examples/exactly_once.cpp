// Exactly-once tasks: workers share a list of tasks, and each task is done once, even when a worker
// dies in the middle of one. Tasks are znodes /tasks/queue/task-N. A worker claims a task by
// locking /tasks/locks/task-N, checks under the lock that /tasks/done/task-N does not exist, does
// the work, and writes the result and the done marker in one guarded multi, which ZooKeeper applies
// only while the worker still holds the lock. worker-1 dies holding its first task: its session
// ends, the lock goes with it, and another worker finds the task not done and takes it over.
//   exactly_once HOSTS
#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include "example.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/log/core.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;

constexpr int task_count = 6;
std::map<std::string, std::vector<std::string>> done_by;  // task -> workers whose write committed
int refused = 0;                                          // writes ZooKeeper refused
std::string died_in;                                      // the task worker-1 died in

asio::awaitable<void> worker(std::string hosts, int n, bool dies) {
    auto s = co_await example::connect(hosts);
    const std::string me = "worker-" + std::to_string(n);
    for (int i = 0; i < task_count; ++i) {
        const std::string task = "task-" + std::to_string((i + 2 * n) % task_count);
        zkr::mutex mutex(s, "/tasks/locks/" + task);
        auto lock = co_await mutex.async_lock(use_awaitable);
        if (co_await s.async_exists("/tasks/done/" + task, use_awaitable)) {
            continue;  // done by someone else; the lock is released here
        }
        auto input =
            std::stoi((co_await s.async_get_data("/tasks/queue/" + task, use_awaitable)).data);
        asio::steady_timer work(s.get_executor(), std::chrono::milliseconds(20));
        co_await work.async_wait(use_awaitable);  // the work itself
        if (dies) {
            std::printf("%s: dies in the middle of %s\n", me.c_str(), task.c_str());
            died_in = task;
            co_await s.async_close(use_awaitable);  // as a crash would, this drops the lock
            co_return;
        }
        std::vector<zkr::op> ops;
        ops.push_back(zkr::op::create("/tasks/results/" + task, std::to_string(input * input)));
        ops.push_back(zkr::op::create("/tasks/done/" + task, me));
        auto [ec, results] =
            co_await lock.async_guarded_multi(std::move(ops), asio::as_tuple(use_awaitable));
        if (ec) {
            ++refused;
            std::printf("%s: write for %s REFUSED: %s\n", me.c_str(), task.c_str(),
                        ec.message().c_str());
            continue;
        }
        done_by[task].push_back(me);
        std::printf("%s: %s done, %d squared\n", me.c_str(), task.c_str(), input);
    }
}

asio::awaitable<bool> run(std::string hosts) {
    auto s = co_await example::connect(hosts);
    const char* const dirs[] = {"/tasks", "/tasks/queue", "/tasks/results", "/tasks/done"};
    for (const char* dir : dirs) {
        co_await s.async_create(dir, "", zkr::create_mode::persistent, use_awaitable);
    }
    for (int i = 0; i < task_count; ++i) {
        co_await s.async_create("/tasks/queue/task-" + std::to_string(i), std::to_string(i + 2),
                                zkr::create_mode::persistent, use_awaitable);
    }
    co_await (worker(hosts, 0, false) && worker(hosts, 1, true) && worker(hosts, 2, false));

    bool ok = refused == 0;
    for (int i = 0; i < task_count; ++i) {
        const std::string task = "task-" + std::to_string(i);
        auto [ec, marker] =
            co_await s.async_get_data("/tasks/done/" + task, asio::as_tuple(use_awaitable));
        const auto& by = done_by[task];
        std::printf("%s: done %zu time(s), by %s%s\n", task.c_str(), by.size(),
                    ec ? "nobody" : marker.data.c_str(),
                    task == died_in ? " (worker-1 died in it)" : "");
        ok = ok && by.size() == 1 && !ec && marker.data == by.front();
    }
    co_return ok;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s HOSTS\n", argv[0]);
        return 64;
    }
    return example::run("exactly_once", [&] { return run(argv[1]); });
}
