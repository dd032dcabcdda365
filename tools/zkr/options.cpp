#include "options.hpp"

#include <zkr/path.hpp>

#include <unistd.h>

#include <charconv>
#include <cstdlib>

namespace zkr::cli {
namespace {

bool to_number(const std::string& text, long long& out) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc{} && end == text.data() + text.size();
}

// The ranges of the numbers on the command line (what zkr::session_config and the timers take).
constexpr long long max_session_timeout_ms = 24LL * 60 * 60 * 1000;  // session_config's limit
constexpr long long max_seconds = 366LL * 24 * 60 * 60;              // a year: longer is a mistake
constexpr long long max_leases = 1000000;

}  // namespace

const char* usage_text() {
    return "usage: zkr [--hosts HOSTS] [--session-timeout MS] [--auth USER:PASS] [--verbose] "
           "COMMAND ...\n"
           "       zkr --version\n"
           "\n"
           "  zkr lock [--read|--write] [--timeout S] [--try] [--grace S] [--quiet] [--progress] "
           "PATH -- CMD [ARGS...]\n"
           "  zkr semaphore --max N [--timeout S] [--try] [--grace S] [--quiet] [--progress] PATH "
           "-- CMD [ARGS...]\n"
           "  zkr elect --id ID [--timeout S] [--grace S] [--quiet] [--progress] PATH -- CMD "
           "[ARGS...]\n"
           "  zkr leader [--watch] PATH\n"
           "  zkr status [--json] PATH\n"
           "  zkr barrier set|remove|wait [--timeout S] PATH\n"
           "  zkr barrier enter --members N [--timeout S] [--grace S] [--quiet] PATH -- CMD "
           "[ARGS...]\n"
           "  zkr members [--watch] PATH\n"
           "\n"
           "lock, semaphore and elect run CMD while holding the lock, a lease, or leadership. CMD "
           "gets\n"
           "ZKR_LOCK_PATH and ZKR_FENCING_TOKEN; INT, TERM and HUP are forwarded to it; if the "
           "lock is\n"
           "lost it gets SIGTERM, then SIGKILL after --grace seconds (default 10).\n"
           "HOSTS defaults to $ZKR_HOSTS, then 127.0.0.1:2181.\n"
           "\n"
           "Exit status: CMD's own (128+N if killed by signal N); 64 usage error; 69 cannot "
           "connect or\n"
           "session failed before acquiring; 75 not acquired (--try busy, --timeout passed); 76 "
           "lost\n"
           "while CMD ran.\n";
}

std::optional<options> parse_options(int argc, char** argv, std::string& error) {
    options o;
    if (const char* env = std::getenv("ZKR_HOSTS"); env != nullptr && *env != '\0') {
        o.hosts = env;
    } else {
        o.hosts = "127.0.0.1:2181";
    }
    std::vector<std::string> args(argv + 1, argv + argc);
    std::size_t i = 0;
    auto value = [&](const std::string& flag, std::string& out) {
        if (i + 1 >= args.size()) {
            error = flag + " needs a value";
            return false;
        }
        out = args[++i];
        return true;
    };
    // Every number is checked against its range: an out-of-range value is a usage error, never
    // a wrapped or saturated value that changes the meaning of the command.
    auto number = [&](const std::string& flag, long long low, long long high, long long& out) {
        std::string text;
        if (!value(flag, text)) {
            return false;
        }
        if (!to_number(text, out) || out < low || out > high) {
            error = flag + " takes a whole number from " + std::to_string(low) + " to " +
                    std::to_string(high) + ", not '" + text + "'";
            return false;
        }
        return true;
    };
    // Global options, then the command name.
    for (; i < args.size() && o.command_name.empty(); ++i) {
        const auto& a = args[i];
        long long n = 0;
        if (a == "-h" || a == "--help") {
            return std::nullopt;
        } else if (a == "--version") {
            o.version = true;
            return o;
        } else if (a == "--hosts") {
            if (!value(a, o.hosts))
                return std::nullopt;
        } else if (a == "--session-timeout") {
            if (!number(a, 100, max_session_timeout_ms, n))
                return std::nullopt;
            o.session_timeout = std::chrono::milliseconds(n);
        } else if (a == "--auth") {
            if (!value(a, o.auth))
                return std::nullopt;
            if (o.auth.find(':') == std::string::npos) {
                error = "--auth takes USER:PASS";
                return std::nullopt;
            }
        } else if (a == "--verbose" || a == "-v") {
            o.verbose = true;
        } else if (!a.empty() && a[0] == '-') {
            error = "unknown option " + a;
            return std::nullopt;
        } else {
            o.command_name = a;
        }
    }
    const auto& cmd = o.command_name;
    if (cmd != "lock" && cmd != "semaphore" && cmd != "elect" && cmd != "leader" &&
        cmd != "status" && cmd != "barrier" && cmd != "members") {
        error = cmd.empty() ? "no command given" : "unknown command " + cmd;
        return std::nullopt;
    }
    // `zkr barrier enter` runs a command too, which its action (parsed below) tells.
    auto runs_command = [&] {
        return cmd == "lock" || cmd == "semaphore" || cmd == "elect" ||
               (cmd == "barrier" && o.action == "enter");
    };
    // Command options and PATH, up to "--".
    for (; i < args.size(); ++i) {
        const auto& a = args[i];
        long long n = 0;
        if (a == "--") {
            o.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        }
        if ((a == "--read" || a == "--write") && cmd == "lock") {
            if (!o.side.empty()) {
                error = "--read and --write exclude each other";
                return std::nullopt;
            }
            o.side = a.substr(2);
        } else if (a == "--timeout" && (runs_command() || cmd == "barrier")) {
            if (!number(a, 0, max_seconds, n))
                return std::nullopt;
            o.timeout = std::chrono::seconds(n);
            if (n == 0) {
                o.try_only = true;  // no time to wait: one look, as --try
            }
        } else if (a == "--try" && (cmd == "lock" || cmd == "semaphore")) {
            o.try_only = true;
        } else if (a == "--grace" && runs_command()) {
            if (!number(a, 0, max_seconds, n))
                return std::nullopt;
            o.grace = std::chrono::seconds(n);
        } else if ((a == "--quiet" || a == "-q") && runs_command()) {
            o.quiet = true;
        } else if (a == "--progress" && runs_command() && cmd != "barrier") {
            o.progress = true;
        } else if ((a == "--max" && cmd == "semaphore") ||
                   (a == "--members" && cmd == "barrier" && o.action == "enter")) {
            if (!number(a, 1, max_leases, n))
                return std::nullopt;
            o.max = static_cast<int>(n);
        } else if (a == "--id" && cmd == "elect") {
            if (!value(a, o.id))
                return std::nullopt;
        } else if (a == "--watch" && (cmd == "leader" || cmd == "members")) {
            o.watch = true;
        } else if (a == "--json" && cmd == "status") {
            o.json = true;
        } else if (!a.empty() && a[0] == '-') {
            error = "unknown option " + a + " for " + cmd;
            return std::nullopt;
        } else if (cmd == "barrier" && o.action.empty()) {
            if (a != "set" && a != "remove" && a != "wait" && a != "enter") {
                error = "barrier takes set, remove, wait or enter, not '" + a + "'";
                return std::nullopt;
            }
            o.action = a;
        } else if (o.path.empty()) {
            o.path = a;
        } else {
            error =
                "unexpected argument " + a + (runs_command() ? " (put the command after --)" : "");
            return std::nullopt;
        }
    }
    std::string path_problem;
    if (cmd == "barrier" && o.action.empty()) {
        error = "barrier needs set, remove, wait or enter";
    } else if (o.path.empty()) {
        error = cmd + " needs a PATH";
    } else if (zkr::validate_path(o.path, &path_problem)) {
        error = "PATH " + o.path + " is not a valid ZooKeeper path: " + path_problem;
    } else if (runs_command() && o.command.empty()) {
        error = cmd + " needs a command after --";
    } else if (!runs_command() && !o.command.empty()) {
        error = cmd + " runs no command";
    } else if (cmd == "barrier" && o.action == "enter" && o.max == 0) {
        error = "barrier enter needs --members N";
    } else if (cmd == "semaphore" && o.max == 0) {
        error = "semaphore needs --max N";
    } else if (cmd == "elect" && o.id.empty()) {
        error = "elect needs --id ID";
    }
    if (!error.empty()) {
        return std::nullopt;
    }
    return o;
}

bool options::show_progress() const {
    return !quiet && (progress || ::isatty(STDERR_FILENO) == 1);
}

}  // namespace zkr::cli
