// zkr revoke PATH [--node NAME] [--force] [--grace S]: asks the holder of the lock on PATH (or the
// contender NAME) to let go; with --force, deletes its node once the grace period has passed.
#include "handlers.hpp"

#include <zkr/lock_queue.hpp>
#include <zkr/path.hpp>
#include <zkr/revoke.hpp>
#include <zkr/session.hpp>

namespace zkr::cli {

namespace asio = boost::asio;

namespace {

const char* said(revocation how) {
    switch (how) {
        case revocation::requested:
            return "requested";
        case revocation::released:
            return "released";
        case revocation::evicted:
            return "evicted";
    }
    return "?";
}

}  // namespace

asio::awaitable<int> run_revoke(session& s, const options& o) {
    auto node = o.node.empty() ? std::string{} : join_path(o.path, o.node);
    if (node.empty()) {
        // The holder: the head of the queue (the first of them for readers sharing it).
        auto [ec, queue] = co_await async_list_queue(s, o.path, tuple);
        if (ec) {
            std::fprintf(stderr, "zkr: %s\n", ec.message().c_str());
            co_return exit_unavailable;
        }
        if (queue.empty() || !queue.front().holds) {
            std::fprintf(stderr, "zkr: nobody holds %s\n", o.path.c_str());
            co_return exit_not_acquired;
        }
        node = join_path(o.path, queue.front().node);
    }
    revoke_options how;
    how.force = o.force;
    how.grace = o.grace;
    auto [ec, outcome] = co_await async_revoke(s, node, how, tuple);
    if (ec == zk_errc::no_node) {
        std::fprintf(stderr, "zkr: %s does not exist: nothing to revoke\n", node.c_str());
        co_return exit_not_acquired;
    }
    if (ec == errc::not_a_lock_node || ec == errc::not_revocable) {
        std::fprintf(stderr, "zkr: %s: %s\n", node.c_str(), ec.message().c_str());
        co_return exit_usage;  // refused before anything was written
    }
    if (ec) {
        std::fprintf(stderr, "zkr: %s\n", ec.message().c_str());
        co_return exit_unavailable;
    }
    std::printf("%s %s\n", said(outcome), node.c_str());
    co_return 0;
}

}  // namespace zkr::cli
