// A work queue whose items are each processed exactly once, though consumers die mid-item. Two
// producers put 60 orders on a zkr::queue; three consumers, each a process of its own, claim
// orders (zkr::queue::async_claim), record each in a SQLite table whose key is the order, and
// complete the claim. One consumer kills itself after recording an order and before completing
// it, the worst moment; another is killed from outside (SIGKILL) while it works, and a fourth
// takes its place. A dead consumer's claim goes with its session and its order goes back to the
// queue; whoever claims it next finds the order already recorded (under the older claim's
// fencing token) and completes it without recording it again. The program checks that every
// order was recorded once, that the queue and its claims are empty, and that the orders of the
// dead consumers were claimed again.
//   work_queue HOSTS [DB_FILE]                 (default: a temporary file, deleted at the end)
//   work_queue HOSTS DB_FILE --consume ID [--crash-after N]      one consumer
#include "example.hpp"

#include <zkr/queue.hpp>
#include <zkr/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;
using namespace std::chrono_literals;

constexpr const char* queue_path = "/zkr/work_queue/orders";
constexpr int producers = 2;  // produce(1) and produce(2), side by side
constexpr int orders_each = 30;
constexpr auto consumer_session_timeout = 2000ms;  // a dead consumer's claims go within it
constexpr auto idle_end = 5s;     // a consumer ends once no order came for this long
constexpr auto work_time = 30ms;  // what processing an order takes
constexpr auto tuple = asio::as_tuple(use_awaitable);

// ---- The table: one row per order, written once. ----

struct database {
    sqlite3* db = nullptr;
    explicit database(const std::string& file) {
        if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
            throw std::runtime_error(file + ": " + sqlite3_errmsg(db));
        }
        sqlite3_busy_timeout(db, 10000);  // the consumers write to one file
    }
    ~database() { sqlite3_close(db); }
    database(const database&) = delete;
    database& operator=(const database&) = delete;

    /// Runs one statement with ?1 and ?2 bound; returns its first column's first row (or -1).
    long long sql(const char* text, const std::string& a = {}, long long b = 0) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, text, -1, &st, nullptr) != SQLITE_OK) {
            throw std::runtime_error(sqlite3_errmsg(db));
        }
        sqlite3_bind_text(st, 1, a.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, b);
        const int rc = sqlite3_step(st);
        const long long value = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            throw std::runtime_error(sqlite3_errmsg(db));
        }
        return value;
    }
};

/// Records `order` under the claim's fencing token, unless an earlier claim of it already did
/// (its consumer died before completing): then notes that it was claimed again. Returns that
/// earlier token, or 0 if this one wrote.
long long record(database& d, const std::string& order, long long token) {
    d.sql("BEGIN IMMEDIATE");
    const long long earlier = d.sql("SELECT fence FROM processed WHERE item = ?1", order);
    if (earlier < 0) {
        // The key refuses a second row even if the check above were wrong.
        d.sql("INSERT INTO processed (item, fence) VALUES (?1, ?2)", order, token);
    } else {
        d.sql("INSERT INTO reclaimed (item, fence) VALUES (?1, ?2)", order, token);
    }
    d.sql("COMMIT");
    return earlier < 0 ? 0 : earlier;
}

// ---- A consumer process. ----

asio::awaitable<bool> consume(std::string hosts, std::string db_file, std::string id,
                              int crash_after) {
    zkr::session_config config;
    config.hosts = hosts;
    config.session_timeout = consumer_session_timeout;
    zkr::session s(co_await asio::this_coro::executor, config);
    co_await s.async_connect(use_awaitable);
    zkr::queue orders(s, queue_path);
    database d(db_file);
    asio::steady_timer idle(co_await asio::this_coro::executor),
        work(co_await asio::this_coro::executor);
    for (int done = 0;;) {
        idle.expires_after(idle_end);
        auto r = co_await (orders.async_claim(tuple) || idle.async_wait(tuple));
        if (r.index() == 1) {
            co_return true;  // nothing came for a while: the producers are done
        }
        auto [ec, claim] = std::get<0>(std::move(r));
        if (ec) {
            std::fprintf(stderr, "%s: cannot claim: %s\n", id.c_str(), ec.message().c_str());
            co_return false;
        }
        const auto& order = claim.item().data;
        const long long token = claim.fencing_token();
        work.expires_after(work_time);  // the work the order asks for
        co_await work.async_wait(use_awaitable);
        if (const long long earlier = record(d, order, token); earlier != 0) {
            std::printf(
                "%s: %s was recorded under token %lld by a consumer that died: "
                "completing it\n",
                id.c_str(), order.c_str(), earlier);
        }
        if (++done == crash_after) {
            std::printf("%s: recorded %s, dies before completing it\n", id.c_str(), order.c_str());
            std::fflush(stdout);
            ::raise(SIGKILL);
        }
        if (auto [cec, results] = co_await claim.async_complete({}, tuple); cec) {
            // Refused: the claim went (the session ended) and the order is someone else's now.
            std::printf("%s: completion of %s refused: %s\n", id.c_str(), order.c_str(),
                        cec.message().c_str());
        }
    }
}

// ---- The demonstration. ----

/// Starts a consumer process: this program with --consume.
pid_t start_consumer(const std::string& hosts, const std::string& db_file, const std::string& id,
                     int crash_after = 0) {
    std::vector<std::string> args = {"work_queue", hosts, db_file, "--consume", id};
    if (crash_after > 0) {
        args.insert(args.end(), {"--crash-after", std::to_string(crash_after)});
    }
    std::vector<char*> argv;
    for (auto& a : args) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv.data(), environ) != 0) {
        throw std::runtime_error("cannot start consumer " + id);
    }
    return pid;
}

/// Puts this producer's orders, five to a transaction.
asio::awaitable<void> produce(std::string hosts, int producer) {
    auto s = co_await example::connect(hosts);
    zkr::queue orders(s, queue_path);
    for (int first = 1; first <= orders_each; first += 5) {
        std::vector<std::string> batch;
        for (int n = first; n < first + 5; ++n) {
            batch.push_back("order-" + std::to_string(producer) + "-" + std::to_string(n));
        }
        co_await orders.async_put_many(std::move(batch), use_awaitable);
    }
    co_await s.async_close(use_awaitable);
}

/// Waits until `condition` holds, polling every 50 ms, for at most `limit`.
template <class Condition>
asio::awaitable<bool> eventually(Condition condition, std::chrono::milliseconds limit) {
    asio::steady_timer pace(co_await asio::this_coro::executor);
    for (auto left = limit; left > 0ms; left -= 50ms) {
        if (condition()) {
            co_return true;
        }
        pace.expires_after(50ms);
        co_await pace.async_wait(use_awaitable);
    }
    co_return condition();
}

int wait_for_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

asio::awaitable<bool> demonstrate(std::string hosts, std::string db_file) {
    database d(db_file);
    d.sql("DROP TABLE IF EXISTS processed");
    d.sql("DROP TABLE IF EXISTS reclaimed");
    d.sql("CREATE TABLE processed (item TEXT PRIMARY KEY, fence INTEGER NOT NULL)");
    d.sql("CREATE TABLE reclaimed (item TEXT NOT NULL, fence INTEGER NOT NULL)");
    auto records = [&] { return d.sql("SELECT count(*) FROM processed"); };
    constexpr long long total = producers * orders_each;

    const pid_t crasher = start_consumer(hosts, db_file, "consumer-1", 4);
    const pid_t victim = start_consumer(hosts, db_file, "consumer-2");
    const pid_t steady = start_consumer(hosts, db_file, "consumer-3");
    std::vector<pid_t> consumers = {steady};
    co_await (produce(hosts, 1) && produce(hosts, 2));
    std::printf("%lld orders put by %d producers\n", total, producers);

    // Kill consumer-2 once a third of the orders are recorded, and start consumer-4.
    co_await eventually([&] { return records() >= total / 3; }, 30000ms);
    ::kill(victim, SIGKILL);
    std::printf("consumer-2 killed (SIGKILL) at %lld orders recorded; consumer-4 starts\n",
                records());
    consumers.push_back(start_consumer(hosts, db_file, "consumer-4"));
    const bool crashed = WIFSIGNALED(wait_for_exit(crasher));
    wait_for_exit(victim);

    auto s = co_await example::connect(hosts);
    zkr::queue orders(s, queue_path);
    const bool all_recorded = co_await eventually([&] { return records() == total; }, 60000ms);
    bool consumers_ok = true;
    for (const pid_t pid : consumers) {
        const int status = wait_for_exit(pid);
        consumers_ok = consumers_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    const auto left = co_await orders.async_size(use_awaitable);
    const auto claims =
        co_await s.async_get_children(std::string(queue_path) + "/zkr-claims", tuple);
    const bool claims_empty = std::get<0>(claims) || std::get<1>(claims).names.empty();
    // consumer-1's last order at least was recorded and not completed: claimed again.
    const long long reclaimed = d.sql("SELECT count(*) FROM reclaimed");
    std::printf(
        "%lld orders recorded (one row each), %lld claimed again after a consumer died, "
        "%zu left in the queue, claims %s\n",
        records(), reclaimed, left, claims_empty ? "none" : "LEFT BEHIND");
    co_await s.async_close(use_awaitable);
    co_return crashed&& all_recorded&& reclaimed >= 1 && consumers_ok&& left == 0 && claims_empty;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s HOSTS [DB_FILE] [--consume ID [--crash-after N]]\n",
                     argv[0]);
        return 64;
    }
    if (argc >= 5 && std::string(argv[3]) == "--consume") {
        const int crash_after = argc >= 7 ? std::stoi(argv[6]) : 0;
        return example::run("work_queue",
                            [&] { return consume(argv[1], argv[2], argv[4], crash_after); });
    }
    const auto temp = std::filesystem::temp_directory_path() /
                      ("zkr-work-queue-" + std::to_string(getpid()) + ".db");
    const std::string file = argc > 2 ? argv[2] : temp.string();
    const int status = example::run("work_queue", [&] { return demonstrate(argv[1], file); });
    if (argc <= 2) {
        std::filesystem::remove(temp);
    }
    return status;
}
