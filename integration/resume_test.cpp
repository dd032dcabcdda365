// Resumable sessions: a process that restarts within the session timeout joins its session again
// (session_config::resume) and takes its locks back by node path (mutex::async_adopt).
#include "tcp_proxy.hpp"
#include "test_support.hpp"

#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace zkr::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

/// The process that "dies": its session runs through a proxy that the test cuts, so the server
/// keeps the session (no close request reaches it) while the process is gone.
session_config through(const tcp_proxy& proxy) {
    return config_for(proxy.address(), 10s);
}

session_config resuming(const session& dead) {
    auto config = config_for(shared_hosts(), 10s);
    config.resume = dead.id();
    return config;
}

TEST(Resume, ANodeThisProcessHoldsCannotBeAdoptedAgain) {
    const auto dir = fresh_root() + "/lock";
    run([&](asio::io_context& ioc) -> asio::awaitable<void> {
        session s(ioc.get_executor(), config_for(shared_hosts()));
        co_await connect(s);
        mutex m(s, dir);
        auto held = co_await m.async_lock(asio::use_awaitable);
        const auto node = held.path();
        auto [ec, twice] = co_await m.async_adopt(node, tuple);
        EXPECT_EQ(ec, errc::already_held) << ec.message();
        EXPECT_FALSE(twice.owns());
        // Adopted once (the node of a handle dropped without releasing would be gone): a
        // second adoption of the adopted node is refused too.
        auto [cec, created] =
            co_await s.async_create(dir + "/_c_00000000-0000-0000-0000-000000000000-lock-",
                                    std::string(), create_mode::ephemeral_sequential, tuple);
        CO_REQUIRE(!cec);
        co_await held.async_release(asio::use_awaitable);
        auto [first_ec, adopted] = co_await m.async_adopt(created.path, tuple);
        EXPECT_FALSE(first_ec) << first_ec.message();
        EXPECT_TRUE(adopted.owns());
        auto [again_ec, again] = co_await m.async_adopt(created.path, tuple);
        EXPECT_EQ(again_ec, errc::already_held) << again_ec.message();
        EXPECT_FALSE(again.owns());
        EXPECT_TRUE(adopted.owns());
        co_await adopted.async_release(asio::use_awaitable);
        EXPECT_EQ(children_count(dir), 0u);
        // Released: the node is gone, and so is the refusal's reason.
        auto [gone, l] = co_await m.async_adopt(created.path, tuple);
        EXPECT_EQ(gone, errc::not_owner) << gone.message();
        co_await s.async_close(asio::use_awaitable);
    });
}

TEST(Resume, AHeldLockIsTakenBackWithItsTokenAfterARestart) {
    const auto dir = fresh_root() + "/lock";
    tcp_proxy proxy(shared_hosts());
    run(
        [&](asio::io_context& ioc) -> asio::awaitable<void> {
            session first(ioc.get_executor(), through(proxy));
            session other(ioc.get_executor(), config_for(shared_hosts()));
            co_await connect(first);
            co_await connect(other);
            mutex first_mutex(first, dir);  // named: no temporary in a co_await expression (g++ 12)
            auto held = co_await first_mutex.async_lock(asio::use_awaitable);
            const auto node = held.path();
            const auto token = held.fencing_token();
            bool contender_acquired = false;
            lock contender;
            mutex(other, dir).async_lock([&](error_code ec, lock l) {
                EXPECT_FALSE(ec) << ec.message();
                contender = std::move(l);
                contender_acquired = true;
            });
            CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));

            proxy.cut();  // the first process is gone; its session lives on in the server
            session second(ioc.get_executor(), resuming(first));
            co_await connect(second);
            EXPECT_EQ(second.session_id(), first.session_id());
            mutex again(second, dir);
            auto [aec, adopted] = co_await again.async_adopt(node, tuple);
            CO_REQUIRE(!aec);
            EXPECT_TRUE(adopted.owns());
            EXPECT_EQ(adopted.path(), node);
            EXPECT_EQ(adopted.fencing_token(), token);
            EXPECT_FALSE(contender_acquired) << "the lock never changed hands";
            EXPECT_EQ(children_count(dir), 2u);

            // Nodes that are not ours, or not of this mutex, are refused.
            mutex elsewhere(second, dir + "x");
            auto [wrong_dir, l1] = co_await elsewhere.async_adopt(node, tuple);
            EXPECT_EQ(wrong_dir, errc::invalid_path);
            CO_REQUIRE(!std::get<0>(co_await adopted.async_release(tuple)));
            CO_REQUIRE(co_await eventually([&] { return contender_acquired; }));
            auto [theirs, l2] = co_await again.async_adopt(contender.path(), tuple);
            EXPECT_EQ(theirs, errc::not_owner) << theirs.message();
            auto [gone, l3] = co_await again.async_adopt(node, tuple);
            EXPECT_EQ(gone, errc::not_owner) << "released: " << gone.message();
            CO_REQUIRE(!std::get<0>(co_await contender.async_release(tuple)));
            EXPECT_TRUE(co_await settled(second));
            co_await second.async_close(asio::use_awaitable);
            co_await other.async_close(asio::use_awaitable);
        },
        60s);
}

TEST(Resume, AQueuedNodeTakenBackWaitsForItsTurn) {
    const auto dir = fresh_root() + "/lock";
    tcp_proxy proxy(shared_hosts());
    run(
        [&](asio::io_context& ioc) -> asio::awaitable<void> {
            session holder_session(ioc.get_executor(), config_for(shared_hosts()));
            session first(ioc.get_executor(), through(proxy));
            co_await connect(holder_session);
            co_await connect(first);
            mutex holder_mutex(holder_session, dir);
            auto holder = co_await holder_mutex.async_lock(asio::use_awaitable);
            mutex(first, dir).async_lock([](error_code, lock) {});  // queued when the process dies
            CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 2; }));
            auto kids = list_children(shared_hosts(), dir);
            const auto holder_name = holder.path().substr(dir.size() + 1);
            const auto queued = dir + "/" + (kids[0] == holder_name ? kids[1] : kids[0]);

            proxy.cut();
            session second(ioc.get_executor(), resuming(first));
            co_await connect(second);
            bool acquired = false;
            lock adopted;
            mutex(second, dir).async_adopt(queued, [&](error_code ec, lock l) {
                EXPECT_FALSE(ec) << ec.message();
                adopted = std::move(l);
                acquired = true;
            });
            CO_REQUIRE(co_await eventually(
                [&] { return server_watches(shared_hosts(), second.session_id()) == 1u; }));
            EXPECT_FALSE(acquired) << "the holder still holds";
            CO_REQUIRE(!std::get<0>(co_await holder.async_release(tuple)));
            CO_REQUIRE(co_await eventually([&] { return acquired; }));
            EXPECT_TRUE(adopted.owns());
            EXPECT_EQ(adopted.path(), queued);
            EXPECT_GT(adopted.fencing_token(), holder.fencing_token());
            CO_REQUIRE(!std::get<0>(co_await adopted.async_release(tuple)));
            EXPECT_EQ(children_count(dir), 0u);
            co_await second.async_close(asio::use_awaitable);
            co_await holder_session.async_close(asio::use_awaitable);
        },
        60s);
}

}  // namespace
}  // namespace zkr::test
