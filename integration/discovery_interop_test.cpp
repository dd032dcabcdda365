// zkr's service discovery and Curator's (curator-x-discovery 5.4) on one base path, both ways:
// an instance either library registers is read by the other with every field as written.
//
// What Curator 5.4 writes (observed; integration/peers/README.md, "Service discovery"): the
// fields name, id, address, port, sslPort, payload, registrationTimeUTC, serviceType and uriSpec,
// no "enabled" (its default serializer writes the pre-CURATOR-275 format), the payload with its
// Java class in "@class", and uriSpec as its parts ({"parts":[{"value":..,"variable":..},..]}).
#include "test_support.hpp"

#include <zkr/service_cache.hpp>
#include <zkr/service_discovery.hpp>
#include <zkr/service_instance.hpp>
#include <zkr/service_provider.hpp>
#include <zkr/session.hpp>

#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

namespace zkr::test {
namespace {

namespace asio = boost::asio;

/// The base path of a test's services: Curator's builder is given it, zkr's discovery too.
std::string fresh_base() {
    return fresh_root() + "/services";
}

/// An instance as the Curator driver prints it (integration/peers/CuratorDiscovery.java): its
/// fields sorted by name, and payloadClass, the Java class Curator read the payload as. The
/// payload must be compact JSON with its keys sorted, as Jackson prints a map.
std::string curator_line(const service_instance& i, const std::string& payload_class) {
    const auto text = [](const std::string& s) { return "\"" + s + "\""; };
    const auto number = [](std::optional<int> n) { return n ? std::to_string(*n) : "null"; };
    const bool payload = i.payload != "null";
    return "{\"address\":" + text(i.address) + ",\"enabled\":" + (i.enabled ? "true" : "false") +
           ",\"id\":" + text(i.id) + ",\"name\":" + text(i.name) + ",\"payload\":" + i.payload +
           ",\"payloadClass\":" + (payload ? text(payload_class) : "null") +
           ",\"port\":" + number(i.port) +
           ",\"registrationTimeUTC\":" + std::to_string(i.registration_time_utc) +
           ",\"serviceType\":" + text(to_string(i.type)) + ",\"sslPort\":" + number(i.ssl_port) +
           ",\"uriSpec\":" + (i.uri_spec.empty() ? "null" : text(i.uri_spec)) + "}";
}

/// The number after "\"FIELD\":" in a driver's line (0 if there is none).
std::int64_t number_in(const std::string& line, const std::string& field) {
    const auto key = "\"" + field + "\":";
    const auto at = line.find(key);
    return at == std::string::npos ? 0 : std::stoll(line.substr(at + key.size()));
}

/// The instance zkr registers in these tests: every field set, none at its default but `enabled`.
service_instance zkr_instance(const std::string& id) {
    service_instance i;
    i.name = "echo";
    i.id = id;
    i.address = "10.0.0.8";
    i.port = 9090;
    i.ssl_port = 9443;
    i.payload = R"({"weight":5,"zone":"b"})";
    i.registration_time_utc = 1'700'000'000'123;
    i.uri_spec = "{scheme}://{address}:{port}/rpc";
    return i;
}

TEST(Interop, CuratorServiceIsFoundByZkrProviderWithEveryField) {
    const auto base = fresh_base();
    auto java = peer("curator-discovery", {"register", base, "echo", "java-1", "10.0.0.7", "8080",
                                           "8443", "{scheme}://{address}:{port}/api", "a", "3"});
    std::string registered;
    ASSERT_TRUE(java.read_line(registered, peer_start_limit)) << java.report();
    ASSERT_EQ(registered.rfind("registered ", 0), 0U) << registered;
    registered.erase(0, std::string("registered ").size());

    service_instance expected;
    expected.name = "echo";
    expected.id = "java-1";
    expected.address = "10.0.0.7";
    expected.port = 8080;
    expected.ssl_port = 8443;
    // Curator's text, kept as written: "@class" is what lets a Java reader rebuild its POJO.
    expected.payload = R"({"@class":"CuratorDiscovery$Endpoint","zone":"a","weight":3})";
    expected.registration_time_utc = number_in(registered, "registrationTimeUTC");
    expected.type = service_type::dynamic;
    expected.uri_spec = "{scheme}://{address}:{port}/api";  // written as its parts
    expected.enabled = true;                                // not written: the default
    ASSERT_GT(expected.registration_time_utc, 0) << registered;

    // The sessions ping from their own thread: the test's thread blocks while it reads drivers.
    with_sessions_like<1>(
        config_for_peer_tests(shared_hosts()),
        [&](session& s) -> asio::awaitable<void> {
            service_discovery discovery(s, base);
            service_cache cache(discovery, "echo");
            CO_REQUIRE(!std::get<0>(co_await cache.async_start(tuple)));
            service_provider provider(cache);
            const auto chosen = provider.get_instance();
            CO_REQUIRE(chosen.has_value());
            EXPECT_EQ(chosen->name, expected.name);
            EXPECT_EQ(chosen->id, expected.id);
            EXPECT_EQ(chosen->address, expected.address);
            EXPECT_EQ(chosen->port, expected.port);
            EXPECT_EQ(chosen->ssl_port, expected.ssl_port);
            EXPECT_EQ(chosen->payload, expected.payload);
            EXPECT_EQ(chosen->registration_time_utc, expected.registration_time_utc);
            EXPECT_STREQ(to_string(chosen->type), to_string(expected.type));
            EXPECT_EQ(chosen->uri_spec, expected.uri_spec);
            EXPECT_EQ(chosen->enabled, expected.enabled);
            EXPECT_TRUE(*chosen == expected);

            // zkr disables the Java instance: Curator still reads every other field, the payload
            // as its own class.
            CO_REQUIRE(
                !std::get<0>(co_await discovery.async_set_enabled("echo", "java-1", false, tuple)));
            EXPECT_TRUE(co_await eventually([&] { return !provider.get_instance(); }))
                << "zkr's provider still chooses the disabled instance";
            auto follower = peer("curator-discovery", {"follow", base, "echo"});
            expect_ready(follower, "Curator ServiceCache driver");
            auto disabled = registered;
            disabled.replace(disabled.find("\"enabled\":true"), 14, "\"enabled\":false");
            EXPECT_TRUE(follower.expect_line("instances [" + disabled + "]"));

            // Curator unregisters: zkr's cache sees it go.
            java.close_stdin();
            EXPECT_TRUE(java.expect_line("unregistered"));
            EXPECT_TRUE(java.exits_cleanly());
            EXPECT_TRUE(co_await eventually([&] {
                const auto now = cache.instances();
                return now && now->empty();
            })) << "zkr's cache still holds the unregistered instance";
            co_await s.async_close(asio::use_awaitable);
        },
        120s);
}

TEST(Interop, ZkrServiceIsFoundByCuratorProviderWithItsPayload) {
    const auto base = fresh_base();
    with_sessions_like<1>(
        config_for_peer_tests(shared_hosts()),
        [&](session& s) -> asio::awaitable<void> {
            service_discovery discovery(s, base);
            auto [ec, registration] =
                co_await discovery.async_register(zkr_instance("zkr-1"), tuple);
            CO_REQUIRE(!ec);
            EXPECT_TRUE(registration.instance() == zkr_instance("zkr-1"));
            // A payload without "@class" reads as a Map in Java.
            auto java = peer("curator-discovery", {"find", base, "echo"});
            EXPECT_TRUE(java.expect_line(curator_line(registration.instance(), "LinkedHashMap"),
                                         peer_start_limit));
            EXPECT_TRUE(java.exits_cleanly());
            CO_REQUIRE(!std::get<0>(co_await registration.async_unregister(tuple)));
            co_await s.async_close(asio::use_awaitable);
        },
        120s);
}

TEST(Interop, CuratorServiceCacheSeesAZkrInstanceComeChangeAndGo) {
    const auto base = fresh_base();
    auto java = peer("curator-discovery", {"follow", base, "echo"});
    expect_ready(java, "Curator ServiceCache driver");
    ASSERT_TRUE(java.expect_line("instances []"));
    with_sessions_like<1>(
        config_for_peer_tests(shared_hosts()),
        [&](session& s) -> asio::awaitable<void> {
            service_discovery discovery(s, base);
            // Registered with the defaults: a random id, the time of registration, no TLS port.
            auto first = zkr_instance("");
            first.registration_time_utc = 0;
            first.ssl_port.reset();
            first.uri_spec.clear();
            auto [ec, registration] = co_await discovery.async_register(first, tuple);
            CO_REQUIRE(!ec);
            const auto came = registration.instance();
            EXPECT_FALSE(came.id.empty());
            EXPECT_GT(came.registration_time_utc, 0);
            EXPECT_TRUE(java.expect_line_eventually("instances [" +
                                                    curator_line(came, "LinkedHashMap") + "]"))
                << "Curator's cache did not see the instance come";

            auto changed = came;
            changed.address = "10.0.0.9";
            changed.port = 9191;
            changed.payload = R"({"weight":1,"zone":"c"})";
            changed.enabled = false;
            CO_REQUIRE(!std::get<0>(co_await registration.async_update(changed, tuple)));
            EXPECT_TRUE(java.expect_line_eventually("instances [" +
                                                    curator_line(changed, "LinkedHashMap") + "]"))
                << "Curator's cache did not see the instance change";

            CO_REQUIRE(!std::get<0>(co_await registration.async_unregister(tuple)));
            EXPECT_TRUE(java.expect_line_eventually("instances []"))
                << "Curator's cache did not see the instance go";
            co_await s.async_close(asio::use_awaitable);
        },
        120s);
}

}  // namespace
}  // namespace zkr::test
