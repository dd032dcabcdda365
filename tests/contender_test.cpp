// The queue rules, without a server: naming schemes, order, who blocks whom, what to watch.
#include "contender.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <set>

namespace zkr::detail {
namespace {

TEST(ParseContender, RecognisesEveryScheme) {
    struct sample {
        const char* name;
        std::int64_t sequence;
        contender_kind kind;
    };
    const sample samples[] = {
        {"_c_3c1b8cbd-5414-40bd-b35a-a2c8614f10c6-lock-0000000007", 7, contender_kind::exclusive},
        {"_c_3c1b8cbd-5414-40bd-b35a-a2c8614f10c6-latch-0000000017", 17, contender_kind::exclusive},
        {"_c_3c1b8cbd-5414-40bd-b35a-a2c8614f10c6-__WRIT__0000000002", 2,
         contender_kind::exclusive},
        {"_c_3c1b8cbd-5414-40bd-b35a-a2c8614f10c6-__READ__0000000003", 3, contender_kind::shared},
        {"c327e948eff549529b5da084314cef2f__lock__0000000004", 4, contender_kind::exclusive},
        {"c327e948eff549529b5da084314cef2f__rlock__0000000005", 5, contender_kind::shared},
        {"30b662d1897b4efaaed35de34831bcb0-lock-0000000001", 1, contender_kind::exclusive},
    };
    for (const auto& s : samples) {
        auto c = parse_contender(s.name);
        ASSERT_TRUE(c) << s.name;
        EXPECT_EQ(c->sequence, s.sequence) << s.name;
        EXPECT_EQ(c->kind, s.kind) << s.name;
        EXPECT_EQ(c->name, s.name);
    }
}

TEST(ParseContender, KindsAreTheOnesTheNamesTableDocuments) {
    // queue_entry::kind promises names::kinds::all: every scheme gives one of them, and each of
    // them is given by some scheme.
    for (const auto& scheme : names::queue_schemes) {
        EXPECT_NE(std::ranges::find(names::kinds::all, scheme.kind), names::kinds::all.end())
            << scheme.marker;
        auto c = parse_contender("_c_x" + std::string(scheme.marker) + "0000000001");
        ASSERT_TRUE(c) << scheme.marker;
        EXPECT_EQ(c->role, scheme.kind);
    }
    for (const auto kind : names::kinds::all) {
        EXPECT_TRUE(std::ranges::any_of(names::queue_schemes, [&](const auto& scheme) {
            return scheme.kind == kind;
        })) << kind;
    }
}

TEST(ParseContender, RejectsForeignAndMalformedNames) {
    for (const char* name :
         {"", "lock", "config", "_c_x-lock-", "_c_x-lock-12a", "x__lock__",
          "_c_x-lock-0000000001-extra", "leader", "-lock-+1", "_c_x-lock-1234567890123456789012"}) {
        EXPECT_FALSE(parse_contender(name)) << name;
    }
}

TEST(SortedContenders, OrdersBySequenceAcrossSchemesAndReportsUnknown) {
    std::vector<std::string> unknown;
    const auto queue = sorted_contenders({"_c_b-lock-0000000010", "k__lock__0000000002", "junk",
                                          "_c_a-lock-0000000003", "k__rlock__0000000001"},
                                         &unknown);
    ASSERT_EQ(queue.size(), 4u);
    EXPECT_EQ(queue[0].name, "k__rlock__0000000001");
    EXPECT_EQ(queue[1].name, "k__lock__0000000002");
    EXPECT_EQ(queue[2].name, "_c_a-lock-0000000003");
    EXPECT_EQ(queue[3].name, "_c_b-lock-0000000010");
    EXPECT_EQ(unknown, std::vector<std::string>{"junk"});
}

TEST(SortedContenders, ComparesSequencesAsNumbersNotText) {
    const auto queue = sorted_contenders({"_c_a-lock-10", "_c_b-lock-9"});
    ASSERT_EQ(queue.size(), 2u);
    EXPECT_EQ(queue[0].name, "_c_b-lock-9");
}

/// A listing as the server returns it: in no particular order.
std::vector<std::string> listing(std::initializer_list<const char*> names) {
    std::vector<std::string> out(names.begin(), names.end());
    std::reverse(out.begin(), out.end());
    return out;
}

TEST(Evaluate, HeadAcquires) {
    const auto v = evaluate(listing({"_c_a-lock-01", "_c_b-lock-02"}), "_c_a-lock-01");
    EXPECT_TRUE(v.found);
    EXPECT_TRUE(v.acquired);
    EXPECT_EQ(v.position, 0u);
    EXPECT_TRUE(v.watch.empty());
}

TEST(Evaluate, ExclusiveWatchesImmediatePredecessorOnly) {
    const auto q = listing({"_c_a-lock-01", "_c_b-lock-02", "_c_c-lock-03", "_c_d-lock-04"});
    const auto v = evaluate(q, "_c_d-lock-04");
    EXPECT_FALSE(v.acquired);
    EXPECT_EQ(v.watch, "_c_c-lock-03");
    EXPECT_EQ(v.blockers, 3u);
    EXPECT_FALSE(v.watch_is_last_blocker);
}

TEST(Evaluate, NoHerdEveryWaiterWatchesADifferentNode) {
    const auto q =
        listing({"_c_a-lock-01", "_c_b-lock-02", "_c_c-lock-03", "_c_d-lock-04", "_c_e-lock-05"});
    std::set<std::string> watched;
    for (const auto& name : q) {
        if (auto w = evaluate(q, name).watch; !w.empty()) {
            watched.insert(w);
        }
    }
    EXPECT_EQ(watched.size(), q.size() - 1);
}

TEST(Evaluate, SecondInLineGetsFastHandOff) {
    const auto v = evaluate(listing({"_c_a-lock-01", "_c_b-lock-02"}), "_c_b-lock-02");
    EXPECT_EQ(v.watch, "_c_a-lock-01");
    EXPECT_TRUE(v.watch_is_last_blocker);
}

TEST(Evaluate, KazooNodeBlocksOurMutex) {
    const auto v = evaluate(listing({"f00__lock__0000000001", "_c_b-lock-0000000002"}),
                            "_c_b-lock-0000000002");
    EXPECT_FALSE(v.acquired);
    EXPECT_EQ(v.watch, "f00__lock__0000000001");
}

TEST(Evaluate, ReadersShareAndWatchNearestLowerWriter) {
    const auto q = listing({"_c_a-__READ__01", "_c_b-__WRIT__02", "_c_c-__READ__03",
                            "_c_d-__WRIT__04", "_c_e-__READ__05", "_c_f-__READ__06"});
    EXPECT_TRUE(evaluate(q, "_c_a-__READ__01").acquired);
    const auto reader = evaluate(q, "_c_f-__READ__06");
    EXPECT_FALSE(reader.acquired);
    EXPECT_EQ(reader.watch, "_c_d-__WRIT__04");  // not the first writer: no small herd
    EXPECT_EQ(reader.blockers, 2u);
    const auto writer = evaluate(q, "_c_d-__WRIT__04");
    EXPECT_EQ(writer.watch, "_c_c-__READ__03");  // a writer waits for everyone before it
}

TEST(Evaluate, ReaderBehindReadersOnlyNeverWaits) {
    const auto q = listing({"_c_a-__READ__01", "x__rlock__02", "_c_c-__READ__03"});
    EXPECT_TRUE(evaluate(q, "_c_c-__READ__03").acquired);
}

TEST(Holders, AgreesWithEvaluateForEveryContender) {
    const auto names = listing(
        {"_c_a-__READ__01", "x__rlock__02", "_c_b-__WRIT__03", "_c_c-__READ__04", "_c_d-lock-05"});
    const auto q = sorted_contenders(names);
    const auto h = holders(q);
    ASSERT_EQ(h.size(), q.size());
    for (std::size_t i = 0; i < q.size(); ++i) {
        const auto v = evaluate(names, q[i].name);
        EXPECT_EQ(h[i], v.acquired) << q[i].name;
        EXPECT_EQ(v.position, i) << q[i].name;
    }
    EXPECT_EQ(h, (std::vector<bool>{true, true, false, false, false}));
    EXPECT_EQ(q[2].role, "write");
    EXPECT_EQ(q[1].role, "read");
}

TEST(QueueIndex, AnswersAsEvaluateDoesForEveryNameOfRandomListings) {
    std::mt19937 rng(12345);
    const char* schemes[] = {"_c_%s-lock-", "_c_%s-__READ__", "_c_%s-__WRIT__", "_c_%s-latch-",
                             "%s__lock__",  "%s__rlock__",    "stray-%s-"};
    for (int round = 0; round < 200; ++round) {
        std::vector<std::string> names;
        const int n = static_cast<int>(rng() % 40);
        for (int i = 0; i < n; ++i) {
            char head[64];
            std::snprintf(head, sizeof head, schemes[rng() % 7], std::to_string(rng()).c_str());
            char seq[16];
            std::snprintf(seq, sizeof seq, "%010u", static_cast<unsigned>(rng() % 30));
            names.push_back(std::string(head) + seq);
        }
        std::vector<std::string> unknown_once;
        const queue_index index(names, &unknown_once);
        std::vector<std::string> unknown;
        for (const auto& own : names) {
            unknown.clear();
            const auto a = evaluate(names, own, &unknown);
            const auto b = index.view_of(own);
            EXPECT_EQ(a.found, b.found) << own;
            EXPECT_EQ(a.acquired, b.acquired) << own;
            EXPECT_EQ(a.blockers, b.blockers) << own;
            EXPECT_EQ(a.position, b.position) << own;
            EXPECT_EQ(a.watch, b.watch) << own;
            EXPECT_EQ(a.watch_is_last_blocker, b.watch_is_last_blocker) << own;
        }
        EXPECT_EQ(unknown_once.size(), names.size() - index.size());
        EXPECT_FALSE(index.view_of("_c_nobody-lock-0000000099").found);
    }
}

TEST(Evaluate, MissingOwnNodeIsReported) {
    const auto v = evaluate(listing({"_c_a-lock-01"}), "_c_z-lock-09");
    EXPECT_FALSE(v.found);
    EXPECT_FALSE(v.acquired);
}

TEST(Uuid, HasVersion4FormAndIsUnique) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        const auto u = make_uuid();
        ASSERT_EQ(u.size(), 36u);
        EXPECT_EQ(u[14], '4');
        EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b') << u;
        seen.insert(u);
    }
    EXPECT_EQ(seen.size(), 1000u);
    EXPECT_EQ(protected_prefix("u", "-lock-"), "_c_u-lock-");
}

}  // namespace
}  // namespace zkr::detail
