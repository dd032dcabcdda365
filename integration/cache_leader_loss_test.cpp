// The caches on a three-node ensemble that loses its leader while another client writes: a
// tree_cache and a children_cache whose session knows only the leader. The leader is killed
// mid-writes and restarted after the session timeout, so the caches' session expires and renews:
// they read the ensemble again, report `resynced`, and reach the server's state.
#include "test_support.hpp"

#include <zkr/children_cache.hpp>
#include <zkr/session.hpp>
#include <zkr/tree_cache.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>
#include <random>
#include <sstream>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

/// A node's identity and version as the caches compare them.
using states = std::map<std::string, std::pair<std::int64_t, std::int64_t>>;  // czxid, mzxid

/// The members of an ensemble's connect string, by server id (1..n).
std::vector<std::string> members_of(const std::string& hosts) {
    std::vector<std::string> out;
    std::istringstream in(hosts);
    for (std::string member; std::getline(in, member, ',');) {
        out.push_back(member);
    }
    return out;
}

/// Waits for `cache`'s events until a `resynced` one; false if the cache ends first.
template <class Cache>
asio::awaitable<bool> resynced(Cache& cache) {
    for (;;) {
        auto [ec, e] = co_await cache.async_wait_event(tuple);
        if (ec) {
            ADD_FAILURE() << ec.message();
            co_return false;
        }
        if (e.type == cache_event_type::resynced) {
            co_return true;
        }
    }
}

template <class Snapshot>
states stats_of(const std::shared_ptr<const Snapshot>& snapshot) {
    states out;
    if (snapshot) {
        for (const auto& [key, node] : *snapshot) {
            out[key] = {node.stat.czxid, node.stat.mzxid};
        }
    }
    return out;
}

TEST(Cache, TreeAndChildrenCachesConvergeAfterTheEnsembleLosesItsLeaderMidWrites) {
    zk_server ensemble(3);
    const int leader = ensemble.leader();
    ASSERT_GT(leader, 0);
    const auto members = members_of(ensemble.hosts());
    ASSERT_EQ(members.size(), 3U);
    std::string others;
    for (int i = 1; i <= 3; ++i) {
        if (i != leader) {
            others += (others.empty() ? "" : ",") + members[static_cast<std::size_t>(i - 1)];
        }
    }
    const std::string root = "/leaderloss";
    // The nodes written: children of the root, and grandchildren under its child "a".
    const std::vector<std::string> written = {"k0", "k1", "k2", "k3", "a/g0", "a/g1"};

    auto caching = config_for(members[static_cast<std::size_t>(leader - 1)], 1000ms);
    caching.renew_after_expiry = true;
    caching.dedicated_io_thread = true;  // pings go on while the test kills and restarts
    auto writing = config_for(others, 4000ms);
    writing.dedicated_io_thread = true;
    const session_config configs[] = {caching, writing};
    with_sessions(
        configs,
        [&](session& s, session& writer) -> asio::awaitable<void> {
            for (const auto& path : {root, root + "/a"}) {
                auto [ec, made] = co_await writer.async_create(path, std::string(),
                                                               create_mode::persistent, tuple);
                CO_REQUIRE(!ec);
            }
            tree_cache tree(s, root);
            children_cache children(s, root);
            CO_REQUIRE(!std::get<0>(co_await tree.async_start(tuple)));
            CO_REQUIRE(!std::get<0>(co_await children.async_start(tuple)));

            std::mt19937 rng(7);
            const auto write = [&](int n) -> asio::awaitable<void> {
                for (int i = 0; i < n; ++i) {
                    const auto path = root + "/" + written[rng() % written.size()];
                    const auto data = std::to_string(i);
                    auto [ec, st] = co_await writer.async_exists(path, tuple);
                    if (ec) {
                        // Its server lost its leader: connection lost until a new one is elected.
                        CO_REQUIRE(co_await eventually(
                            [&] { return writer.state() == session_state::connected; }, 10s));
                        continue;
                    }
                    if (!st) {
                        ec = std::get<0>(co_await writer.async_create(
                            path, data, create_mode::persistent, tuple));
                    } else if (rng() % 3 != 0) {
                        ec = std::get<0>(co_await writer.async_set_data(path, data, -1, tuple));
                    } else {
                        ec = std::get<0>(co_await writer.async_remove(path, -1, tuple));
                    }
                    if (ec && !is_retryable(ec)) {
                        ADD_FAILURE() << path << ": " << ec.message();  // one writer: no conflict
                    }
                }
            };
            const auto generation = s.generation();
            co_await write(100);
            ensemble.kill(leader);
            co_await write(100);         // the other two elect a leader and go on
            co_await pause_for(2500ms);  // past the caches' session timeout
            co_await write(100);
            ensemble.restart(leader);  // it refuses the expired session
            co_await write(100);

            // The server's state, as the writer reads it now (the last writes are its own).
            states server;
            for (const auto& name :
                 std::vector<std::string>{"", "/a", "/k0", "/k1", "/k2", "/k3", "/a/g0", "/a/g1"}) {
                auto [ec, st] = co_await writer.async_exists(root + name, tuple);
                CO_REQUIRE(!ec);
                if (st) {
                    server[root + name] = {st->czxid, st->mzxid};
                }
            }
            states direct;  // what the children cache holds: the root's children, by name
            for (const auto& [path, stat] : server) {
                const auto rest = path.substr(std::min(path.size(), root.size() + 1));
                if (path != root && rest.find('/') == std::string::npos) {
                    direct[rest] = stat;
                }
            }

            EXPECT_TRUE(co_await resynced(tree));
            EXPECT_TRUE(co_await resynced(children));
            EXPECT_GT(s.generation(), generation) << "the caches' session was renewed";
            EXPECT_TRUE(co_await eventually(
                [&] {
                    return stats_of(tree.current()) == server &&
                           stats_of(children.current()) == direct;
                },
                10s))
                << "the caches did not reach the server's state";
            tree.close();
            children.close();
            co_await writer.async_close(asio::use_awaitable);
            co_await s.async_close(asio::use_awaitable);
        },
        90s);
}

}  // namespace
}  // namespace zkr::test
