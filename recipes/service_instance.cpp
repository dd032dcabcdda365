// A service instance as JSON, in the shape Curator 5.4's JsonInstanceSerializer writes and reads
// (field order included, so that a byte comparison with Java's output holds), and the checks a
// registration needs.
#include "path.hpp"
#include "service_discovery_impl.hpp"

#include <zkr/service_instance.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <limits>

namespace zkr {

namespace json = boost::json;

namespace {

constexpr std::array<std::pair<service_type, const char*>, 4> type_names{{
    {service_type::dynamic, "DYNAMIC"},
    {service_type::static_instance, "STATIC"},
    {service_type::permanent, "PERMANENT"},
    {service_type::dynamic_sequential, "DYNAMIC_SEQUENTIAL"},
}};

/// Longest address accepted: a DNS name's limit, with room for an IPv6 zone.
constexpr std::size_t max_address_length = 255;
constexpr int max_port = 65535;

error_code invalid() {
    return make_error_code(errc::invalid_service_instance);
}

/// One part of Curator's UriSpec: literal text, or a variable's name (written in braces).
struct uri_part {
    std::string value;
    bool variable = false;
};

/// The parts of a UriSpec template ("{scheme}://{address}:{port}"), as Curator's UriSpec splits
/// it; empty when a brace is not closed or nested.
std::optional<std::vector<uri_part>> split_uri_spec(std::string_view text) {
    std::vector<uri_part> parts;
    std::string current;
    bool in_variable = false;
    for (char c : text) {
        if (c == '{' || c == '}') {
            if ((c == '{') == in_variable) {
                return std::nullopt;  // "{a{" or "a}"
            }
            if (!current.empty()) {
                parts.push_back(uri_part{std::move(current), in_variable});
                current.clear();
            }
            in_variable = c == '{';
        } else {
            current += c;
        }
    }
    if (in_variable) {
        return std::nullopt;
    }
    if (!current.empty()) {
        parts.push_back(uri_part{std::move(current), false});
    }
    return parts;
}

bool valid_port(const std::optional<int>& port) {
    return !port || (*port >= 0 && *port <= max_port);
}

bool valid_json(std::string_view text) {
    boost::system::error_code ec;
    json::parse(text, ec);
    return !ec;
}

/// The payload as a JSON value: null when it is not JSON.
json::value payload_value(const std::string& payload) {
    boost::system::error_code ec;
    auto v = json::parse(payload, ec);
    return ec ? json::value(nullptr) : v;
}

json::value port_value(const std::optional<int>& port) {
    return port ? json::value(*port) : json::value(nullptr);
}

json::value uri_spec_value(const std::string& uri_spec) {
    auto parts = split_uri_spec(uri_spec);
    if (uri_spec.empty() || !parts) {
        return nullptr;
    }
    json::array out;
    for (auto& part : *parts) {
        json::object p;
        p["value"] = part.value;
        p["variable"] = part.variable;
        out.push_back(std::move(p));
    }
    json::object spec;
    spec["parts"] = std::move(out);
    return spec;
}

// ---- reading: each field's reader fails (false) on a value of the wrong type ----

bool read_string(const json::value& v, std::string& out, bool nullable) {
    if (nullable && v.is_null()) {
        out.clear();
        return true;
    }
    if (!v.is_string()) {
        return false;
    }
    out = std::string(v.get_string());
    return true;
}

bool read_port(const json::value& v, std::optional<int>& out) {
    if (v.is_null()) {
        out.reset();
        return true;
    }
    if (!v.is_int64() && !v.is_uint64()) {
        return false;
    }
    const auto n = v.is_int64() ? v.get_int64() : static_cast<std::int64_t>(v.get_uint64());
    if (n < 0 || n > max_port) {
        return false;
    }
    out = static_cast<int>(n);
    return true;
}

bool read_time(const json::value& v, std::int64_t& out) {
    if (v.is_int64()) {
        out = v.get_int64();
        return true;
    }
    if (v.is_uint64() && v.get_uint64() <= std::numeric_limits<std::int64_t>::max()) {
        out = static_cast<std::int64_t>(v.get_uint64());
        return true;
    }
    return false;
}

bool read_type(const json::value& v, service_type& out) {
    if (!v.is_string()) {
        return false;
    }
    for (const auto& [type, name] : type_names) {
        if (v.get_string() == name) {
            out = type;
            return true;
        }
    }
    return false;
}

bool read_uri_spec(const json::value& v, std::string& out) {
    out.clear();
    if (v.is_null()) {
        return true;
    }
    const auto* spec = v.if_object();
    const auto* parts = spec ? spec->if_contains("parts") : nullptr;
    if (!parts || !parts->is_array()) {
        return false;
    }
    for (const auto& p : parts->get_array()) {
        const auto* part = p.if_object();
        const auto* value = part ? part->if_contains("value") : nullptr;
        const auto* variable = part ? part->if_contains("variable") : nullptr;
        if (!value || !value->is_string() || (variable && !variable->is_bool())) {
            return false;
        }
        const bool var = variable && variable->get_bool();
        if (var) {
            out += '{';
        }
        out += value->get_string();
        if (var) {
            out += '}';
        }
    }
    return true;
}

/// Reads every field present into `out`; fields zkr does not know are skipped, as Curator's
/// reader skips them.
bool read_fields(const json::object& o, service_instance& out) {
    for (const auto& [key, v] : o) {
        bool ok = true;
        if (key == "name") {
            ok = read_string(v, out.name, false);
        } else if (key == "id") {
            ok = read_string(v, out.id, false);
        } else if (key == "address") {
            ok = read_string(v, out.address, true);
        } else if (key == "port") {
            ok = read_port(v, out.port);
        } else if (key == "sslPort") {
            ok = read_port(v, out.ssl_port);
        } else if (key == "payload") {
            // Kept as JSON text, "@class" type information included.
            out.payload = json::serialize(v);
        } else if (key == "registrationTimeUTC") {
            ok = read_time(v, out.registration_time_utc);
        } else if (key == "serviceType") {
            ok = read_type(v, out.type);
        } else if (key == "uriSpec") {
            ok = read_uri_spec(v, out.uri_spec);
        } else if (key == "enabled") {
            ok = v.is_bool();
            out.enabled = ok && v.get_bool();
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

}  // namespace

const char* to_string(service_type t) noexcept {
    for (const auto& [type, name] : type_names) {
        if (type == t) {
            return name;
        }
    }
    return "DYNAMIC";
}

std::string to_json(const service_instance& instance) {
    // Insertion order is kept by json::object: Curator's field order.
    json::object o;
    o["name"] = instance.name;
    o["id"] = instance.id;
    o["address"] = instance.address;
    o["port"] = port_value(instance.port);
    o["sslPort"] = port_value(instance.ssl_port);
    o["payload"] = payload_value(instance.payload);
    o["registrationTimeUTC"] = instance.registration_time_utc;
    o["serviceType"] = to_string(instance.type);
    o["uriSpec"] = uri_spec_value(instance.uri_spec);
    o["enabled"] = instance.enabled;
    return json::serialize(o);
}

error_code from_json(std::string_view text, service_instance& out) {
    boost::system::error_code jec;
    const auto v = json::parse(text, jec);
    const auto* o = jec ? nullptr : v.if_object();
    if (!o || !o->contains("name") || !o->contains("id")) {
        return invalid();
    }
    service_instance read;  // Curator's defaults for the fields absent
    read.payload = "null";
    if (!read_fields(*o, read)) {
        return invalid();
    }
    out = std::move(read);
    return {};
}

error_code validate(const service_instance& instance) {
    if (!detail::is_node_name(instance.name) ||
        (!instance.id.empty() && !detail::is_node_name(instance.id))) {
        return make_error_code(errc::invalid_path);
    }
    if (instance.address.size() > max_address_length || !valid_port(instance.port) ||
        !valid_port(instance.ssl_port) || !valid_json(instance.payload) ||
        !split_uri_spec(instance.uri_spec)) {
        return invalid();
    }
    return {};
}

std::optional<service_instance> detail::parse_instance(std::string_view data) {
    service_instance instance;
    if (from_json(data, instance)) {
        return std::nullopt;
    }
    return instance;
}

}  // namespace zkr
