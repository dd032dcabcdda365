// zkr::service_instance: one registered instance of a service, in Apache Curator's discovery
// format (curator-x-discovery's ServiceInstance, as its JsonInstanceSerializer writes it), so
// Java and C++ services find each other under one base path (docs/discovery.md).
//
// The JSON object has the fields name, id, address, port, sslPort, payload,
// registrationTimeUTC, serviceType, uriSpec and enabled. Fields zkr does not know are ignored
// when reading, as Curator's reader ignores them.
#pragma once

#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zkr {

/// How an instance is registered (Curator's ServiceType).
enum class service_type {
    dynamic,             ///< "DYNAMIC": an ephemeral node, gone with the session (the default)
    static_instance,     ///< "STATIC": a persistent node
    permanent,           ///< "PERMANENT": a persistent node
    dynamic_sequential,  ///< "DYNAMIC_SEQUENTIAL": read, never registered by zkr
};

/// The type's name in the JSON ("DYNAMIC", "STATIC", "PERMANENT", "DYNAMIC_SEQUENTIAL").
ZKR_API const char* to_string(service_type t) noexcept;

/// One instance of a service.
struct service_instance {
    /// The service's name: one node name under the base path.
    std::string name;
    /// The instance's id: one node name. Empty in async_register: a random UUID is chosen.
    std::string id;
    /// Host name or IP address where the instance serves (not checked beyond its length).
    std::string address;
    /// The plain and the TLS port, 0 to 65535; absent is JSON null.
    std::optional<int> port;
    std::optional<int> ssl_port;
    /// The payload as JSON text ("null" when there is none), "@class" type information
    /// included. Written compact: the same JSON value as given, not necessarily the same
    /// spacing. A Java reader deserializes it with its payload class (an object without
    /// "@class" reads as a Map).
    std::string payload = "null";
    /// Milliseconds since the Unix epoch, UTC. 0 in async_register: the time of registration.
    std::int64_t registration_time_utc = 0;
    service_type type = service_type::dynamic;
    /// Curator's UriSpec as its template text, "{scheme}://{address}:{port}/path": text in
    /// braces is a variable part. Empty is JSON null.
    std::string uri_spec;
    /// A disabled instance stays registered but providers skip it (CURATOR-275).
    bool enabled = true;

    friend bool operator==(const service_instance&, const service_instance&) = default;
};

/// The instance as Curator writes it (one JSON object, no new lines).
/// The instance should be valid (validate()); an invalid payload is written as null.
ZKR_API std::string to_json(const service_instance& instance);

/// Reads an instance written by to_json or by Curator.
/// Errors: errc::invalid_service_instance (not JSON, not an object, a field of the wrong type,
/// a missing name or id, a port out of range, an unknown service type); `out` is unchanged.
ZKR_API error_code from_json(std::string_view json, service_instance& out);

/// Checks what a registration needs: name and id each one node name (an empty id is allowed
/// and means "choose one"), ports in range, the payload valid JSON.
/// Errors: errc::invalid_path (a name or id), errc::invalid_service_instance (the rest).
ZKR_API error_code validate(const service_instance& instance);

}  // namespace zkr
