// Leader election against a real server: one leader at a time across processes, failover after a
// kill, deposition before the next leader starts, observers, resign, ensemble faults, Curator.
#include "tcp_proxy.hpp"
#include "test_support.hpp"

#include <zkr/leader_election.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <fstream>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;

std::string leader_id(const std::optional<leader_info>& l) {
    return l ? l->id : "<none>";
}

TEST(Election, ThreeProcessesNeverLeadAtTheSameTime) {
    const auto dir = fresh_root() + "/election";
    record_file record;
    std::vector<child_process> participants;
    for (const char* id : {"a", "b", "c"}) {
        participants.push_back(zkr_worker(std::string("elect:") + id, dir, 15, record.path, 3));
    }
    for (auto& p : participants) {
        EXPECT_EQ(p.wait(120s), 0);
    }
    EXPECT_EQ(check_record(record.path), 45u);
    const auto tokens = tokens_in(record.path);
    EXPECT_TRUE(std::is_sorted(tokens.begin(), tokens.end()) &&
                std::adjacent_find(tokens.begin(), tokens.end()) == tokens.end());
    EXPECT_TRUE(list_children(shared_hosts(), dir).empty());
}

TEST(Election, KilledLeaderIsReplacedWithinTheSessionTimeout) {
    const auto dir = fresh_root() + "/election";
    record_file victim_record, record;
    auto victim = zkr_worker("elect:victim", dir, 1, victim_record.path, 60000, 1500);
    std::string line;
    expect_ready(victim, "victim");
    ASSERT_TRUE(victim.read_line(line, 30s) && line.rfind("holding", 0) == 0) << line;
    auto b = zkr_worker("elect:b", dir, 1, record.path, 2);
    auto c = zkr_worker("elect:c", dir, 1, record.path, 2);
    expect_ready(b, "b");
    expect_ready(c, "c");
    const auto killed_at = clock::now();
    victim.kill(SIGKILL);
    ASSERT_TRUE(wait_until([&] { return tokens_in(record.path).size() >= 1; }, 30s));
    EXPECT_LT(clock::now() - killed_at, 1500ms + 1s);
    EXPECT_EQ(b.wait(30s), 0);
    EXPECT_EQ(c.wait(30s), 0);
    EXPECT_EQ(check_record(record.path), 2u);
}

TEST(Election, DeposedLeaderIsToldBeforeTheNextOneLeads) {
    // A partitioned leader: its connection is cut, the server expires its session a session
    // timeout later and the next participant leads. The deposed leader's work must have been
    // cancelled before that moment.
    const auto dir = fresh_root() + "/election";
    tcp_proxy proxy(shared_hosts());
    with_sessions(
        {config_for(proxy.address(), 2000ms), config_for(shared_hosts(), 4000ms)},
        [&](session& a, session& b) -> asio::awaitable<void> {
            leader_election ea(a, dir, "a", election_options{loss_policy::on_expiry, false});
            leader_election eb(b, dir, "b");
            bool a_working = false;
            clock::time_point a_stopped{};
            error_code a_result = make_error_code(errc::not_connected);
            ea.async_lead(
                [&]() -> asio::awaitable<void> {
                    a_working = true;
                    try {
                        co_await pause_for(60s);
                    } catch (...) {
                        a_stopped = clock::now();
                        throw;
                    }
                },
                [&](error_code ec) { a_result = ec; });
            CO_REQUIRE(co_await eventually([&] { return a_working; }));
            leadership b_term;
            clock::time_point b_started{};
            eb.async_campaign([&](error_code, leadership l) {
                b_started = clock::now();
                b_term = std::move(l);
            });
            CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));
            proxy.cut();
            CO_REQUIRE(co_await eventually([&] { return b_term.is_leader(); }, 10s));
            CO_REQUIRE(a_stopped != clock::time_point{});
            EXPECT_LT(a_stopped, b_started) << "the old leader still worked when the new one began";
            EXPECT_EQ(a_result, errc::session_deadline);
            co_await b_term.async_resign(asio::use_awaitable);
            co_await b.async_close(asio::use_awaitable);
        });
}

TEST(Election, ObserverSeesEveryChangeInOrderAndResignHandsOverAtOnce) {
    const auto dir = fresh_root() + "/election";
    const auto candidate = config_for(shared_hosts(), 10000ms);
    with_sessions(
        {candidate, candidate, candidate, config_for(shared_hosts())},
        [&](session& a, session& b, session& c, session& watcher) -> asio::awaitable<void> {
            const std::array<session*, 3> sessions{&a, &b, &c};
            std::vector<std::unique_ptr<leader_election>> elections;
            auto next = sessions.begin();
            for (const char* id : {"a", "b", "c"}) {
                elections.push_back(std::make_unique<leader_election>(**next++, dir, id));
            }
            leader_observer observer(watcher, dir);
            auto [first_ec, first] = co_await observer.async_wait_leader_change(tuple);
            EXPECT_FALSE(first_ec);
            EXPECT_FALSE(first.has_value());  // nobody leads yet

            std::vector<leadership> terms(3);
            for (int i = 0; i < 3; ++i) {
                elections[i]->async_campaign(
                    [&, i](error_code, leadership l) { terms[i] = std::move(l); });
                CO_REQUIRE(
                    co_await eventually([&] { return children_count(dir) == std::size_t(i + 1); }));
            }
            std::vector<std::string> seen;
            for (int i = 0; i < 3; ++i) {
                auto [ec, now] = co_await observer.async_wait_leader_change(tuple);
                EXPECT_FALSE(ec);
                seen.push_back(leader_id(now));
                auto [cec, current] = co_await elections[2]->async_current_leader(tuple);
                EXPECT_EQ(leader_id(current), seen.back());
                if (i == 0) {
                    auto [pec, all] = co_await elections[0]->async_participants(tuple);
                    CO_REQUIRE(all.size() == 3u);
                    EXPECT_EQ(all[0].id, "a");
                    EXPECT_TRUE(all[0].leader);
                    EXPECT_EQ(all[2].id, "c");
                    EXPECT_FALSE(all[2].leader);
                }
                // Resign hands over at once: far sooner than any session timeout (10 s).
                const auto resigned = clock::now();
                co_await terms[i].async_resign(asio::use_awaitable);
                if (i < 2) {
                    CO_REQUIRE(co_await eventually([&] { return terms[i + 1].is_leader(); }, 2s));
                    EXPECT_LT(clock::now() - resigned, 1s);
                }
            }
            auto [lec, last] = co_await observer.async_wait_leader_change(tuple);
            EXPECT_FALSE(lec);
            seen.push_back(leader_id(last));
            EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c", "<none>"}));
            for (auto& s : sessions) {
                co_await s->async_close(asio::use_awaitable);
            }
            co_await watcher.async_close(asio::use_awaitable);
        });
}

TEST(Election, LeadRequeuesAfterLosingItsNodeAndFinishesWhenWorkReturns) {
    const auto dir = fresh_root() + "/election";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        leader_election e(s, dir, "worker");
        int starts = 0;
        bool finish = false;
        error_code result = make_error_code(errc::not_connected);
        bool done = false;
        e.async_lead(
            [&]() -> asio::awaitable<void> {
                ++starts;
                while (!finish) {
                    co_await pause_for(10ms);
                }
            },
            [&](error_code ec) {
                result = ec;
                done = true;
            });
        CO_REQUIRE(co_await eventually([&] { return starts == 1; }));
        // An operator deletes the leader's node: the work is cancelled and zkr campaigns again.
        auto nodes = list_children(shared_hosts(), dir);
        CO_REQUIRE(nodes.size() == 1u);
        delete_node(shared_hosts(), dir + "/" + nodes[0]);
        CO_REQUIRE(co_await eventually([&] { return starts == 2; }));
        finish = true;
        CO_REQUIRE(co_await eventually([&] { return done; }));
        EXPECT_FALSE(result);
        EXPECT_EQ(children_count(dir), 0u);  // resigned after the work returned
        co_await s.async_close(asio::use_awaitable);
    });
}

/// async_lead with work that ends before its first suspension: the handler must run, and the
/// leader must resign.
void lead_with_work_that_never_suspends(leader_election::work_function work, error_code expected) {
    const auto dir = fresh_root() + "/election";
    with_sessions([&](asio::io_context& ioc, session& s) -> asio::awaitable<void> {
        leader_election e(s, dir, "instant");
        asio::steady_timer limit(ioc, 10s);
        auto outcome = co_await (e.async_lead(work, tuple) || limit.async_wait(tuple));
        CO_REQUIRE(outcome.index() == 0);  // the handler ran, before the time limit
        auto [ec] = std::get<0>(outcome);
        EXPECT_EQ(ec, expected) << ec.message();
        EXPECT_EQ(children_count(dir), 0u);  // resigned
        EXPECT_TRUE(co_await settled(s));    // nothing pending, no watch left
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Election, LeadCompletesWhenTheWorkReturnsAtOnce) {
    lead_with_work_that_never_suspends([]() -> asio::awaitable<void> { co_return; }, error_code{});
}

TEST(Election, LeadCompletesWhenTheWorkThrowsBeforeSuspending) {
    lead_with_work_that_never_suspends(
        []() -> asio::awaitable<void> {
            throw std::runtime_error("the work fails at once");
            co_return;
        },
        make_error_code(errc::invalid_argument));
}

TEST(Election, LeadCompletesWhenTheWorkIsAnEmptyFunction) {
    lead_with_work_that_never_suspends({}, make_error_code(errc::invalid_argument));
}

TEST(Election, CancellingLeadEndsItAndResigns) {
    const auto dir = fresh_root() + "/election";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        leader_election e(s, dir, "cancelled");
        bool started = false;
        asio::cancellation_signal stop;
        error_code result;
        bool done = false;
        e.async_lead(
            [&]() -> asio::awaitable<void> {
                started = true;
                asio::steady_timer forever(co_await asio::this_coro::executor, 1h);
                co_await forever.async_wait(asio::use_awaitable);
            },
            asio::bind_cancellation_slot(stop.slot(), [&](error_code ec) {
                result = ec;
                done = true;
            }));
        CO_REQUIRE(co_await eventually([&] { return started; }));
        stop.emit(asio::cancellation_type::terminal);
        CO_REQUIRE(co_await eventually([&] { return done; }));
        EXPECT_EQ(result, asio::error::operation_aborted);
        EXPECT_TRUE(co_await eventually([&] { return children_count(dir) == 0u; }));
        EXPECT_TRUE(co_await settled(s));  // nothing pending, no watch left
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Election, AnObserverWaitsAgainWhileTheSameLeaderLeads) {
    // The second wait watches the leader's node while it still leads: the path g++ 12 once
    // compiled into a double free (an init-capture of a lambda inside a co_await expression).
    // Run under ASan by tools/test.sh.
    const auto dir = fresh_root() + "/election";
    with_sessions([&](session& s) -> asio::awaitable<void> {
        leader_election e(s, dir, "steady");
        auto leading = co_await e.async_campaign(asio::use_awaitable);
        leader_observer observer(s, dir);
        for (int round = 0; round < 3; ++round) {
            auto first = co_await observer.async_wait_leader_change(asio::use_awaitable);
            EXPECT_EQ(leader_id(first), "steady");
            // Nothing changes: the wait is still pending after a while, then ends on resign.
            bool done = false;
            std::optional<leader_info> next;
            observer.async_wait_leader_change([&](error_code ec, std::optional<leader_info> l) {
                EXPECT_FALSE(ec);
                next = std::move(l);
                done = true;
            });
            co_await pause_for(50ms);
            EXPECT_FALSE(done);
            co_await leading.async_resign(asio::use_awaitable);
            CO_REQUIRE(co_await eventually([&] { return done; }));
            EXPECT_EQ(leader_id(next), "<none>");
            leading = co_await e.async_campaign(asio::use_awaitable);
        }
        co_await leading.async_resign(asio::use_awaitable);
        EXPECT_TRUE(co_await settled(s));  // nothing pending, no watch left
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Election, EnsembleLeaderLossDoesNotChangeTheElectionLeader) {
    zk_server ensemble(3);
    const std::string dir = "/election";
    with_sessions(
        {config_for(ensemble.hosts(), 8000ms), config_for(ensemble.hosts(), 8000ms)},
        [&](session& a, session& b) -> asio::awaitable<void> {
            leader_election ea(a, dir, "a"), eb(b, dir, "b");
            auto term = co_await ea.async_campaign(asio::use_awaitable);
            bool b_leads = false;
            eb.async_campaign([&](error_code ec, leadership l) { b_leads = !ec && l.is_leader(); });
            co_await pause_for(100ms);
            ensemble.kill(ensemble.leader());
            // Both sessions ride out the ensemble's re-election.
            CO_REQUIRE(co_await eventually(
                [&] {
                    return a.state() == session_state::connected &&
                           b.state() == session_state::connected;
                },
                20s));
            auto [ec, now] = co_await ea.async_current_leader(tuple);
            for (int i = 0; i < 50 && is_retryable(ec); ++i) {
                co_await pause_for(100ms);
                std::tie(ec, now) = co_await ea.async_current_leader(tuple);
            }
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_EQ(leader_id(now), "a");
            EXPECT_TRUE(term.is_leader());
            EXPECT_FALSE(b_leads);
            co_await term.async_resign(asio::use_awaitable);
            CO_REQUIRE(co_await eventually([&] { return b_leads; }));
            co_await a.async_close(asio::use_awaitable);
            co_await b.async_close(asio::use_awaitable);
        },
        60s);
}

TEST(Interop, ZkrAndCuratorLeaderLatchNeverLeadTogether) {
    const auto dir = fresh_root() + "/election";
    record_file record;
    auto java = peer("curator-latch", {dir, "curator", record.path, "5", "10"});
    expect_ready(java, "Curator latch driver");
    std::vector<child_process> participants;
    for (const char* id : {"z1", "z2"}) {
        participants.push_back(zkr_worker(std::string("elect:") + id, dir, 10, record.path, 5));
    }
    EXPECT_TRUE(java.exits_cleanly(120s));
    for (auto& p : participants) {
        EXPECT_TRUE(p.exits_cleanly(120s));
    }
    EXPECT_EQ(check_record(record.path), 30u);
}

/// Who led, in order: the ID of each "lead ID PID" line of a record.
std::vector<std::string> leaders_in(const std::string& record) {
    std::ifstream in(record);
    std::vector<std::string> leaders;
    for (std::string word, id, rest; in >> word >> id && std::getline(in, rest);) {
        if (word == "lead") {
            leaders.push_back(id);
        }
    }
    return leaders;
}

TEST(Interop, CuratorLeaderLatchTakesOverWhenZkrsSessionEndsAndZkrCampaignsAgainWhenRenewed) {
    const auto dir = fresh_root() + "/election";
    record_file record;
    // Curator's view of the contenders, in queue order ("*" marks the leader): zkr leading with
    // Curator's latch queued, then Curator leading with zkr queued again in its next session.
    auto observer =
        peer("curator-coordination", {"latch-sees", dir, "zkr*,curator", "curator*,zkr"});
    auto config = config_for_peer_tests(shared_hosts());  // the test's thread reads the drivers
    config.renew_after_expiry = true;
    with_sessions_like<1>(
        config,
        [&](session& s) -> asio::awaitable<void> {
            // Leadership given up as soon as the connection drops. expire_session ends the
            // session right after cutting it off, sooner than a server's timeout would: the
            // default policy steps down only a part of the session timeout after the cut (when
            // a server could have expired the session), on_suspend at once.
            leader_election e(s, dir, "zkr", election_options{loss_policy::on_suspend, true});
            const auto pid = std::to_string(::getpid());
            // Shared with the work and the completion, which may outlive this frame when a
            // check below ends the test early.
            struct shared_state {
                std::atomic<int> terms = 0;
                std::atomic<bool> leading = false, finish = false, done = false;
                std::atomic<std::uint64_t> last_term_in = 0;
                error_code result = make_error_code(errc::not_connected);
            };
            const auto st = std::make_shared<shared_state>();
            auto& [terms, leading, finish, done, last_term_in, result] = *st;
            e.async_lead(
                [st, pid, path = record.path, &s]() -> asio::awaitable<void> {
                    EXPECT_TRUE(append_record_line(path, "lead zkr " + pid + "\n"));
                    st->last_term_in = s.generation();
                    st->leading = true;
                    ++st->terms;
                    // The term ends here, when the work returns or is cancelled.
                    struct end_of_term {
                        std::shared_ptr<shared_state> st;
                        const std::string line;
                        const std::string record;
                        ~end_of_term() {
                            st->leading = false;
                            EXPECT_TRUE(append_record_line(record, line));
                        }
                    } term{st, "unlead zkr " + pid + "\n", path};
                    while (!st->finish) {
                        co_await pause_for(10ms);
                    }
                },
                [st](error_code ec) {
                    st->result = ec;
                    st->done = true;
                });
            CO_REQUIRE(co_await eventually([&] { return terms == 1; }));
            const auto first_session = s.session_id();

            // Curator's latch queues behind zkr; it leads for 2 s once it gets there, then closes.
            auto java = peer("curator-latch", {dir, "curator", record.path, "2000", "1"});
            CO_REQUIRE(java.expect_line("ready", peer_start_limit));
            CO_REQUIRE(observer.expect_line("seen zkr*,curator", peer_start_limit));

            // zkr's session ends. A real server ends it only after the session timeout, and zkr
            // steps down before that: here, cut off, zkr must step down before the session is
            // ended for it.
            expire_session(s, shared_hosts(), [&] {
                EXPECT_TRUE(wait_until([&] { return !leading; })) << "zkr still leads, cut off";
            });
            // Curator's latch takes over, and zkr, in its next session, queues behind it: a
            // contender Curator sees, on a node of the new session.
            CO_REQUIRE(observer.expect_line("seen curator*,zkr", peer_start_limit));
            CO_REQUIRE(observer.exits_cleanly());
            auto [pec, queue] = co_await e.async_participants(tuple);
            CO_REQUIRE(!pec && queue.size() == 2U);
            EXPECT_TRUE(queue[0].id == "curator" && queue[0].leader);
            EXPECT_TRUE(queue[1].id == "zkr" && !queue[1].leader);
            auto [gec, ours] = co_await s.async_get_data(dir + "/" + queue[1].node, tuple);
            CO_REQUIRE(!gec);
            EXPECT_EQ(ours.stat.ephemeral_owner, s.session_id());
            EXPECT_NE(s.session_id(), first_session);
            EXPECT_EQ(s.generation(), 2U);

            // Curator's latch closes: zkr leads again, in the new generation.
            CO_REQUIRE(java.exits_cleanly());
            CO_REQUIRE(co_await eventually([&] { return terms == 2; }));
            EXPECT_EQ(last_term_in, 2U);
            finish = true;
            CO_REQUIRE(co_await eventually([&] { return done.load(); }));
            EXPECT_FALSE(result) << result.message();
            co_await s.async_close(asio::use_awaitable);
        },
        180s);
    // Never both at once, and in this order.
    EXPECT_EQ(check_record(record.path), 3U);
    EXPECT_EQ(leaders_in(record.path), (std::vector<std::string>{"zkr", "curator", "zkr"}));
}

}  // namespace
}  // namespace zkr::test
