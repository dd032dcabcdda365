// The quorum check (src/quorum_check.hpp) over the fake session: whether a hold makes it send a
// sync, according to what the servers' configuration lists. No server; the session timeout is
// long enough that no periodic sync falls inside a test.
#include "fake_session.hpp"
#include "quorum_check.hpp"

#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class QuorumCheckSteps : public ::testing::Test {
  protected:
    /// A check whose configuration reads answer `config` (posted, as a server's answer).
    void make_check(std::string config) {
        check = std::make_unique<detail::quorum_check>(
            *session, [] { return std::chrono::milliseconds(10s); }, [this] { ++unreachable; },
            [this, config](bool watch, detail::handler<void(error_code, node_data, zkr::watch)> h) {
                ++config_reads;
                watched_reads += watch ? 1 : 0;
                asio::post(ioc, [h = std::move(h), config]() mutable {
                    std::move(h)(error_code{}, node_data{config, {}}, zkr::watch());
                });
            });
    }

    std::size_t syncs() const {
        std::size_t n = 0;
        for (const auto& r : session->requests()) {
            n += r.kind == "sync" ? 1 : 0;
        }
        return n;
    }

    /// Runs `f` on the driver, then everything it leads to (the check's timer aside).
    template <class F>
    void on_driver(F f) {
        asio::post(ioc, f);
        ioc.run_for(100ms);
        ioc.restart();
    }

    void TearDown() override {
        on_driver([this] { check->stop(); });
    }

    asio::io_context ioc;
    fake_server server;
    std::shared_ptr<fake_session> session = std::make_shared<fake_session>(ioc, server, 0x100);
    std::unique_ptr<detail::quorum_check> check;
    int unreachable = 0;
    int config_reads = 0;
    int watched_reads = 0;
};

TEST_F(QuorumCheckSteps, NothingIsSentWithoutAHold) {
    make_check("server.1=a:1:2:participant\nserver.2=b:1:2:participant\n");
    on_driver([this] { check->confirmed_now(); });
    EXPECT_EQ(config_reads, 0);
    EXPECT_EQ(syncs(), 0u);
}

TEST_F(QuorumCheckSteps, AnEnsembleIsCheckedAtOnceAndItsConfigurationWatched) {
    make_check("server.1=a:1:2:participant\nserver.2=b:1:2:participant\nversion=0");
    on_driver([this] { check->hold_began(); });
    EXPECT_EQ(syncs(), 1u);  // sent at the first hold: no answer through the leader yet
    EXPECT_EQ(config_reads, 2);
    EXPECT_EQ(watched_reads, 1);  // an ensemble's configuration can change: read again, watched
    EXPECT_EQ(unreachable, 0);
    // A second hold while the first lasts sends nothing more (the sync was just answered).
    on_driver([this] { check->hold_began(); });
    EXPECT_EQ(syncs(), 1u);
    check->hold_ended();
    check->hold_ended();
}

TEST_F(QuorumCheckSteps, AStandaloneServerIsNotChecked) {
    make_check("");  // what a standalone ZooKeeper 3.8 answers
    on_driver([this] { check->hold_began(); });
    EXPECT_EQ(config_reads, 1);  // read once, never watched
    EXPECT_EQ(watched_reads, 0);
    EXPECT_EQ(syncs(), 0u);
    check->hold_ended();
}

TEST_F(QuorumCheckSteps, AOneMemberEnsembleIsNotChecked) {
    make_check("server.1=a:1:2:participant;2181\nversion=0");
    on_driver([this] { check->hold_began(); });
    EXPECT_EQ(syncs(), 0u);
    EXPECT_EQ(watched_reads, 1);  // a reconfig could grow it
    check->hold_ended();
}

}  // namespace
}  // namespace zkr::test
