// The queues' services (src/queue_services.hpp) over the fake session: the batching of first
// looks and the notice memory, as the real session runs them.
#include "fake_session.hpp"

#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using detail::shared_listing;

struct looked {
    error_code ec;
    std::shared_ptr<shared_listing> listing;
};

class QueueServices : public ::testing::Test {
  protected:
    QueueServices() {
        created_node ignored;
        server.apply_create("/q", {}, create_mode::persistent, 0, ignored);
        server.apply_create("/r", {}, create_mode::persistent, 0, ignored);
    }

    /// A contender's first look: a create, then the listing (as queue_acquire does).
    void contend(const std::string& dir, std::vector<looked>& out) {
        session->create(dir + "/n-", {}, create_mode::ephemeral_sequential,
                        [](error_code, created_node) {});
        session->first_look_listing(dir,
                                    [&out](error_code ec, std::shared_ptr<shared_listing> listing) {
                                        out.push_back({ec, std::move(listing)});
                                    });
    }

    std::size_t listings_of(const std::string& dir) const {
        std::size_t n = 0;
        for (const auto& r : session->requests()) {
            n += r.kind == "get_children" && r.path == dir ? 1 : 0;
        }
        return n;
    }

    asio::io_context ioc;
    fake_server server;
    std::shared_ptr<fake_session> session = std::make_shared<fake_session>(ioc, server, 0x100);
};

TEST_F(QueueServices, ALoneContenderGetsAListingOfItsOwnBehindItsCreate) {
    std::vector<looked> out;
    asio::post(ioc, [&] { contend("/q", out); });
    ioc.run();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].ec);
    ASSERT_TRUE(out[0].listing);
    EXPECT_EQ(out[0].listing->readers, 1u);
    EXPECT_EQ(out[0].listing->kids.names.size(), 1u);  // its own node: listed after the create
    ASSERT_EQ(session->requests().size(), 2u);
    EXPECT_EQ(session->requests()[0].str(), "create /q/n-");
    EXPECT_EQ(session->requests()[1].str(), "get_children /q");
    EXPECT_TRUE(session->listings_idle());
}

TEST_F(QueueServices, ABurstOfContendersCostsTwoListingsTheSecondTakenAfterEveryCreate) {
    std::vector<looked> out;
    asio::post(ioc, [&] {
        for (int i = 0; i < 5; ++i) {
            contend("/q", out);
        }
    });
    ioc.run();
    ASSERT_EQ(out.size(), 5u);
    EXPECT_EQ(listings_of("/q"), 2u);
    // The first alone, with its own node; the four others share one with all five nodes.
    EXPECT_EQ(out[0].listing->readers, 1u);
    EXPECT_EQ(out[0].listing->kids.names.size(), 1u);
    for (std::size_t i = 1; i < out.size(); ++i) {
        EXPECT_FALSE(out[i].ec);
        EXPECT_EQ(out[i].listing, out[1].listing) << i;
    }
    EXPECT_EQ(out[1].listing->readers, 4u);
    EXPECT_EQ(out[1].listing->kids.names.size(), 5u);
    // The shared listing went out after the last create.
    EXPECT_EQ(session->requests().back().str(), "get_children /q");
    EXPECT_TRUE(session->listings_idle());
}

TEST_F(QueueServices, DirectoriesAreBatchedApart) {
    std::vector<looked> out;
    asio::post(ioc, [&] {
        contend("/q", out);
        contend("/r", out);
        contend("/q", out);
    });
    ioc.run();
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(listings_of("/q"), 2u);
    EXPECT_EQ(listings_of("/r"), 1u);
    for (const auto& o : out) {
        EXPECT_EQ(o.listing->readers, 1u);
    }
}

TEST_F(QueueServices, AFailedListingReachesEverySharer) {
    std::vector<looked> out;
    asio::post(ioc, [&] {
        contend("/q", out);
        server.apply_remove("/r", -1);  // the directory is gone: the listing fails
        for (int i = 0; i < 3; ++i) {
            session->first_look_listing(
                "/r", [&out](error_code ec, std::shared_ptr<shared_listing> listing) {
                    out.push_back({ec, std::move(listing)});
                });
        }
    });
    ioc.run();
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(listings_of("/r"), 2u);
    for (std::size_t i = 1; i < out.size(); ++i) {
        EXPECT_EQ(out[i].ec, zk_errc::no_node) << i;
    }
    EXPECT_TRUE(session->listings_idle());
}

TEST_F(QueueServices, AListingKeepsItsSessionAlive) {
    std::vector<looked> out;
    std::weak_ptr<fake_session> weak = session;
    asio::post(ioc, [&] {
        contend("/q", out);
        contend("/q", out);
        session.reset();  // the batcher's listings still run: they own the session
    });
    ioc.run();
    EXPECT_EQ(out.size(), 2u);
    EXPECT_TRUE(weak.expired());  // and let it go once answered
}

TEST(NoticeMemory, SaysFirstOncePerNameInADirectory) {
    detail::notice_memory notices;
    EXPECT_TRUE(notices.first_notice("/q", "a"));
    EXPECT_FALSE(notices.first_notice("/q", "a"));
    EXPECT_TRUE(notices.first_notice("/r", "a"));
    EXPECT_TRUE(notices.first_notice("/q", "b"));
}

TEST(NoticeMemory, StopsSayingFirstWhenFull) {
    detail::notice_memory notices(2);
    EXPECT_TRUE(notices.first_notice("/q", "a"));
    EXPECT_TRUE(notices.first_notice("/q", "b"));
    EXPECT_FALSE(notices.first_notice("/q", "c"));  // never noticed, but no room to remember it
    EXPECT_FALSE(notices.first_notice("/q", "a"));
}

}  // namespace
}  // namespace zkr::test
