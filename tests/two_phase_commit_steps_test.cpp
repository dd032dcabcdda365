// The two-phase commit step by step, with every fault at every request (recipe_steps.hpp), and
// its byte layout. A case that succeeds checks the tree the fake holds afterwards: a proposal
// whole, a vote cast once, one decision, the decision a lost answer resolved by reading it back.
#include "recipe_steps.hpp"

#include "access.hpp"
#include "transaction_record.hpp"

#include <zkr/two_phase_commit.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using detail::access;
using detail::session_ptr;

const std::string tx_dir = "/app/tx";
const std::string tx_node = "/app/tx/t1";

two_phase_commit a_commit(session_ptr s) {
    return access::construct<two_phase_commit>(std::move(s), tx_dir);
}

transaction a_transaction(std::chrono::system_clock::time_point deadline) {
    return {"t1",
            "pay 10",
            {"a", "b"},
            std::chrono::time_point_cast<std::chrono::milliseconds>(deadline)};
}
const auto later = std::chrono::system_clock::now() + 1h;
const auto earlier = std::chrono::system_clock::now() - 1h;

/// The fake's tree, for the checks after a case: set by the case's setup.
using tree = std::shared_ptr<fake_server*>;

/// The world of a case: /app/tx/t1 proposed to a and b with `deadline`, the votes cast so far
/// (participant, word), and the decision if any.
struct world {
    std::chrono::system_clock::time_point deadline = later;
    std::vector<std::pair<std::string, std::string>> votes;
    std::string decision;  ///< empty: undecided
};

std::function<void(fake_server&)> with(tree t, std::optional<world> w) {
    return [t, w](fake_server& s) {
        *t = &s;
        created_node ignored;
        s.apply_create("/app", {}, create_mode::persistent, 0, ignored);
        s.apply_create(tx_dir, {}, create_mode::persistent, 0, ignored);
        if (!w) {
            return;
        }
        const auto data = detail::encode_transaction(a_transaction(w->deadline));
        s.apply_create(tx_node, data, create_mode::persistent, 0, ignored);
        for (const auto* name : {"a", "b"}) {
            s.apply_create(tx_node + "/vote-" + name, {}, create_mode::persistent, 0, ignored);
        }
        zkr::stat st;
        for (const auto& [name, word] : w->votes) {
            s.apply_set(tx_node + "/vote-" + name, word, 0, st);
        }
        if (!w->decision.empty()) {
            s.apply_set(tx_node, data, 0, st);
            s.apply_create(tx_node + "/decision", w->decision, create_mode::persistent, 0, ignored);
        }
    };
}

/// A node's data in the fake's tree ("<none>" if it does not exist).
std::string data_of(const tree& t, const std::string& path) {
    const auto it = (*t)->nodes.find(path);
    return it == (*t)->nodes.end() ? "<none>" : it->second.data;
}

/// A case whose operation reports an error and, on success, a check of the tree that fails the
/// case (data_inconsistency) when it says no.
using finished = std::function<void(error_code, std::function<bool()>)>;

template <class Op>
recipe_case tpc_case(std::string name, std::function<void(fake_server&)> setup,
                     std::vector<std::string> script, Op op) {
    recipe_case c;
    c.name = std::move(name);
    c.setup = std::move(setup);
    c.script = std::move(script);
    // Another client deleting a vote (or the transaction) under us: the transaction is gone.
    c.conflict_errors = {make_error_code(errc::unknown_transaction)};
    c.start = [op](session_ptr s, asio::cancellation_slot slot,
                   std::function<void(step_outcome)> done) {
        op(s, slot, [done](error_code ec, std::function<bool()> holds_up) {
            if (!ec && !holds_up()) {
                ec = make_error_code(zk_errc::data_inconsistency);
            }
            done({ec, false, {}});
        });
    };
    return c;
}

TEST(TransactionLayout, ByteByByte) {
    transaction t{"t1", "xy", {"a", "bc"}, std::chrono::system_clock::time_point(1234ms)};
    const auto data = detail::encode_transaction(t);
    EXPECT_EQ(data, std::string("ZTX\x01"
                                "\0\0\0\0\0\0\x04\xd2"  // 1234 ms
                                "\0\0\0\x02"            // two participants
                                "\0\x01"
                                "a"
                                "\0\x02"
                                "bc"
                                "xy",
                                4 + 8 + 4 + 3 + 4 + 2));
    transaction back;
    back.id = "t1";
    ASSERT_FALSE(detail::decode_transaction(data, back));
    EXPECT_EQ(back.id, "t1");
    EXPECT_EQ(back.proposal, "xy");
    EXPECT_EQ(back.participants, t.participants);
    EXPECT_EQ(back.deadline, t.deadline);
}

TEST(TransactionLayout, AnythingElseIsNotATransaction) {
    const auto good =
        detail::encode_transaction({"t1", "", {"a"}, std::chrono::system_clock::time_point(1ms)});
    transaction out;
    EXPECT_FALSE(detail::decode_transaction(good, out));
    for (const std::string& bad :
         {std::string(), std::string("commit"), good.substr(0, good.size() - 1),
          "ZTX\x02" + good.substr(4),                       // another layout version
          good.substr(0, 12) + std::string("\0\0\0\0", 4),  // no participant
          good.substr(0, 12) + std::string("\0\0\0\x02\0\x01"
                                           "a\0\x01"
                                           "a",
                                           11),                      // a name twice
          good.substr(0, 12) + std::string("\0\0\0\x01\0\x01/", 7),  // not a node name
          good.substr(0, 12) + std::string("\0\0\0\x01\0\x09"
                                           "a",
                                           7)}) {  // past the end
        EXPECT_EQ(detail::decode_transaction(bad, out), errc::not_a_transaction)
            << testing::PrintToString(bad);
    }
}

TEST(TransactionLayout, ParticipantsAProposalMayName) {
    EXPECT_FALSE(detail::check_participants({"a", "b"}));
    EXPECT_EQ(detail::check_participants({}), errc::invalid_argument);
    EXPECT_EQ(detail::check_participants({"a", "a"}), errc::invalid_argument);
    EXPECT_EQ(detail::check_participants({"a/b"}), errc::invalid_path);
    EXPECT_EQ(detail::check_participants({""}), errc::invalid_path);
    EXPECT_EQ(detail::check_participants({std::string(70000, 'x')}), errc::invalid_path);
}

TEST(TwoPhaseCommitSteps, ProposeCreatesTheTransactionWhole) {
    auto t = std::make_shared<fake_server*>();
    check_every_step(tpc_case(
        "proposing t1 where /app/tx does not exist", [t](fake_server& s) { *t = &s; },
        {"multi /app/tx/t1", "create /app", "create /app/tx", "multi /app/tx/t1"},
        [t](session_ptr s, asio::cancellation_slot slot, finished f) {
            a_commit(s).async_propose(
                "t1", "pay 10", {"a", "b"}, 1h,
                asio::bind_cancellation_slot(slot, [t, f](error_code ec, std::string id) {
                    f(ec, [t, id] {
                        transaction read;
                        return id == "t1" &&
                               !detail::decode_transaction(data_of(t, tx_node), read) &&
                               read.proposal == "pay 10" &&
                               data_of(t, tx_node + "/vote-a").empty() &&
                               data_of(t, tx_node + "/vote-b").empty();
                    });
                }));
        }));
}

TEST(TwoPhaseCommitSteps, VoteCommit) {
    auto t = std::make_shared<fake_server*>();
    check_every_step(tpc_case(
        "a votes commit", with(t, world{}), {"get_data /app/tx/t1", "multi /app/tx/t1"},
        [t](session_ptr s, asio::cancellation_slot slot, finished f) {
            a_commit(s).async_vote("t1", "a", transaction_vote::commit,
                                   asio::bind_cancellation_slot(slot, [t, f](error_code ec) {
                                       f(ec, [t] {
                                           return data_of(t, tx_node + "/vote-a") == "commit" &&
                                                  (*t)->nodes[tx_node + "/vote-a"].stat.version ==
                                                      1;
                                       });
                                   }));
        }));
}

TEST(TwoPhaseCommitSteps, VoteAbortDecidesAbort) {
    auto t = std::make_shared<fake_server*>();
    check_every_step(tpc_case("b votes abort", with(t, world{later, {{"a", "commit"}}, ""}),
                              {"get_data /app/tx/t1", "multi /app/tx/t1"},
                              [t](session_ptr s, asio::cancellation_slot slot, finished f) {
                                  a_commit(s).async_vote(
                                      "t1", "b", transaction_vote::abort,
                                      asio::bind_cancellation_slot(slot, [t, f](error_code ec) {
                                          f(ec, [t] {
                                              return data_of(t, tx_node + "/vote-b") == "abort" &&
                                                     data_of(t, tx_node + "/decision") == "abort";
                                          });
                                      }));
                              }));
}

/// A decision the caller reports: `expected` must be it, and the decision node must say it.
void check_decision(tree t, transaction_outcome expected, finished f, error_code ec,
                    transaction_outcome got) {
    f(ec, [t, expected, got] {
        return got == expected && data_of(t, tx_node + "/decision") == detail::word_of(expected);
    });
}

TEST(TwoPhaseCommitSteps, DecideCommitOnceEveryVoteSaysCommit) {
    auto t = std::make_shared<fake_server*>();
    check_every_step(tpc_case(
        "deciding with both votes commit",
        with(t, world{later, {{"a", "commit"}, {"b", "commit"}}, ""}),
        {"get_data /app/tx/t1", "watch_exists /app/tx/t1/decision", "get_data /app/tx/t1/vote-a",
         "get_data /app/tx/t1/vote-b", "multi /app/tx/t1/vote-a"},
        [t](session_ptr s, asio::cancellation_slot slot, finished f) {
            a_commit(s).async_decide(
                "t1",
                asio::bind_cancellation_slot(slot, [t, f](error_code ec, transaction_outcome o) {
                    check_decision(t, transaction_outcome::commit, f, ec, o);
                }));
        }));
}

TEST(TwoPhaseCommitSteps, DecideAbortAtTheDeadline) {
    auto t = std::make_shared<fake_server*>();
    check_every_step(tpc_case(
        "deciding past the deadline, b's vote missing",
        with(t, world{earlier, {{"a", "commit"}}, ""}),
        {"get_data /app/tx/t1", "watch_exists /app/tx/t1/decision", "get_data /app/tx/t1/vote-a",
         "get_data /app/tx/t1/vote-b", "watch_data /app/tx/t1/vote-b", "multi /app/tx/t1"},
        [t](session_ptr s, asio::cancellation_slot slot, finished f) {
            a_commit(s).async_decide(
                "t1",
                asio::bind_cancellation_slot(slot, [t, f](error_code ec, transaction_outcome o) {
                    check_decision(t, transaction_outcome::abort, f, ec, o);
                }));
        }));
}

TEST(TwoPhaseCommitSteps, AParticipantAbortsPastTheDeadline) {
    auto t = std::make_shared<fake_server*>();
    check_every_step(tpc_case(
        "a waits for the decision past the deadline",
        with(t, world{earlier, {{"a", "commit"}}, ""}),
        {"get_data /app/tx/t1", "watch_exists /app/tx/t1/decision", "multi /app/tx/t1"},
        [t](session_ptr s, asio::cancellation_slot slot, finished f) {
            a_commit(s).async_wait_decision(
                "t1",
                asio::bind_cancellation_slot(slot, [t, f](error_code ec, transaction_outcome o) {
                    check_decision(t, transaction_outcome::abort, f, ec, o);
                }));
        }));
}

TEST(TwoPhaseCommitSteps, AParticipantLearnsTheDecision) {
    auto t = std::make_shared<fake_server*>();
    auto c = tpc_case(
        "a waits for a decision made",
        with(t, world{earlier, {{"a", "commit"}, {"b", "commit"}}, "commit"}),
        {"get_data /app/tx/t1", "watch_exists /app/tx/t1/decision", "get_data /app/tx/t1/decision"},
        [t](session_ptr s, asio::cancellation_slot slot, finished f) {
            a_commit(s).async_wait_decision(
                "t1",
                asio::bind_cancellation_slot(slot, [t, f](error_code ec, transaction_outcome o) {
                    check_decision(t, transaction_outcome::commit, f, ec, o);
                }));
        });
    // Another client deleting the decision read is a removal under way: the transaction's
    // version says decided, but no decision stands.
    c.conflict_errors.push_back(make_error_code(errc::not_a_transaction));
    check_every_step(c);
}

TEST(TwoPhaseCommitSteps, WaitProposalFindsOneNamingUs) {
    auto t = std::make_shared<fake_server*>();
    check_every_step(tpc_case(
        "b looks for a proposal, two naming it",
        [t](fake_server& s) {
            with(t, world{later, {{"a", "commit"}}, ""})(s);
            // A later one, t2, to b and c: b's vote in t1 deleted by another client, it is t2.
            created_node ignored;
            auto t2 = a_transaction(later);
            t2.participants = {"b", "c"};
            s.apply_create("/app/tx/t2", detail::encode_transaction(t2), create_mode::persistent, 0,
                           ignored);
            s.apply_create("/app/tx/t2/vote-b", {}, create_mode::persistent, 0, ignored);
        },
        {"watch_children /app/tx", "get_data /app/tx/t1/vote-b", "get_data /app/tx/t2/vote-b",
         "get_data /app/tx/t1"},
        [](session_ptr s, asio::cancellation_slot slot, finished f) {
            a_commit(s).async_wait_proposal(
                "b", asio::bind_cancellation_slot(slot, [f](error_code ec, transaction tx) {
                    f(ec,
                      [tx] { return (tx.id == "t1" || tx.id == "t2") && tx.proposal == "pay 10"; });
                }));
        }));
}

TEST(TwoPhaseCommitSteps, OutcomeOfADecidedTransaction) {
    auto t = std::make_shared<fake_server*>();
    auto c = tpc_case(
        "reading the outcome", with(t, world{later, {{"a", "abort"}}, "abort"}),
        {"get_data /app/tx/t1", "get_data /app/tx/t1/decision"},
        [](session_ptr s, asio::cancellation_slot slot, finished f) {
            a_commit(s).async_outcome(
                "t1", asio::bind_cancellation_slot(slot, [f](error_code ec, transaction_outcome o) {
                    // A decision deleted by another client reads as pending.
                    f(ec, [o] { return o != transaction_outcome::commit; });
                }));
        });
    check_every_step(c);
}

TEST(TwoPhaseCommitSteps, RemoveADecidedTransaction) {
    auto t = std::make_shared<fake_server*>();
    auto c =
        tpc_case("removing t1", with(t, world{later, {{"a", "abort"}}, "abort"}),
                 {"get_data /app/tx/t1", "get_data /app/tx/t1/decision", "multi /app/tx/t1/vote-a"},
                 [t](session_ptr s, asio::cancellation_slot slot, finished f) {
                     a_commit(s).async_remove(
                         "t1", asio::bind_cancellation_slot(slot, [t, f](error_code ec) {
                             f(ec, [t] { return !(*t)->exists(tx_node) && (*t)->exists(tx_dir); });
                         }));
                 });
    // The decision deleted by another client: it reads as undecided.
    c.conflict_errors.push_back(make_error_code(errc::not_decided));
    check_every_step(c);
}

}  // namespace
}  // namespace zkr::test
