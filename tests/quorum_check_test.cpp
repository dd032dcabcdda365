// What the quorum check reads from the servers: how many members their configuration lists,
// and which answers to a write went through the leader.
#include "quorum_check.hpp"

#include <gtest/gtest.h>

namespace zkr::detail {
namespace {

TEST(QuorumCheck, CountsTheMembersOfADynamicConfiguration) {
    // What a standalone ZooKeeper 3.8 server answers for /zookeeper/config.
    EXPECT_EQ(quorum_check::members_in(""), 0);
    // What a three-server ensemble answers (zk.sh's, read with kazoo), voters and an observer.
    EXPECT_EQ(quorum_check::members_in("server.1=127.0.0.1:26097:29275:participant\n"
                                       "server.2=127.0.0.1:20260:26469:participant\n"
                                       "server.3=127.0.0.1:30388:22014:participant\n"
                                       "version=0"),
              3);
    EXPECT_EQ(quorum_check::members_in("server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\n"
                                       "server.9=10.0.0.9:2888:3888:observer;0.0.0.0:2181\n"
                                       "version=100000000"),
              2);
    // A one-member ensemble (standaloneEnabled=false): its only server leads.
    EXPECT_EQ(quorum_check::members_in("server.1=10.0.0.1:2888:3888:participant;2181\n"
                                       "version=0"),
              1);
}

TEST(QuorumCheck, WritesRefusedOnTheNodesStateWentThroughTheLeaderSessionErrorsDidNot) {
    EXPECT_TRUE(quorum_check::ordered_through_leader({}));
    EXPECT_TRUE(quorum_check::ordered_through_leader(make_error_code(zk_errc::node_exists)));
    EXPECT_TRUE(quorum_check::ordered_through_leader(make_error_code(zk_errc::bad_version)));
    EXPECT_TRUE(quorum_check::ordered_through_leader(make_error_code(zk_errc::no_node)));
    EXPECT_FALSE(quorum_check::ordered_through_leader(make_error_code(zk_errc::connection_loss)));
    EXPECT_FALSE(quorum_check::ordered_through_leader(make_error_code(zk_errc::session_expired)));
    EXPECT_FALSE(quorum_check::ordered_through_leader(make_error_code(errc::session_closed)));
}

}  // namespace
}  // namespace zkr::detail
