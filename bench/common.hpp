// What the C++ benchmark drivers share: clocks, process CPU and memory, the line protocol with
// bench/orchestrate.py, a tiny JSON writer and node-name helpers. No Asio, no zkr: the floor
// driver includes this too.
//
// The protocol (one line each way, see bench/README.md):
//   <- run SCENARIO key=value...   set up (connect sessions, create the lock directory)
//   (waiters only:
//   -> setup                       sessions connected, the holder holds the lock
//   <- queue                       start the waiters)
//   -> ready                       nothing measured has started yet
//   <- go                          start measuring
//   -> done {json}                 measuring is over; the sessions are still open
//   <- end                         close the sessions
//   -> closed
//   <- quit
// Any failure: "error <text>" on stdout, details on stderr, exit status 1.
#pragma once

#include <malloc.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

/// CLOCK_MONOTONIC in nanoseconds: the clock every driver (C++, Java, Python) stamps with.
inline std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

/// User plus system CPU time of the whole process (every thread, the C client's included).
inline std::int64_t cpu_ns() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto ns = [](const timeval& tv) {
        return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 +
               static_cast<std::int64_t>(tv.tv_usec) * 1000;
    };
    return ns(ru.ru_utime) + ns(ru.ru_stime);
}

/// Resident set size from /proc/self/statm.
inline std::int64_t rss_bytes() {
    long pages_total = 0;
    long pages_resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) {
            pages_resident = 0;
        }
        std::fclose(f);
    }
    return static_cast<std::int64_t>(pages_resident) * sysconf(_SC_PAGESIZE);
}

/// Threads of this process (/proc/self/status).
inline int thread_count() {
    int threads = -1;
    if (FILE* f = std::fopen("/proc/self/status", "r")) {
        char line[256];
        while (std::fgets(line, sizeof line, f) != nullptr) {
            if (std::sscanf(line, "Threads: %d", &threads) == 1) {
                break;
            }
        }
        std::fclose(f);
    }
    return threads;
}

/// Bytes handed out by malloc and not yet freed (glibc's view; free lists not counted).
inline std::int64_t heap_bytes() {
    const auto mi = mallinfo2();
    return static_cast<std::int64_t>(mi.uordblks + mi.hblkhd);
}

/// A session id as the server's `cons` four-letter word shows it.
inline std::string session_hex(std::int64_t id) {
    char text[32];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(id));
    return text;
}

[[noreturn]] inline void die(const std::string& what) {
    std::cout << "error " << what << std::endl;
    std::cerr << "driver: " << what << std::endl;
    std::_Exit(1);
}

inline void say(const std::string& line) {
    std::cout << line << std::endl;  // endl flushes: the orchestrator waits for the line
}

struct command {
    std::string verb;
    std::string scenario;
    std::map<std::string, std::string> args;

    std::string get(const std::string& key, const std::string& fallback = "") const {
        auto it = args.find(key);
        return it == args.end() ? fallback : it->second;
    }
    long long get_int(const std::string& key, long long fallback) const {
        auto it = args.find(key);
        return it == args.end() ? fallback : std::stoll(it->second);
    }
    double get_double(const std::string& key, double fallback) const {
        auto it = args.find(key);
        return it == args.end() ? fallback : std::stod(it->second);
    }
};

/// Reads the next command; end of input counts as "quit".
inline command read_command() {
    command c;
    std::string line;
    if (!std::getline(std::cin, line)) {
        c.verb = "quit";
        return c;
    }
    std::istringstream in(line);
    in >> c.verb;
    if (c.verb == "run") {
        in >> c.scenario;
    }
    std::string token;
    while (in >> token) {
        const auto eq = token.find('=');
        if (eq != std::string::npos) {
            c.args[token.substr(0, eq)] = token.substr(eq + 1);
        }
    }
    return c;
}

/// A driver's "--key value" arguments.
inline std::map<std::string, std::string> options(int argc, char** argv) {
    std::map<std::string, std::string> opt;
    for (int i = 1; i + 1 < argc; i += 2) {
        opt[argv[i]] = argv[i + 1];
    }
    return opt;
}

/// Waits for `verb` on stdin; anything else is a protocol error.
inline void expect(const std::string& verb) {
    const auto c = read_command();
    if (c.verb != verb) {
        die("expected '" + verb + "', got '" + c.verb + "'");
    }
}

/// A scenario: set up, "ready", measure on "go", "done {json}", close on "end".
using scenario = std::function<void(const command&)>;

/// A driver's command loop: runs each "run SCENARIO key=value..." command's scenario, then says
/// "closed" (the scenario has closed its sessions by then), until "quit" or the end of input.
/// Another command or an unknown scenario is a protocol error.
inline void command_loop(const std::map<std::string, scenario>& scenarios) {
    for (;;) {
        const auto cmd = read_command();
        if (cmd.verb == "quit") {
            return;
        }
        if (cmd.verb != "run") {
            die("unknown command '" + cmd.verb + "'");
        }
        const auto it = scenarios.find(cmd.scenario);
        if (it == scenarios.end()) {
            die("unknown scenario '" + cmd.scenario + "'");
        }
        it->second(cmd);
        say("closed");
    }
}

/// A flat JSON object of numbers and integer arrays, built in order.
class json {
  public:
    json& num(std::string_view key, std::int64_t v) {
        sep(key);
        out_ << v;
        return *this;
    }
    json& real(std::string_view key, double v) {
        sep(key);
        out_ << v;
        return *this;
    }
    json& boolean(std::string_view key, bool v) {
        sep(key);
        out_ << (v ? "true" : "false");
        return *this;
    }
    json& str(std::string_view key, std::string_view v) {
        sep(key);
        out_ << '"' << v << '"';  // callers pass plain identifiers only
        return *this;
    }
    json& array(std::string_view key, const std::vector<std::int64_t>& v) {
        sep(key);
        out_ << '[';
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i != 0) {
                out_ << ',';
            }
            out_ << v[i];
        }
        out_ << ']';
        return *this;
    }
    std::string text() const {
        std::string s(1, '{');  // not "{" + str(): g++ 12 warns falsely (-Wrestrict) on that
        s += out_.str();
        s += '}';
        return s;
    }

  private:
    void sep(std::string_view key) {
        if (!first_) {
            out_ << ',';
        }
        first_ = false;
        out_ << '"' << key << "\":";
    }
    std::ostringstream out_;
    bool first_ = true;
};

/// The sequence number ZooKeeper appended to a sequential node's name (its last 10 digits).
inline std::int64_t sequence_of(std::string_view name) {
    if (name.size() < 10) {
        return -1;
    }
    std::int64_t v = 0;
    for (char ch : name.substr(name.size() - 10)) {
        if (ch < '0' || ch > '9') {
            return -1;
        }
        v = v * 10 + (ch - '0');
    }
    return v;
}

/// splitmix64: eight bytes of state per contender (a floor contender must not weigh more than
/// what a lock needs; std::mt19937_64 alone is 2.5 KB).
inline std::uint64_t next_random(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// A random version-4 UUID in text form: the protected-mode part of a lock node's name.
inline std::string random_uuid(std::uint64_t& state) {
    static constexpr char hex[] = "0123456789abcdef";
    const std::uint64_t a = next_random(state);
    const std::uint64_t b = next_random(state);
    std::string s(36, '-');
    int bit = 0;
    for (int i = 0; i < 36; ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            continue;
        }
        const std::uint64_t word = bit < 64 ? a : b;
        s[i] = hex[(word >> (bit % 64)) & 0xf];
        bit += 4;
    }
    s[14] = '4';
    s[19] = hex[8 | (b & 3)];
    return s;
}

/// Records of a contended run: one (acquire-return, release-call) pair per acquisition, in ns
/// since "go". The orchestrator merges them on the one clock for hand-off latency and exclusion.
struct contended_records {
    std::vector<std::int64_t> acquired;
    std::vector<std::int64_t> released;
    std::vector<std::int64_t> who;
};

/// What a waiters scenario measured (times in ns, memory growth in bytes).
struct waiters_result {
    std::size_t waiters = 0;
    std::vector<std::int64_t> order;  ///< sequence numbers in acquisition order
    std::int64_t wall_ns = 0;
    std::int64_t cpu_ns = 0;
    std::int64_t queued_ns = 0;
    std::int64_t heap_bytes = 0;
    std::int64_t rss_bytes = 0;
    long violations = 0;
    std::int64_t refused = 0;  ///< waiters the library refused at once (too many watches)
};

/// What N idle sessions cost (scenario "sessions").
struct sessions_result {
    std::size_t sessions;
    std::int64_t wall_ns;  ///< opening and connecting all of them
    std::int64_t threads_added;
    std::int64_t rss_bytes;
    std::int64_t heap_bytes;
    std::int64_t cpu_ns = 0;  ///< the process's CPU while they connected
};

/// The baseline of a memory measurement: the allocator gives back what earlier scenarios freed,
/// so that growth shows as resident memory instead of filling recycled pages.
inline void trim_memory() {
    malloc_trim(0);
}

inline void say_sessions(const sessions_result& r) {
    say("done " + json()
                      .num("cycles", static_cast<std::int64_t>(r.sessions))
                      .num("sessions", static_cast<std::int64_t>(r.sessions))
                      .num("wall_ns", r.wall_ns)
                      .num("cpu_ns", r.cpu_ns)
                      .num("threads_added", r.threads_added)
                      .num("rss_bytes", r.rss_bytes)
                      .num("heap_bytes", r.heap_bytes)
                      .text());
}

/// The "done" line of a waiters scenario. FIFO: sequence numbers strictly increasing.
inline void say_done(const waiters_result& r) {
    const bool fifo = std::is_sorted(r.order.begin(), r.order.end()) &&
                      std::adjacent_find(r.order.begin(), r.order.end()) == r.order.end();
    say("done " + json()
                      .num("waiters", static_cast<std::int64_t>(r.waiters))
                      .num("cycles", static_cast<std::int64_t>(r.order.size()))
                      .num("wall_ns", r.wall_ns)
                      .num("cpu_ns", r.cpu_ns)
                      .num("queued_ns", r.queued_ns)
                      .num("heap_bytes", r.heap_bytes)
                      .num("rss_bytes", r.rss_bytes)
                      .boolean("fifo", fifo)
                      .num("violations", r.violations)
                      .num("refused", r.refused)
                      .text());
}

}  // namespace bench
