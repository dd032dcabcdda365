// zkr_cache_client: one cache process of the cache fault run (cache_faults_test.cpp). It follows
// a directory on a session that renews after expiry, with one kind of cache (MODE):
//   children   a zkr::children_cache of DIR
//   tree       a zkr::tree_cache of DIR (every level; the root itself is not recorded)
//   node:NAME  a zkr::node_cache of DIR/NAME
// and records every event with the stat it reports, until told to stop; then it records its
// final snapshot.
//
//   zkr_cache_client MODE HOSTS DIR HISTORY STOP_FILE SESSION_MS
//
// History lines (cache_checker.hpp); a name is the node's path below DIR ("c3", "t/g1"):
//   K mode                        the first line: the MODE argument
//   E type name czxid mzxid       an event of a node (added, updated, removed: the state held
//                                 before the removal; initialized: node_cache's first snapshot,
//                                 when the node exists); type is its cache_event_type's name
//   I t / Y t                     initialized / resynced (the directory's events), at time t
//   F name czxid mzxid            the final snapshot, one line per child, after the stop
//   R what:message                an error
//   D                             ended cleanly
#include "client_files.hpp"
#include "history.hpp"

#include <zkr/children_cache.hpp>
#include <zkr/node_cache.hpp>
#include <zkr/session.hpp>
#include <zkr/tree_cache.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace asio = boost::asio;
using namespace zkr::faults;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

namespace {

constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

/// `path` as a name below `dir` ("" for `dir` itself).
std::string name_of(const std::string& path, const std::string& dir) {
    return path.size() > dir.size() ? path.substr(dir.size() + 1) : std::string();
}

/// "WHAT name czxid mzxid".
void record_node(const std::string& what, const std::string& name, const zkr::node_data& node) {
    record(what + " " + name + " " + std::to_string(node.stat.czxid) + " " +
           std::to_string(node.stat.mzxid));
}

/// The final snapshot as F lines: a children_cache's and a tree_cache's (by name or by full
/// path) and a node_cache's (one node, or none).
void record_snapshot(const zkr::children_cache& cache, const std::string&) {
    if (auto snapshot = cache.current()) {
        for (const auto& [name, node] : *snapshot) {
            record_node("F", name, node);
        }
    }
}

void record_snapshot(const zkr::tree_cache& cache, const std::string& dir) {
    if (auto snapshot = cache.current()) {
        for (const auto& [path, node] : *snapshot) {
            if (path != dir) {
                record_node("F", name_of(path, dir), node);
            }
        }
    }
}

void record_snapshot(const zkr::node_cache& cache, const std::string& dir) {
    if (auto node = cache.current()) {
        record_node("F", name_of(cache.path(), dir), *node);
    }
}

/// Records the cache's events until the stop file appears, then its snapshot.
template <class Cache>
asio::awaitable<int> follow(Cache cache, zkr::session& s, const std::string& dir) {
    if (auto [ec] = co_await cache.async_start(tuple); ec) {
        record("R start:" + words(ec.message()));
        co_return 1;
    }
    for (;;) {
        auto next = co_await (cache.async_wait_event(tuple) || stop_requested());
        if (next.index() == 1) {
            break;
        }
        auto [ec, event] = std::get<0>(std::move(next));
        if (ec) {
            record("R wait:" + words(ec.message()));
            co_return 1;
        }
        const auto name = name_of(event.path, dir);
        if (event.type == zkr::cache_event_type::initialized) {
            if (event.node && !name.empty()) {  // a node_cache's first snapshot
                record_node("E initialized", name, *event.node);
            }
            record("I " + std::to_string(zkr::faults::now_ns()));
        } else if (event.type == zkr::cache_event_type::resynced) {
            record("Y " + std::to_string(zkr::faults::now_ns()));
        } else if (!name.empty()) {  // a tree_cache's root is not one of the writer's nodes
            record_node(std::string("E ") + to_string(event.type), name,
                        event.node ? *event.node : zkr::node_data{});
        }
    }
    record_snapshot(cache, dir);
    cache.close();
    co_await s.async_close(tuple);
    record("D");
    co_return 0;
}

asio::awaitable<int> run(std::string mode, std::string hosts, std::string dir, int session_ms) {
    auto ex = co_await asio::this_coro::executor;
    zkr::session s(ex, renewing_session(std::move(hosts), session_ms));
    if (auto [ec] = co_await s.async_connect(tuple); ec) {
        record("R connect:" + words(ec.message()));
        co_return 1;
    }
    if (mode == "children") {
        co_return co_await follow(zkr::children_cache(s, dir), s, dir);
    }
    if (mode == "tree") {
        co_return co_await follow(zkr::tree_cache(s, dir), s, dir);
    }
    co_return co_await follow(zkr::node_cache(s, dir + "/" + mode.substr(mode.find(':') + 1)), s,
                              dir);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 7) {
        std::fprintf(stderr, "usage: %s MODE HOSTS DIR HISTORY STOP_FILE SESSION_MS\n", argv[0]);
        return 2;
    }
    zkr::faults::history_path = argv[4];
    zkr::faults::stop_path = argv[5];
    record(std::string("K ") + argv[1]);
    boost::log::core::get()->set_logging_enabled(false);
    asio::io_context ioc;
    int status = 1;
    asio::co_spawn(ioc, run(argv[1], argv[2], argv[3], std::atoi(argv[6])),
                   [&](std::exception_ptr e, int result) {
                       if (e) {
                           record("R exception");
                       }
                       status = e ? 1 : result;
                   });
    ioc.run();
    return status;
}
