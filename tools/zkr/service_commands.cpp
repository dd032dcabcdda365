// zkr service list, watch, disable and enable: looking at a service's instances (in Curator's
// discovery layout, whoever registered them) and marking one down without removing it.
#include "follow.hpp"
#include "handlers.hpp"
#include "json_text.hpp"

#include <zkr/path.hpp>
#include <zkr/service_cache.hpp>
#include <zkr/service_discovery.hpp>
#include <zkr/session.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace zkr::cli {

namespace asio = boost::asio;

namespace {

/// The fields a person reads, with their names: the columns of `service list NAME` and the
/// `name=value` words of a `service watch` line. The rest is in the JSON (--json).
constexpr std::array<const char*, 7> field_names = {"id",      "address",    "port",   "ssl_port",
                                                    "enabled", "registered", "payload"};

std::string port_text(const std::optional<int>& port) {
    return port ? std::to_string(*port) : "-";
}

/// Milliseconds since the epoch as UTC, "2026-12-07T01:02:03.456Z".
std::string utc_time(std::int64_t ms) {
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buf[40];
    const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
    return buf;
}

std::array<std::string, field_names.size()> fields(const service_instance& i) {
    return {i.id,
            i.address,
            port_text(i.port),
            port_text(i.ssl_port),
            i.enabled ? "true" : "false",
            utc_time(i.registration_time_utc),
            i.payload};
}

/// The instances as a table with a header line, each column as wide as its widest cell.
void print_table(const std::vector<service_instance>& instances) {
    std::vector<std::array<std::string, field_names.size()>> rows;
    auto& header = rows.emplace_back();
    for (std::size_t c = 0; c < field_names.size(); ++c) {
        for (const char* p = field_names[c]; *p != '\0'; ++p) {
            header[c] += static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
        }
    }
    for (const auto& i : instances) {
        rows.push_back(fields(i));
    }
    std::array<std::size_t, field_names.size()> widths{};
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size(); ++c) {
            widths[c] = std::max(widths[c], row[c].size());
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) {
                line.append(widths[c] - row[c].size() + 2, ' ');
            }
        }
        std::printf("%s\n", line.c_str());
    }
}

/// One line for a change of the service at `service_path`: "TYPE PATH" and the instance's
/// fields as name=value words, as zkr watch prints a node; with --json, one JSON object with
/// the instance as Curator writes it (null when there is none, or the node is not one).
void print_event(const options& o, const std::string& service_path, const service_event& e) {
    const auto path = e.id.empty() ? service_path : join_path(service_path, e.id);
    const char* type = to_string(e.type);
    if (o.json) {
        std::printf("{\"type\": %s, \"path\": %s, \"instance\": %s}\n", json_string(type).c_str(),
                    json_string(path).c_str(), e.instance ? to_json(*e.instance).c_str() : "null");
        return;
    }
    std::string line = type;
    line.append(" ").append(path);
    if (e.instance) {
        const auto values = fields(*e.instance);
        for (std::size_t c = 1; c < values.size(); ++c) {  // the id is in the path
            line.append(" ").append(field_names[c]).append("=").append(values[c]);
        }
    } else if (!e.id.empty()) {
        line += " (not a service instance)";
    }
    std::printf("%s\n", line.c_str());
}

/// Tells what went wrong with NAME (and ID) on stderr; zkr's exit status for it: 75 when the
/// instance does not exist, 64 when the node is not a service instance (a foreign layout:
/// nothing was changed), 69 for the rest.
int failed(const options& o, const char* doing, error_code ec) {
    auto path = o.path.empty() ? o.base : join_path(o.base, o.path);
    if (!o.id.empty()) {
        path = join_path(path, o.id);  // disable, enable: the instance
    }
    std::fprintf(stderr, "zkr: cannot %s %s: %s\n", doing, path.c_str(), ec.message().c_str());
    if (ec == zk_errc::no_node) {
        return exit_not_acquired;
    }
    return ec == errc::path_in_use ? exit_usage : exit_unavailable;
}

}  // namespace

// Without NAME: the names of the services, one a line (--json: one JSON string a line). With
// NAME: its instances as a table (--json: one instance a line, as Curator writes it).
asio::awaitable<int> run_service_list(session& s, const options& o) {
    service_discovery discovery(s, o.base);
    if (o.path.empty()) {
        auto [ec, names] = co_await discovery.async_names(tuple);
        if (ec) {
            co_return failed(o, "list", ec);
        }
        for (const auto& name : names) {
            std::printf("%s\n", o.json ? json_string(name).c_str() : name.c_str());
        }
        co_return 0;
    }
    auto [ec, instances] = co_await discovery.async_query(o.path, tuple);
    if (ec) {
        co_return failed(o, "list", ec);
    }
    if (!o.json) {
        print_table(instances);
        co_return 0;
    }
    for (const auto& i : instances) {
        std::printf("%s\n", to_json(i).c_str());
    }
    co_return 0;
}

// The instances as `added` lines, `initialized`, then a line per change, until interrupted.
asio::awaitable<int> run_service_watch(session& s, const options& o) {
    service_discovery discovery(s, o.base);
    service_cache cache(discovery, o.path);
    const auto service_path = join_path(o.base, o.path);
    co_return co_await follow(cache, service_path,
                              [&](const service_event& e) { print_event(o, service_path, e); });
}

// disable and enable: the instance's `enabled` flag, every other field kept.
asio::awaitable<int> run_service_enabled(session& s, const options& o) {
    service_discovery discovery(s, o.base);
    const bool enable = o.action == "enable";
    if (auto [ec] = co_await discovery.async_set_enabled(o.path, o.id, enable, tuple); ec) {
        co_return failed(o, enable ? "enable" : "disable", ec);
    }
    co_return 0;
}

}  // namespace zkr::cli
