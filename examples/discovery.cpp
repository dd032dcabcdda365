// Service discovery: three instances of a tiny TCP echo service, each a process of its own,
// register under /services/echo (zkr::service_discovery, in Curator's layout, on a session
// with a short timeout). A client follows the service with a zkr::service_cache and calls the
// instances in turn through a round-robin zkr::service_provider. Then one instance is killed
// (SIGKILL: it cannot unregister). The first call to it fails; the client reports it down
// (note_error) and stops choosing it; its session expires and the cache drops it. The program
// checks that the instances were called in turn, that no call failed but that one, that the
// dead instance was never chosen again, and that the cache dropped it within its session
// timeout.
//   discovery HOSTS               the client; it starts the instances and stops them
//   discovery HOSTS --serve ID    one instance: serves until its standard input closes
#include "example.hpp"

#include <zkr/service_cache.hpp>
#include <zkr/service_discovery.hpp>
#include <zkr/service_provider.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
constexpr auto tuple = asio::as_tuple(asio::use_awaitable);

namespace {

const std::string service = "echo";
/// The instances' session timeout: how long a dead instance stays registered.
constexpr auto instance_session_timeout = 1500ms;
/// What the server adds to a session timeout before it expires the session (it checks every
/// tick, 200 ms for tools/zk.sh), and the notification's way to the cache.
constexpr auto expiry_slack = 1000ms;

long long ms(clock_type::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// ---- One instance: a TCP echo server that answers each line with its id and the line. ----

asio::awaitable<void> echo(tcp::socket socket, std::string id) {
    std::string buffer;
    for (;;) {
        auto [ec, n] =
            co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), '\n', tuple);
        if (ec) {
            co_return;  // the caller hung up
        }
        const auto reply = id + " " + buffer.substr(0, n);
        buffer.erase(0, n);
        if (auto [wec, w] = co_await asio::async_write(socket, asio::buffer(reply), tuple); wec) {
            co_return;
        }
    }
}

asio::awaitable<void> accept_calls(tcp::acceptor& acceptor, std::string id) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(tuple);
        if (ec) {
            co_return;
        }
        asio::co_spawn(acceptor.get_executor(), echo(std::move(socket), id), asio::detached);
    }
}

asio::awaitable<bool> serve(std::string hosts, std::string id) {
    auto ex = co_await asio::this_coro::executor;
    tcp::acceptor acceptor(ex, {asio::ip::make_address("127.0.0.1"), 0});  // any free port
    zkr::session_config config;
    config.hosts = hosts;
    config.session_timeout = instance_session_timeout;
    config.renew_after_expiry = true;  // a live instance comes back after an expiry
    zkr::session s(ex, config);
    co_await s.async_connect(asio::use_awaitable);
    zkr::service_discovery discovery(s);
    zkr::service_instance instance;
    instance.name = service;
    instance.id = id;
    instance.address = "127.0.0.1";
    instance.port = acceptor.local_endpoint().port();
    auto registration = co_await discovery.async_register(instance, asio::use_awaitable);
    std::printf("%s: serving on 127.0.0.1:%d, registered\n", id.c_str(), *instance.port);
    std::fflush(stdout);
    // Serves until standard input (a pipe from the client) closes: how the client stops an
    // instance, and how an instance whose client died ends.
    asio::posix::stream_descriptor client(ex, ::dup(STDIN_FILENO));
    char byte = 0;
    co_await (accept_calls(acceptor, id) || client.async_read_some(asio::buffer(&byte, 1), tuple));
    co_await registration.async_unregister(asio::use_awaitable);
    co_await s.async_close(asio::use_awaitable);
    std::printf("%s: unregistered, stopped\n", id.c_str());
    co_return true;
}

// ---- The client. ----

/// An instance's process, and the write end of its standard input.
struct instance_process {
    std::string id;
    pid_t pid = -1;
    int input = -1;
};

/// Starts this program as instance `id`. Its standard input is a pipe that only the client
/// holds open (close-on-exec keeps it out of the other instances).
instance_process start_instance(const char* self, const std::string& hosts, const std::string& id) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe2 failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
    std::string serve_flag = "--serve";
    std::vector<char*> argv{const_cast<char*>(self), const_cast<char*>(hosts.c_str()),
                            serve_flag.data(), const_cast<char*>(id.c_str()), nullptr};
    pid_t pid = -1;
    const int failed = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[0]);
    if (failed != 0) {
        ::close(fds[1]);
        throw std::runtime_error("cannot start instance " + id);
    }
    return {id, pid, fds[1]};
}

/// Waits for the process to end (a killed one ends at once; a stopped one once it has
/// unregistered); its exit status as the shell's $?.
int reap(instance_process& p) {
    if (p.input >= 0) {
        ::close(p.input);
        p.input = -1;
    }
    int status = 0;
    ::waitpid(p.pid, &status, 0);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

/// Calls `instance`: one line sent, its echo read. The answer (the answering instance's id and
/// the line), or the error that tells the caller the instance is down.
asio::awaitable<std::pair<boost::system::error_code, std::string>> call(
    const zkr::service_instance& instance, const std::string& text) {
    tcp::socket socket(co_await asio::this_coro::executor);
    const tcp::endpoint at(asio::ip::make_address(instance.address),
                           static_cast<unsigned short>(*instance.port));
    if (auto [ec] = co_await socket.async_connect(at, tuple); ec) {
        co_return std::pair(ec, std::string{});
    }
    const auto line = text + "\n";
    if (auto [ec, n] = co_await asio::async_write(socket, asio::buffer(line), tuple); ec) {
        co_return std::pair(ec, std::string{});
    }
    std::string answer;
    auto [ec, n] =
        co_await asio::async_read_until(socket, asio::dynamic_buffer(answer), '\n', tuple);
    co_return std::pair(ec, ec ? std::string{} : answer.substr(0, n - 1));
}

/// What the client learns from the cache's events: when each instance left it, and a timer
/// cancelled at each event, which wakes up whoever waits for a condition on the cache.
struct cache_changes {
    asio::steady_timer changed;
    std::map<std::string, clock_type::time_point> removed_at;
};

/// Follows the cache's events (printing them) until it is cancelled or the cache fails.
asio::awaitable<void> follow(zkr::service_cache& cache, cache_changes& changes) {
    for (;;) {
        auto [ec, event] = co_await cache.async_wait_event(tuple);
        if (ec) {
            co_return;
        }
        if (event.type == zkr::cache_event_type::removed) {
            changes.removed_at[event.id] = clock_type::now();
        }
        if (!event.id.empty()) {
            std::printf("  cache: %s %s\n", zkr::to_string(event.type), event.id.c_str());
        }
        changes.changed.cancel();
    }
}

/// Waits until `holds()`, at most `limit`; whether it held.
asio::awaitable<bool> wait_for(cache_changes& changes, const std::function<bool()>& holds,
                               clock_type::duration limit) {
    const auto deadline = clock_type::now() + limit;
    while (!holds()) {
        if (clock_type::now() >= deadline) {
            co_return false;
        }
        changes.changed.expires_at(deadline);
        co_await changes.changed.async_wait(tuple);  // ends at the deadline or an event
    }
    co_return true;
}

/// How many instances the cache lists (with `id`: 1 if it lists that one, else 0).
std::size_t listed(const zkr::service_cache& cache, const std::string& id = {}) {
    const auto instances = cache.instances();
    if (!instances) {
        return 0;
    }
    return static_cast<std::size_t>(
        std::count_if(instances->begin(), instances->end(),
                      [&](const zkr::service_instance& i) { return id.empty() || i.id == id; }));
}

/// The scenario (see the file comment), with `instances` started and `cache` started.
asio::awaitable<bool> calls(std::vector<instance_process>& instances, zkr::service_cache& cache,
                            cache_changes& changes) {
    bool holds = true;
    auto check = [&](bool ok, const std::string& what) {
        std::printf("  %s %s\n", ok ? "ok:  " : "FAIL:", what.c_str());
        holds = holds && ok;
    };
    check(co_await wait_for(
              changes, [&] { return listed(cache) == 3; }, 30s),
          "the cache lists the three instances");

    zkr::provider_options options;
    options.strategy = zkr::provider_strategy::round_robin;
    // One failed call marks an instance down, for longer than its registration can outlive it.
    options.down.error_threshold = 1;
    options.down.timeout = 60s;
    zkr::service_provider provider(cache, options);

    // Round one: six calls, each instance in turn (twice round, in the same order).
    std::vector<std::string> answered;
    for (int n = 1; n <= 6; ++n) {
        const auto chosen = provider.get_instance();
        if (!chosen) {
            check(false, "an instance to call");
            co_return false;
        }
        auto [ec, answer] = co_await call(*chosen, "hello " + std::to_string(n));
        std::printf("call %d -> %s\n", n,
                    ec ? (chosen->id + " failed: " + ec.message()).c_str() : answer.c_str());
        answered.push_back(ec ? "(failed)" : answer.substr(0, answer.find(' ')));
    }
    const std::set<std::string> first_round(answered.begin(), answered.begin() + 3);
    check(first_round == std::set<std::string>{"echo-1", "echo-2", "echo-3"} &&
              std::equal(answered.begin(), answered.begin() + 3, answered.begin() + 3),
          "round robin called each instance in turn, twice round");

    // echo-2 dies without unregistering. The calls go on, one every 100 ms, until the cache has
    // dropped it, and a few more after.
    auto& victim = instances[1];
    ::kill(victim.pid, SIGKILL);
    const auto killed_at = clock_type::now();
    reap(victim);
    std::printf("killed %s (SIGKILL)\n", victim.id.c_str());
    asio::steady_timer pace(co_await asio::this_coro::executor);
    int failed = 0;
    int chosen_after_failure = 0;
    int after_drop = 0;
    for (int n = 7; after_drop < 4 && clock_type::now() - killed_at < 20s; ++n) {
        after_drop += changes.removed_at.count(victim.id);
        const auto chosen = provider.get_instance();
        if (!chosen) {
            check(false, "an instance to call");
            break;
        }
        chosen_after_failure += failed > 0 && chosen->id == victim.id;
        auto [ec, answer] = co_await call(*chosen, "hello " + std::to_string(n));
        if (ec) {
            ++failed;
            provider.note_error(*chosen);  // down: skipped from now on
            std::printf("call %d -> %s: %s (+%lld ms): reported down\n", n, chosen->id.c_str(),
                        ec.message().c_str(), ms(clock_type::now() - killed_at));
        } else {
            std::printf("call %d -> %s\n", n, answer.c_str());
        }
        pace.expires_after(100ms);
        co_await pace.async_wait(tuple);
    }
    check(failed <= 1, "no failed call but the one that told the client (" +
                           std::to_string(failed) + " failed)");
    check(chosen_after_failure == 0, "the dead instance was not chosen after that call");
    const auto dropped = changes.removed_at.find(victim.id);
    const bool dropped_in_time =
        dropped != changes.removed_at.end() &&
        dropped->second - killed_at <= instance_session_timeout + expiry_slack;
    check(dropped_in_time, dropped == changes.removed_at.end()
                               ? std::string("the cache never dropped the dead instance")
                               : "the cache dropped it " +
                                     std::to_string(ms(dropped->second - killed_at)) +
                                     " ms after its death (session timeout " +
                                     std::to_string(ms(instance_session_timeout)) + " ms)");
    check(listed(cache) == 2 && listed(cache, victim.id) == 0, "the cache lists the other two");
    co_return holds;
}

asio::awaitable<bool> client(const char* self, std::string hosts) {
    std::vector<instance_process> instances;
    for (const auto* id : {"echo-1", "echo-2", "echo-3"}) {
        instances.push_back(start_instance(self, hosts, id));
    }
    auto s = co_await example::connect(hosts);
    zkr::service_discovery discovery(s);
    zkr::service_cache cache(discovery, service);
    co_await cache.async_start(asio::use_awaitable);
    cache_changes changes{asio::steady_timer(s.get_executor()), {}};
    // follow() runs for as long as the scenario does: `||` cancels it then.
    auto done = co_await (follow(cache, changes) || calls(instances, cache, changes));
    bool holds = done.index() == 1 && std::get<1>(done);
    if (done.index() == 0) {
        std::printf("  FAIL: the cache stopped\n");
    }

    // The others stop: they unregister on their way out.
    for (auto& p : instances) {
        if (p.input >= 0) {
            holds = reap(p) == 0 && holds;
        }
    }
    auto query = co_await discovery.async_query(service, asio::use_awaitable);
    const bool left = query.empty();
    std::printf("  %s the stopped instances unregistered\n", left ? "ok:  " : "FAIL:");
    cache.close();
    co_await s.async_close(asio::use_awaitable);
    holds = holds && left;
    std::printf("%s\n", holds ? "discovery held" : "discovery did NOT hold");
    co_return holds;
}

}  // namespace

int main(int argc, char** argv) {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // the instances' lines and ours, in order
    if (argc == 4 && std::string(argv[2]) == "--serve") {
        return example::run("discovery", [hosts = std::string(argv[1]), id = std::string(argv[3])] {
            return serve(hosts, id);
        });
    }
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s HOSTS\n", argv[0]);
        return 64;
    }
    return example::run("discovery", [self = argv[0], hosts = std::string(argv[1])] {
        return client(self, hosts);
    });
}
