// Service discovery against a real server: registration, queries and names; updates and
// unregistration leaving nothing; a registration kept through a server restart and through a
// forced expiry with renewal; the cache's events; the providers' choices over time; disabled
// instances skipped; and bad input refused by name with nothing left behind.
#include "test_support.hpp"

#include <zkr/service_cache.hpp>
#include <zkr/service_discovery.hpp>
#include <zkr/service_provider.hpp>
#include <zkr/session.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <map>
#include <set>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

service_instance discovery_instance(std::string id, int port = 7000) {
    service_instance i;
    i.name = "echo";
    i.id = std::move(id);
    i.address = "127.0.0.1";
    i.port = port;
    i.payload = R"({"zone":"a"})";
    return i;
}

/// Registers `i` and fails the test if it cannot.
asio::awaitable<service_registration> register_or_fail(service_discovery& d, service_instance i) {
    auto [ec, r] = co_await d.async_register(std::move(i), tuple);
    EXPECT_FALSE(ec) << ec.message();
    co_return std::move(r);
}

std::vector<std::string> ids_of(const std::vector<service_instance>& v) {
    std::vector<std::string> out;
    for (const auto& i : v) {
        out.push_back(i.id);
    }
    return out;
}

TEST(Discovery, RegisteredInstancesAreQueriedAndNamed) {
    const auto base = fresh_root() + "/services";
    with_sessions<2>([&](session& s, session& other) -> asio::awaitable<void> {
        service_discovery d(s, base);
        service_discovery reader(other, base);
        auto [nec, none] = co_await reader.async_names(tuple);
        EXPECT_FALSE(nec);
        EXPECT_TRUE(none.empty()) << "no base path: no names";

        auto b = co_await register_or_fail(d, discovery_instance("b", 7002));
        auto chosen = co_await register_or_fail(d, discovery_instance("", 7001));
        const auto& id = chosen.instance().id;
        EXPECT_EQ(id.size(), 36u) << "a random UUID: " << id;
        EXPECT_GT(chosen.instance().registration_time_utc, 1'700'000'000'000);
        EXPECT_EQ(chosen.node_path(), base + "/echo/" + id);

        auto [qec, found] = co_await reader.async_query("echo", tuple);
        CO_REQUIRE(!qec);
        CO_REQUIRE(found.size() == 2u);
        auto expected = std::vector<std::string>{"b", id};
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(ids_of(found), expected);
        for (const auto& i : found) {
            EXPECT_EQ(i, i.id == "b" ? b.instance() : chosen.instance()) << "every field intact";
        }
        auto [iec, one] = co_await reader.async_query_instance("echo", "b", tuple);
        EXPECT_FALSE(iec);
        EXPECT_EQ(one, b.instance());
        auto [mec, missing] = co_await reader.async_query_instance("echo", "nobody", tuple);
        EXPECT_FALSE(mec);
        EXPECT_EQ(missing, std::nullopt);
        auto [uec, unknown] = co_await reader.async_query("unknown", tuple);
        EXPECT_FALSE(uec);
        EXPECT_TRUE(unknown.empty());
        auto [names_ec, names] = co_await reader.async_names(tuple);
        EXPECT_FALSE(names_ec);
        EXPECT_EQ(names, std::vector<std::string>{"echo"});
        EXPECT_EQ(list_children(shared_hosts(), base + "/echo").size(), 2u);
        auto [e1] = co_await b.async_unregister(tuple);
        auto [e2] = co_await chosen.async_unregister(tuple);
        EXPECT_FALSE(e1 || e2);
    });
}

TEST(Discovery, UpdatesAreSeenAndUnregisteringLeavesNothing) {
    const auto base = fresh_root() + "/services";
    const auto dir = base + "/echo";
    with_sessions<2>([&](session& s, session& other) -> asio::awaitable<void> {
        service_discovery d(s, base);
        service_discovery reader(other, base);
        auto r = co_await register_or_fail(d, discovery_instance("one"));
        auto changed = r.instance();
        changed.address = "10.1.2.3";
        changed.payload = R"({"zone":"b"})";
        auto [uec] = co_await r.async_update(changed, tuple);
        CO_REQUIRE(!uec);
        auto [qec, now] = co_await reader.async_query_instance("echo", "one", tuple);
        CO_REQUIRE(!qec && now.has_value());
        EXPECT_EQ(now->address, "10.1.2.3");
        EXPECT_EQ(now->payload, R"({"zone":"b"})");
        EXPECT_EQ(r.instance(), *now);

        auto renamed = r.instance();
        renamed.id = "two";
        auto [bad] = co_await r.async_update(renamed, tuple);
        EXPECT_EQ(bad, errc::invalid_argument);
        EXPECT_EQ(r.instance().id, "one") << "nothing changes";

        auto [dec] = co_await r.async_set_enabled(false, tuple);
        CO_REQUIRE(!dec);
        auto [q2, disabled] = co_await reader.async_query_instance("echo", "one", tuple);
        CO_REQUIRE(!q2 && disabled.has_value());
        EXPECT_FALSE(disabled->enabled);

        auto [unec] = co_await r.async_unregister(tuple);
        EXPECT_FALSE(unec) << unec.message();
        EXPECT_TRUE(list_children(shared_hosts(), dir).empty()) << "no node left";
        auto [again] = co_await r.async_unregister(tuple);
        EXPECT_FALSE(again) << "unregistering twice is harmless";

        // Dropping the handle unregisters too.
        {
            auto dropped = co_await register_or_fail(d, discovery_instance("dropped"));
            EXPECT_EQ(list_children(shared_hosts(), dir).size(), 1u);
        }
        CO_REQUIRE(co_await eventually([&] { return children_count(dir) == 0; }));
        EXPECT_TRUE(co_await settled(s));
    });
}

TEST(Discovery, ARegistrationOutlivesAServerRestart) {
    zk_server server;
    auto config = config_for(server.hosts(), 20000ms);
    config.renew_after_expiry = true;
    const auto base = fresh_root() + "/services";
    with_sessions(
        {config, config_for(server.hosts(), 20000ms)},
        [&](session& s, session& other) -> asio::awaitable<void> {
            service_discovery d(s, base);
            service_discovery reader(other, base);
            auto r = co_await register_or_fail(d, discovery_instance("kept"));
            server.kill(1);
            server.restart(1);
            CO_REQUIRE(co_await eventually(
                [&] {
                    return s.state() == session_state::connected &&
                           other.state() == session_state::connected;
                },
                30s));
            auto [wec] = co_await r.async_wait_registered(tuple);
            EXPECT_FALSE(wec) << wec.message();
            auto [qec, found] = co_await reader.async_query("echo", tuple);
            EXPECT_FALSE(qec) << qec.message();
            EXPECT_EQ(ids_of(found), std::vector<std::string>{"kept"});
            auto got = co_await get_node(other, base + "/echo/kept");
            CO_REQUIRE(got.has_value());
            EXPECT_EQ(got->stat.ephemeral_owner, s.session_id());
            auto [uec] = co_await r.async_unregister(tuple);
            EXPECT_FALSE(uec);
            EXPECT_TRUE(list_children(server.hosts(), base + "/echo").empty());
        },
        90s);
}

TEST(Discovery, AfterAForcedExpiryTheInstanceComesBackInTheRenewedSession) {
    const auto base = fresh_root() + "/services";
    auto renewing = config_for(shared_hosts());
    renewing.renew_after_expiry = true;
    with_sessions({renewing, config_for(shared_hosts())},
                  [&](session& s, session& other) -> asio::awaitable<void> {
                      service_discovery d(s, base);
                      service_discovery reader(other, base);
                      auto r = co_await register_or_fail(d, discovery_instance("phoenix"));
                      const auto first_id = s.session_id();
                      expire_session(s, shared_hosts());
                      CO_REQUIRE(co_await eventually([&] { return s.generation() == 2; }));
                      auto [wec] = co_await r.async_wait_registered(tuple);
                      CO_REQUIRE(!wec);
                      auto got = co_await get_node(other, base + "/echo/phoenix");
                      CO_REQUIRE(got.has_value());
                      EXPECT_NE(s.session_id(), first_id);
                      EXPECT_EQ(got->stat.ephemeral_owner, s.session_id());
                      auto [qec, found] = co_await reader.async_query("echo", tuple);
                      EXPECT_FALSE(qec);
                      CO_REQUIRE(found.size() == 1u);
                      EXPECT_EQ(found[0], r.instance());
                      auto [uec] = co_await r.async_unregister(tuple);
                      EXPECT_FALSE(uec);
                      EXPECT_TRUE(list_children(shared_hosts(), base + "/echo").empty());
                  });
}

TEST(Discovery, TheCacheReportsInstancesComingChangingAndGoing) {
    const auto base = fresh_root() + "/services";
    with_sessions<2>([&](session& s, session& other) -> asio::awaitable<void> {
        service_discovery d(s, base);
        service_discovery watcher(other, base);
        service_cache cache(watcher, "echo");
        EXPECT_EQ(cache.name(), "echo");
        auto [sec] = co_await cache.async_start(tuple);
        CO_REQUIRE(!sec);
        auto [iec, init] = co_await cache.async_wait_event(tuple);
        CO_REQUIRE(!iec);
        EXPECT_EQ(init.type, cache_event_type::initialized);
        CO_REQUIRE(cache.instances() != nullptr);
        EXPECT_TRUE(cache.instances()->empty());

        auto r = co_await register_or_fail(d, discovery_instance("x"));
        auto [aec, added] = co_await cache.async_wait_event(tuple);
        CO_REQUIRE(!aec);
        EXPECT_EQ(added.type, cache_event_type::added);
        EXPECT_EQ(added.id, "x");
        EXPECT_EQ(added.instance, r.instance());
        EXPECT_EQ(ids_of(*cache.instances()), std::vector<std::string>{"x"});

        auto changed = r.instance();
        changed.port = 7100;
        auto [uec] = co_await r.async_update(changed, tuple);
        CO_REQUIRE(!uec);
        auto [cec, updated] = co_await cache.async_wait_event(tuple);
        CO_REQUIRE(!cec);
        EXPECT_EQ(updated.type, cache_event_type::updated);
        CO_REQUIRE(updated.instance.has_value());
        EXPECT_EQ(updated.instance->port, 7100);
        EXPECT_EQ(cache.instances()->at(0).port, 7100);

        auto [rec] = co_await r.async_unregister(tuple);
        CO_REQUIRE(!rec);
        auto [gec, removed] = co_await cache.async_wait_event(tuple);
        CO_REQUIRE(!gec);
        EXPECT_EQ(removed.type, cache_event_type::removed);
        EXPECT_EQ(removed.id, "x");
        EXPECT_TRUE(removed.instance.has_value()) << "the last one held";
        EXPECT_TRUE(cache.instances()->empty());
        cache.close();
        EXPECT_TRUE(co_await settled(other)) << "the cache's watches went with it";
    });
}

TEST(Discovery, ProvidersChooseOverTimeAndSkipDisabledInstances) {
    const auto base = fresh_root() + "/services";
    with_sessions<2>([&](session& s, session& other) -> asio::awaitable<void> {
        service_discovery d(s, base);
        std::vector<service_registration> regs;
        for (const auto* id : {"a", "b", "c"}) {
            regs.push_back(co_await register_or_fail(d, discovery_instance(id)));
        }
        service_discovery watcher(other, base);
        service_cache cache(watcher, "echo");
        auto [sec] = co_await cache.async_start(tuple);
        CO_REQUIRE(!sec);
        CO_REQUIRE(cache.instances() && cache.instances()->size() == 3u);

        service_provider round_robin(cache);
        std::vector<std::string> turns;
        for (int i = 0; i < 6; ++i) {
            auto chosen = round_robin.get_instance();
            CO_REQUIRE(chosen.has_value());
            turns.push_back(chosen->id);
        }
        EXPECT_EQ(turns, (std::vector<std::string>{"a", "b", "c", "a", "b", "c"}));

        service_provider sticky(cache, {provider_strategy::sticky, {}, {}, {}});
        const auto first = sticky.get_instance();
        CO_REQUIRE(first.has_value());
        for (int i = 0; i < 5; ++i) {
            EXPECT_EQ(sticky.get_instance(), first);
        }

        service_provider random(cache, {provider_strategy::random, {}, {}, {}});
        std::set<std::string> covered;
        for (int i = 0; i < 300 && covered.size() < 3; ++i) {
            covered.insert(random.get_instance().value().id);
        }
        EXPECT_EQ(covered.size(), 3u);

        // "b" disabled by someone else (the CLI's way): every provider skips it.
        auto [dec] = co_await watcher.async_set_enabled("echo", "b", false, tuple);
        CO_REQUIRE(!dec);
        CO_REQUIRE(co_await eventually([&] { return round_robin.all_instances().size() == 2u; }));
        for (int i = 0; i < 12; ++i) {
            EXPECT_NE(round_robin.get_instance().value().id, "b");
            EXPECT_NE(random.get_instance().value().id, "b");
        }
        EXPECT_EQ(cache.instances()->size(), 3u) << "still registered";

        // The sticky one goes: it moves on, and stays.
        auto gone = std::find_if(regs.begin(), regs.end(),
                                 [&](auto& r) { return r.instance().id == first->id; });
        auto [uec] = co_await gone->async_unregister(tuple);
        CO_REQUIRE(!uec);
        CO_REQUIRE(co_await eventually([&] { return cache.instances()->size() == 2u; }));
        const auto next = sticky.get_instance();
        CO_REQUIRE(next.has_value());
        EXPECT_NE(next->id, first->id);
        EXPECT_EQ(sticky.get_instance(), next);
    });
}

TEST(Discovery, BadInputIsRefusedByNameAndLeavesNothing) {
    const auto root = fresh_root();
    const auto base = root + "/services";
    with_sessions<2>([&](session& s, session& other) -> asio::awaitable<void> {
        service_discovery d(s, base);
        auto refused = [&](service_instance i) -> asio::awaitable<error_code> {
            auto [ec, r] = co_await d.async_register(std::move(i), tuple);
            co_return ec;
        };
        auto bad_payload = discovery_instance("p");
        bad_payload.payload = R"({"zone":)";
        EXPECT_EQ(co_await refused(bad_payload), errc::invalid_service_instance);
        EXPECT_EQ(co_await refused(discovery_instance("a/b")), errc::invalid_path);
        EXPECT_EQ(co_await refused(discovery_instance("port", 70000)),
                  errc::invalid_service_instance);
        auto sequential = discovery_instance("seq");
        sequential.type = service_type::dynamic_sequential;
        EXPECT_EQ(co_await refused(sequential), errc::invalid_argument);
        EXPECT_FALSE(node_exists(shared_hosts(), base)) << "nothing sent";

        // A node of another layout under the service: named by query, left out of the cache.
        for (const auto& dir : {root, base, base + "/echo"}) {
            create_node(shared_hosts(), dir, "");
        }
        create_node(shared_hosts(), base + "/echo/foreign", "not an instance");
        auto ok = co_await register_or_fail(d, discovery_instance("ok"));
        service_discovery reader(other, base);
        auto [qec, none] = co_await reader.async_query("echo", tuple);
        EXPECT_EQ(qec, errc::path_in_use);
        EXPECT_TRUE(none.empty()) << "no partial list";
        auto [fec, foreign] = co_await reader.async_query_instance("echo", "foreign", tuple);
        EXPECT_EQ(fec, errc::path_in_use);
        auto [eec] = co_await reader.async_set_enabled("echo", "foreign", false, tuple);
        EXPECT_EQ(eec, errc::path_in_use);
        auto [nec] = co_await reader.async_set_enabled("echo", "nobody", false, tuple);
        EXPECT_EQ(nec, zk_errc::no_node);
        service_cache cache(reader, "echo");
        auto [sec] = co_await cache.async_start(tuple);
        CO_REQUIRE(!sec);
        CO_REQUIRE(cache.instances() != nullptr);
        EXPECT_EQ(ids_of(*cache.instances()), std::vector<std::string>{"ok"});
        auto got = co_await get_node(other, base + "/echo/foreign");
        CO_REQUIRE(got.has_value());
        EXPECT_EQ(got->data, "not an instance") << "never written";
        cache.close();

        // A service name whose node is another session's ephemeral: no instance can go under it.
        auto [cec, made] = co_await other.async_create(base + "/ephemeral", std::string(),
                                                       create_mode::ephemeral, tuple);
        CO_REQUIRE(!cec);
        auto under_ephemeral = discovery_instance("x");
        under_ephemeral.name = "ephemeral";
        EXPECT_EQ(co_await refused(under_ephemeral), errc::path_in_use);
        EXPECT_TRUE(node_exists(shared_hosts(), base + "/ephemeral")) << "not ours: kept";

        auto [uec] = co_await ok.async_unregister(tuple);
        EXPECT_FALSE(uec);
        EXPECT_EQ(list_children(shared_hosts(), base + "/echo"),
                  std::vector<std::string>{"foreign"});
        EXPECT_TRUE(co_await settled(s)) << "nothing of the refused registrations pending";
    });
}

}  // namespace
}  // namespace zkr::test
