// Checkpoint coordinator: the elected leader of a stream processor records how far it got in
// /checkpoint, tagging each checkpoint with its fencing token, and writes it through
// leadership::async_guarded_multi. node-1 leads, checkpoints, and stalls; it is deposed without
// being told, node-2 takes over from node-1's checkpoint and goes further. When node-1 wakes up and
// writes its late checkpoint, ZooKeeper itself refuses it: progress never goes backwards.
//   checkpoint HOSTS
#include <zkr/leader_election.hpp>
#include <zkr/session.hpp>

#include "example.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/log/core.hpp>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace asio = boost::asio;
using asio::use_awaitable;

// Writes "offset <n> token <t>" to /checkpoint, only while `term` is still the leadership.
asio::awaitable<bool> checkpoint(const char* who, zkr::leadership& term, long long offset) {
    const long long token = term.fencing_token();
    std::vector<zkr::op> ops;
    ops.push_back(zkr::op::set_data(
        "/checkpoint", "offset " + std::to_string(offset) + " token " + std::to_string(token)));
    auto [ec, results] =
        co_await term.async_guarded_multi(std::move(ops), asio::as_tuple(use_awaitable));
    std::printf("%s: checkpoint offset %lld with token %lld: %s\n", who, offset, token,
                ec ? ("REFUSED, " + ec.message()).c_str() : "written");
    co_return !ec;
}

asio::awaitable<bool> run(std::string hosts) {
    auto s1 = co_await example::connect(hosts), s2 = co_await example::connect(hosts),
         ops = co_await example::connect(hosts);
    co_await ops.async_create("/checkpoint", "offset 0 token 0", zkr::create_mode::persistent,
                              use_awaitable);
    zkr::leader_election node1(s1, "/election/checkpointer", "node-1");
    zkr::leader_election node2(s2, "/election/checkpointer", "node-2");

    auto term1 = co_await node1.async_campaign(use_awaitable);
    std::printf("node-1: leads (token %lld)\n", static_cast<long long>(term1.fencing_token()));
    const bool first = co_await checkpoint("node-1", term1, 100);
    // node-1 stalls (a GC pause) and is deposed, as when its session expires. Here an operator
    // deletes node-1's election node with a session of its own: same effect, and nobody tells it.
    co_await ops.async_remove(term1.path(), -1, use_awaitable);

    auto term2 = co_await node2.async_campaign(use_awaitable);
    auto latest = co_await ops.async_get_data("/checkpoint", use_awaitable);
    std::printf("node-2: leads (token %lld), resumes from \"%s\"\n",
                static_cast<long long>(term2.fencing_token()), latest.data.c_str());
    const bool second = co_await checkpoint("node-2", term2, 200);

    // node-1 wakes up. It still believes it leads, and writes the checkpoint it had computed.
    std::printf("node-1: wakes up, is_leader() = %s\n", term1.is_leader() ? "true" : "false");
    const bool late = co_await checkpoint("node-1", term1, 150);
    std::printf("node-1: is_leader() = %s now (%s)\n", term1.is_leader() ? "true" : "false",
                term1.lost_reason().message().c_str());

    auto final_data = co_await ops.async_get_data("/checkpoint", use_awaitable);
    const std::string expected = "offset 200 token " + std::to_string(term2.fencing_token());
    std::printf("/checkpoint: \"%s\"\n", final_data.data.c_str());
    co_await term2.async_resign(use_awaitable);
    const bool holds = first && second && !late && final_data.data == expected;
    co_return holds;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s HOSTS\n", argv[0]);
        return 64;
    }
    return example::run("checkpoint", [&] { return run(argv[1]); });
}
