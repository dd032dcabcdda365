// The two-phase commit with its parties in processes of their own (integration/tpc_party.cpp),
// one of them killed with SIGKILL at each step: whoever survives, and the killed participant
// started again, learns one decision, the one the decision node holds.
#include "test_support.hpp"

#include <csignal>
#include <map>

namespace zkr::test {
namespace {

/// A party (see tpc_party.cpp) on the shared server.
child_process party(const std::string& path, std::vector<std::string> args) {
    std::vector<std::string> argv{ZKR_TPC_PARTY, shared_hosts(), path};
    argv.insert(argv.end(), args.begin(), args.end());
    return child_process(argv, true);
}

/// Reads `p`'s lines until one starts with one of `prefixes`; that line, or "" if none came in
/// `limit`.
std::string line_starting(child_process& p, const std::vector<std::string>& prefixes,
                          std::chrono::milliseconds limit = 30s) {
    std::string line;
    while (p.read_line(line, limit)) {
        for (const auto& prefix : prefixes) {
            if (line.rfind(prefix, 0) == 0) {
                return line;
            }
        }
    }
    return {};
}

struct kill_point {
    std::string victim;              ///< "coordinator" or a participant's name
    std::vector<std::string> after;  ///< the line it printed last (one of)
};

TEST(TwoPhaseCommitKills, EveryoneLearnsOneDecisionWhoeverIsKilledAtAnyStep) {
    const auto path = fresh_root() + "/tx";
    const std::vector<std::string> names{"p0", "p1", "p2"};
    const std::vector<kill_point> points{{"coordinator", {"proposed"}}, {"p0", {"proposal"}},
                                         {"p0", {"voted", "too late"}}, {"p2", {"proposal"}},
                                         {"coordinator", {"decided"}},  {"p1", {"decided"}}};
    std::map<std::string, int> seen;
    for (std::size_t round = 0; round < points.size() * 2; ++round) {
        const auto& point = points[round % points.size()];
        // The second pass has p2 vote abort: the abort's paths killed at each step too.
        const std::string p2_vote = round < points.size() ? "commit" : "abort";
        const auto id = "k" + std::to_string(round);
        const auto decision_path = path + "/" + id + "/decision";
        SCOPED_TRACE("round " + id + ": " + point.victim + " killed after \"" + point.after[0] +
                     "\", p2 votes " + p2_vote);
        std::map<std::string, child_process> parties;
        for (const auto& name : names) {
            parties.emplace(name, party(path, {"participant", name,
                                               name == "p2" ? p2_vote : std::string("commit")}));
        }
        parties.emplace("coordinator", party(path, {"coordinator", id, "2000", "p0,p1,p2"}));

        // The victim, at its step. A participant may never reach it: a transaction decided
        // (aborted by p2) before it looked is not offered to it, and it has nothing to do.
        auto& victim = parties.at(point.victim);
        const bool reached = line_starting(victim, point.after, 5s) != "";
        EXPECT_TRUE(reached || point.victim != "coordinator") << victim.report();
        victim.kill(SIGKILL);
        const int status = victim.wait();
        // After its last line, it may have finished first.
        EXPECT_TRUE(status == 128 + SIGKILL || (status == 0 && point.after[0] == "decided"))
            << status;

        ASSERT_TRUE(wait_until([&] { return node_exists(shared_hosts(), decision_path); }, 20s))
            << "decided, by the coordinator or at the deadline";
        std::vector<std::string> decisions;
        int learners = 0;
        for (auto& [who, p] : parties) {
            if (who == point.victim) {
                continue;
            }
            if (who != "coordinator" && line_starting(p, {"proposal"}, 3s) == "") {
                // Decided without it: it waits for another proposal. It learns this one as a
                // participant that restarts does.
                p.kill(SIGKILL);
                ++learners;
                continue;
            }
            const auto line = line_starting(p, {"decided"});
            EXPECT_NE(line, "") << p.report();
            decisions.push_back(line);
        }
        learners += point.victim != "coordinator";
        for (int i = 0; i < learners; ++i) {
            auto restarted = party(path, {"learner", id});  // a new process, a new session
            const auto line = line_starting(restarted, {"decided"});
            EXPECT_NE(line, "") << restarted.report();
            decisions.push_back(line);
        }
        const auto decision = read_node(decision_path);
        ASSERT_TRUE(decision.has_value());
        for (const auto& d : decisions) {
            EXPECT_EQ(d, "decided " + decision->data) << "one decision for everyone";
        }
        if (p2_vote == "abort") {
            EXPECT_EQ(decision->data, "abort") << "an abort vote can only abort";
        }
        ++seen[point.victim + " killed " + (reached ? "after " + point.after[0] : "early") +
               ", p2 votes " + p2_vote + ": " + decision->data + ", " +
               std::to_string(decisions.size()) + " learned it"];
    }
    for (const auto& [what, count] : seen) {
        std::printf("[ measure  ] %s (%d)\n", what.c_str(), count);
    }
}

}  // namespace
}  // namespace zkr::test
