#include "option_specs.hpp"

#include "metrics_endpoint.hpp"

#include <zkr/path.hpp>
#include <zkr/service_instance.hpp>

#include <algorithm>

namespace zkr::cli {
namespace {

// The ranges of the numbers on the command line (what zkr::session_config and the timers take).
constexpr long long max_session_timeout_ms = 24LL * 60 * 60 * 1000;  // session_config's limit
constexpr long long max_seconds = 366LL * 24 * 60 * 60;              // a year: longer is a mistake
constexpr long long max_count = 1000000;                             // leases, members

// Readers shared by several options, parameterised by the field they fill.
template <bool options::*field>
bool set_flag(argument_reader&, const std::string&, options& o) {
    o.*field = true;
    return true;
}

template <std::string options::*field>
bool read_text(argument_reader& words, const std::string& spelling, options& o) {
    return words.value(spelling, o.*field);
}

bool read_seconds(argument_reader& words, const std::string& spelling, std::chrono::seconds& out,
                  long long at_least = 0) {
    long long s = 0;
    if (!words.number(spelling, at_least, max_seconds, s)) {
        return false;
    }
    out = std::chrono::seconds(s);
    return true;
}

bool read_session_timeout(argument_reader& words, const std::string& spelling, options& o) {
    long long ms = 0;
    if (!words.number(spelling, 100, max_session_timeout_ms, ms)) {
        return false;
    }
    o.session_timeout = std::chrono::milliseconds(ms);
    return true;
}

// A file the TLS settings name: an empty name (an unset variable in a script, say) is a mistake,
// not a request for plaintext.
template <std::string options::*field>
bool read_file_name(argument_reader& words, const std::string& spelling, options& o) {
    if (!words.value(spelling, o.*field)) {
        return false;
    }
    if ((o.*field).empty()) {
        return words.fail(spelling + " takes a file name, not ''");
    }
    return true;
}

bool read_auth(argument_reader& words, const std::string& spelling, options& o) {
    if (!words.value(spelling, o.auth)) {
        return false;
    }
    if (o.auth.find(':') == std::string::npos) {
        return words.fail("--auth takes USER:PASS");
    }
    return true;
}

// The side of a read-write lock, "read" or "write"; a second one, either, is an error.
bool read_side(argument_reader& words, const std::string& spelling, options& o) {
    if (!o.side.empty()) {
        return words.fail("--read and --write exclude each other");
    }
    o.side = spelling.substr(2);
    return true;
}

bool read_timeout(argument_reader& words, const std::string& spelling, options& o) {
    std::chrono::seconds s{};
    if (!read_seconds(words, spelling, s)) {
        return false;
    }
    o.timeout = s;
    if (s == std::chrono::seconds::zero()) {
        o.try_only = true;  // no time to wait: one look, as --try
    }
    return true;
}

// At least a second: a hold of 0 would take the lock back before the command starts.
bool read_max_hold(argument_reader& words, const std::string& spelling, options& o) {
    std::chrono::seconds s{};
    if (!read_seconds(words, spelling, s, 1)) {
        return false;
    }
    o.max_hold = s;
    return true;
}

bool read_metrics(argument_reader& words, const std::string& spelling, options& o) {
    if (!words.value(spelling, o.metrics)) {
        return false;
    }
    const auto where = parse_listen_address(o.metrics);
    if (!where) {
        return words.fail("--metrics takes ADDR:PORT, such as 127.0.0.1:9464 or [::1]:9464");
    }
    if (where->address().is_multicast()) {
        return words.fail("--metrics takes an address of this machine to listen on, not the " +
                          std::string("multicast address ") + where->address().to_string() +
                          " (such as 127.0.0.1, or 0.0.0.0 for every interface)");
    }
    return true;
}

// The name of one node in PATH, as `zkr status` shows it: no path of its own.
bool read_node(argument_reader& words, const std::string& spelling, options& o) {
    if (!words.value(spelling, o.node)) {
        return false;
    }
    if (auto problem = node_name_problem(o.node); !problem.empty()) {
        return words.fail("--node takes the name of a node in PATH, as zkr status shows it, not '" +
                          o.node + "': " + problem);
    }
    return true;
}

// service: where the services are (Curator's base path).
/// An option whose value is a ZooKeeper path, into `field`; `example` shows one in the error.
template <std::string options::*field>
bool read_path(argument_reader& words, const std::string& spelling, options& o,
               std::string_view example) {
    if (!words.value(spelling, o.*field)) {
        return false;
    }
    if (std::string problem; zkr::validate_path(o.*field, &problem)) {
        return words.fail(spelling + " takes a ZooKeeper path, such as " + std::string(example) +
                          ", not '" + o.*field + "': " + problem);
    }
    return true;
}

bool read_base(argument_reader& words, const std::string& spelling, options& o) {
    return read_path<&options::base>(words, spelling, o, "/services");
}

// queue --claims: a Curator DistributedQueue's lockPath, say.
bool read_claims_dir(argument_reader& words, const std::string& spelling, options& o) {
    return read_path<&options::claims_dir>(words, spelling, o, "/jobs-locks");
}

// service register: a port as Curator's ServiceInstance holds it (0 to 65535).
template <std::optional<int> options::*field>
bool read_port(argument_reader& words, const std::string& spelling, options& o) {
    long long port = 0;
    if (!words.number(spelling, 0, 65535, port)) {
        return false;
    }
    o.*field = static_cast<int>(port);
    return true;
}

// service register --id: the instance's node under the service, so one node name.
bool read_instance_id(argument_reader& words, const std::string& spelling, options& o) {
    if (!words.value(spelling, o.id)) {
        return false;
    }
    if (auto problem = node_name_problem(o.id); !problem.empty()) {
        return words.fail("--id takes one node name, the instance's under the service, not '" +
                          o.id + "': " + problem);
    }
    return true;
}

// service register --payload: checked as the registration will check it, so that a mistake is
// a usage error before anything is sent.
bool read_payload(argument_reader& words, const std::string& spelling, options& o) {
    if (!words.value(spelling, o.payload)) {
        return false;
    }
    service_instance probe;
    probe.name = "probe";
    probe.payload = o.payload;
    if (auto ec = zkr::validate(probe)) {
        return words.fail("--payload takes JSON text, such as '{\"zone\": \"a\"}', not '" +
                          o.payload + "': " + ec.message());
    }
    return true;
}

// watch: --children or --tree, not both (nor either twice).
bool read_scope(argument_reader& words, const std::string& spelling, options& o) {
    if (!o.scope.empty()) {
        return words.fail("--children and --tree exclude each other");
    }
    o.scope = spelling.substr(2);
    return true;
}

// watch --tree: how many levels below PATH (0: PATH alone).
bool read_depth(argument_reader& words, const std::string& spelling, options& o) {
    long long n = 0;
    if (!words.number(spelling, 0, max_count, n)) {
        return false;
    }
    o.depth = static_cast<int>(n);
    return true;
}

// node keep: how the node is kept. --ephemeral, --persistent and --ttl S exclude each other (the
// same one twice included: a second mode is a mistake, whichever it is).
bool read_node_mode(argument_reader& words, const std::string& spelling, options& o) {
    if (!o.node_mode.empty()) {
        return words.fail("--ephemeral, --persistent and --ttl exclude each other");
    }
    if (spelling == "--ttl") {
        // At least a second: the server deletes a node unchanged for its TTL, and zkr touches it
        // every TTL/2.
        if (!read_seconds(words, spelling, o.ttl, 1)) {
            return false;
        }
        o.node_mode = "ttl";
        return true;
    }
    o.node_mode = spelling.substr(2);
    return true;
}

bool read_grace(argument_reader& words, const std::string& spelling, options& o) {
    return read_seconds(words, spelling, o.grace);
}

// --max and --members: how many may hold a lease, or must be in a double barrier.
bool read_count(argument_reader& words, const std::string& spelling, options& o) {
    long long n = 0;
    if (!words.number(spelling, 1, max_count, n)) {
        return false;
    }
    o.max = static_cast<int>(n);
    return true;
}

bool no_count(const options& o) {
    return o.max == 0;
}

bool no_address(const options& o) {
    return o.address.empty();
}

bool no_port(const options& o) {
    return !o.port;
}

// An empty --id is no id: an election needs a name for its participant.
bool no_id(const options& o) {
    return o.id.empty();
}

}  // namespace

std::string node_name_problem(const std::string& name) {
    std::string problem;
    if (name.empty()) {
        problem = "it is empty";
    } else if (name.find('/') != std::string::npos) {
        problem = "it contains '/'";
    } else if (zkr::validate_path("/" + name, &problem)) {
        problem = "as the path /" + name + ", " + problem;
    }
    return problem;
}

bool option_spec::given_by(std::string_view word) const {
    return std::any_of(spellings.begin(), spellings.end(), [&](std::string_view s) {
        return !s.empty() && s == word;  // an unused spelling is empty, and so may a word be
    });
}

std::string option_spec::usage() const {
    // Appended, not "[" + ...: g++ 12 at -O3 warns about that concatenation (-Wrestrict, a
    // false positive, GCC bug 105329).
    std::string out = required() ? "" : "[";
    out.append(synopsis);
    if (!required()) {
        out.append("]");
    }
    return out;
}

namespace option {
const option_spec hosts{"--hosts HOSTS", {"--hosts"}, read_text<&options::hosts>};
const option_spec session_timeout{
    "--session-timeout MS", {"--session-timeout"}, read_session_timeout};
const option_spec auth{"--auth USER:PASS", {"--auth"}, read_auth};
const option_spec verbose{"--verbose", {"--verbose", "-v"}, set_flag<&options::verbose>};
const option_spec tls_ca{"--tls-ca FILE", {"--tls-ca"}, read_file_name<&options::tls_ca>};
const option_spec tls_cert{"--tls-cert FILE", {"--tls-cert"}, read_file_name<&options::tls_cert>};
const option_spec tls_key{"--tls-key FILE", {"--tls-key"}, read_file_name<&options::tls_key>};
const option_spec tls_key_password_file{"--tls-key-password-file FILE",
                                        {"--tls-key-password-file"},
                                        read_file_name<&options::tls_key_password_file>};
const option_spec tls_no_verify_host{
    "--tls-no-verify-host", {"--tls-no-verify-host"}, set_flag<&options::tls_no_verify_host>};

const option_spec read_or_write{"--read|--write", {"--read", "--write"}, read_side};
const option_spec timeout{"--timeout S", {"--timeout"}, read_timeout};
const option_spec try_once{"--try", {"--try"}, set_flag<&options::try_only>};
const option_spec grace{"--grace S", {"--grace"}, read_grace};
const option_spec max_hold{"--max-hold S", {"--max-hold"}, read_max_hold};
const option_spec quiet{"--quiet", {"--quiet", "-q"}, set_flag<&options::quiet>};
const option_spec progress{"--progress", {"--progress"}, set_flag<&options::progress>};
const option_spec max_leases{"--max N", {"--max"}, read_count, no_count};
const option_spec members{"--members N", {"--members"}, read_count, no_count};
const option_spec id{"--id ID", {"--id"}, read_text<&options::id>, no_id};
const option_spec requeue{"--requeue", {"--requeue"}, set_flag<&options::requeue>};
const option_spec watch{"--watch", {"--watch"}, set_flag<&options::watch>};
const option_spec json{"--json", {"--json"}, set_flag<&options::json>};
const option_spec node{"--node NAME", {"--node"}, read_node};
const option_spec force{"--force", {"--force"}, set_flag<&options::force>};
const option_spec metrics{"--metrics ADDR:PORT", {"--metrics"}, read_metrics};
const option_spec scope{"--children|--tree", {"--children", "--tree"}, read_scope};
const option_spec depth{"--depth N", {"--depth"}, read_depth};
const option_spec data{"--data D", {"--data"}, read_text<&options::data>};
const option_spec node_mode{
    "--ephemeral|--persistent|--ttl S", {"--ephemeral", "--persistent", "--ttl"}, read_node_mode};
const option_spec ignore_revocation{
    "--ignore-revocation", {"--ignore-revocation"}, set_flag<&options::ignore_revocation>};
const option_spec base{"--base PATH", {"--base"}, read_base};
const option_spec address{"--address A", {"--address"}, read_text<&options::address>, no_address};
const option_spec port{"--port P", {"--port"}, read_port<&options::port>, no_port};
const option_spec ssl_port{"--ssl-port P", {"--ssl-port"}, read_port<&options::ssl_port>};
const option_spec instance_id{"--id ID", {"--id"}, read_instance_id};
const option_spec payload{"--payload JSON", {"--payload"}, read_payload};
const option_spec uri_spec{"--uri-spec S", {"--uri-spec"}, read_text<&options::uri_spec>};
const option_spec wide{"--long", {"--long"}, set_flag<&options::wide>};
const option_spec claim{"--claim", {"--claim"}, set_flag<&options::claim>};
const option_spec claims_dir{"--claims DIR", {"--claims"}, read_claims_dir};
}  // namespace option

std::span<const option_spec* const> global_options() {
    static constexpr const option_spec* specs[] = {&option::hosts,
                                                   &option::session_timeout,
                                                   &option::auth,
                                                   &option::verbose,
                                                   &option::tls_ca,
                                                   &option::tls_cert,
                                                   &option::tls_key,
                                                   &option::tls_key_password_file,
                                                   &option::tls_no_verify_host};
    return specs;
}

const option_spec* find_option(std::span<const option_spec* const> specs, std::string_view word) {
    const auto found = std::find_if(specs.begin(), specs.end(),
                                    [&](const option_spec* s) { return s->given_by(word); });
    return found == specs.end() ? nullptr : *found;
}

}  // namespace zkr::cli
