// zkr::service_instance as JSON: what Curator 5.4's JsonInstanceSerializer writes is read with
// every field, and written back byte for byte; what is not an instance is
// errc::invalid_service_instance, and validate() refuses what a registration cannot write.
#include <zkr/service_instance.hpp>

#include <gtest/gtest.h>

#include <string>

namespace zkr {
namespace {

// As Curator 5.4's JsonInstanceSerializer(payloadClass, false) writes an instance (checked
// against the jar), its payload with Jackson's type information ("@class"), with a UriSpec
// "{scheme}://{address}:{port}".
const std::string curator_json =
    R"({"name":"echo","id":"5ba2b7d1-5e3c-4b4e-9d6a-0d1f4c2b9a77","address":"10.0.0.7",)"
    R"("port":7001,"sslPort":null,"payload":{"@class":"org.example.EchoDetails",)"
    R"("description":"echo service","weight":3},"registrationTimeUTC":1733534400123,)"
    R"("serviceType":"DYNAMIC","uriSpec":{"parts":[{"value":"scheme","variable":true},)"
    R"({"value":"://","variable":false},{"value":"address","variable":true},)"
    R"({"value":":","variable":false},{"value":"port","variable":true}]},"enabled":true})";

service_instance sample_instance() {
    service_instance i;
    i.name = "echo";
    i.id = "one";
    i.address = "127.0.0.1";
    i.port = 9000;
    i.ssl_port = 9443;
    i.payload = R"({"zone":"a"})";
    i.registration_time_utc = 42;
    i.type = service_type::static_instance;
    i.uri_spec = "{scheme}://{address}:{port}/api";
    i.enabled = false;
    return i;
}

TEST(ServiceInstanceJson, ReadsWhatCuratorWrites) {
    service_instance i;
    ASSERT_FALSE(from_json(curator_json, i));
    EXPECT_EQ(i.name, "echo");
    EXPECT_EQ(i.id, "5ba2b7d1-5e3c-4b4e-9d6a-0d1f4c2b9a77");
    EXPECT_EQ(i.address, "10.0.0.7");
    EXPECT_EQ(i.port, 7001);
    EXPECT_EQ(i.ssl_port, std::nullopt);
    EXPECT_EQ(i.payload,
              R"({"@class":"org.example.EchoDetails","description":"echo service","weight":3})");
    EXPECT_EQ(i.registration_time_utc, 1733534400123);
    EXPECT_EQ(i.type, service_type::dynamic);
    EXPECT_EQ(i.uri_spec, "{scheme}://{address}:{port}");
    EXPECT_TRUE(i.enabled);
}

TEST(ServiceInstanceJson, ReadsCuratorsDefaultCompatibleFormWithoutEnabled) {
    // JsonInstanceSerializer(payloadClass), the builder's default, writes the pre-4.1 shape:
    // no "enabled" (a reader takes true).
    const std::string compatible =
        R"({"name":"echo","id":"one","address":"127.0.0.1","port":9000,"sslPort":null,)"
        R"("payload":{"@class":"java.util.LinkedHashMap","zone":"a"},)"
        R"("registrationTimeUTC":42,"serviceType":"STATIC","uriSpec":null})";
    service_instance i;
    i.enabled = false;
    ASSERT_FALSE(from_json(compatible, i));
    EXPECT_TRUE(i.enabled);
    EXPECT_EQ(i.type, service_type::static_instance);
    EXPECT_EQ(i.payload, R"({"@class":"java.util.LinkedHashMap","zone":"a"})");
    EXPECT_TRUE(i.uri_spec.empty());
}

TEST(ServiceInstanceJson, WritesCuratorsFieldOrderByteForByte) {
    service_instance i;
    ASSERT_FALSE(from_json(curator_json, i));
    EXPECT_EQ(to_json(i), curator_json);
}

TEST(ServiceInstanceJson, RoundTripsEveryField) {
    const auto i = sample_instance();
    const auto text = to_json(i);
    EXPECT_EQ(text, R"({"name":"echo","id":"one","address":"127.0.0.1","port":9000,"sslPort":9443,)"
                    R"("payload":{"zone":"a"},"registrationTimeUTC":42,"serviceType":"STATIC",)"
                    R"("uriSpec":{"parts":[{"value":"scheme","variable":true},)"
                    R"({"value":"://","variable":false},{"value":"address","variable":true},)"
                    R"({"value":":","variable":false},{"value":"port","variable":true},)"
                    R"({"value":"/api","variable":false}]},"enabled":false})");
    service_instance back;
    ASSERT_FALSE(from_json(text, back));
    EXPECT_EQ(back, i);
}

TEST(ServiceInstanceJson, NoUriSpecIsNullAndNoPayloadIsNull) {
    service_instance i;
    i.name = "svc";
    i.id = "x";
    const auto text = to_json(i);
    EXPECT_NE(text.find(R"("uriSpec":null)"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("payload":null)"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("port":null,"sslPort":null)"), std::string::npos) << text;
    service_instance back;
    ASSERT_FALSE(from_json(text, back));
    EXPECT_EQ(back, i);
}

TEST(ServiceInstanceJson, IgnoresUnknownFieldsAndDefaultsMissingOnes) {
    service_instance i;
    ASSERT_FALSE(from_json(R"({"id":"a","name":"b","future":{"x":[1,2]},"port":1})", i));
    EXPECT_EQ(i.name, "b");
    EXPECT_EQ(i.id, "a");
    EXPECT_EQ(i.port, 1);
    EXPECT_EQ(i.payload, "null");
    EXPECT_EQ(i.type, service_type::dynamic);
    EXPECT_TRUE(i.enabled);
}

TEST(ServiceInstanceJson, MalformedInputsAreInvalidServiceInstances) {
    const char* bad[] = {
        "",
        "not json",
        R"({"name":"a","id":"b")",                       // cut short
        R"(["name","id"])",                              // not an object
        R"({"name":"a"})",                               // no id
        R"({"id":"b"})",                                 // no name
        R"({"name":1,"id":"b"})",                        // a name of the wrong type
        R"({"name":"a","id":"b","port":"80"})",          // a port of the wrong type
        R"({"name":"a","id":"b","port":70000})",         // out of range
        R"({"name":"a","id":"b","sslPort":-1})",         // out of range
        R"({"name":"a","id":"b","serviceType":"ODD"})",  // an unknown type
        R"({"name":"a","id":"b","enabled":"yes"})",
        R"({"name":"a","id":"b","registrationTimeUTC":1.5})",
        R"({"name":"a","id":"b","uriSpec":{"parts":[{"variable":true}]}})",
        R"({"name":"a","id":"b","uriSpec":"{scheme}"})",
    };
    for (const char* text : bad) {
        auto out = sample_instance();
        EXPECT_EQ(from_json(text, out), errc::invalid_service_instance) << text;
        EXPECT_EQ(out, sample_instance()) << "changed by " << text;
    }
}

TEST(ServiceInstanceJson, ValidateNamesEachRefusal) {
    auto with = [](auto change) {
        auto i = sample_instance();
        change(i);
        return validate(i);
    };
    EXPECT_FALSE(validate(sample_instance()));
    EXPECT_FALSE(with([](service_instance& i) { i.id.clear(); }));  // chosen at registration
    EXPECT_EQ(with([](service_instance& i) { i.id = "a/b"; }), errc::invalid_path);
    EXPECT_EQ(with([](service_instance& i) { i.id = ".."; }), errc::invalid_path);
    EXPECT_EQ(with([](service_instance& i) { i.name.clear(); }), errc::invalid_path);
    EXPECT_EQ(with([](service_instance& i) { i.name = "a/b"; }), errc::invalid_path);
    EXPECT_EQ(with([](service_instance& i) { i.port = 70000; }), errc::invalid_service_instance);
    EXPECT_EQ(with([](service_instance& i) { i.ssl_port = -1; }), errc::invalid_service_instance);
    EXPECT_EQ(with([](service_instance& i) { i.payload = "{oops"; }),
              errc::invalid_service_instance);
    EXPECT_EQ(with([](service_instance& i) { i.payload.clear(); }), errc::invalid_service_instance);
    EXPECT_EQ(with([](service_instance& i) { i.uri_spec = "{scheme://x"; }),
              errc::invalid_service_instance);
    EXPECT_EQ(with([](service_instance& i) { i.address = std::string(300, 'a'); }),
              errc::invalid_service_instance);
}

TEST(ServiceInstanceJson, TypeNamesAreCuratorsServiceTypes) {
    EXPECT_STREQ(to_string(service_type::dynamic), "DYNAMIC");
    EXPECT_STREQ(to_string(service_type::static_instance), "STATIC");
    EXPECT_STREQ(to_string(service_type::permanent), "PERMANENT");
    EXPECT_STREQ(to_string(service_type::dynamic_sequential), "DYNAMIC_SEQUENTIAL");
}

}  // namespace
}  // namespace zkr
