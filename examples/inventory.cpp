// The oversell case, fenced end to end. One widget is left and two clerks sell one each. Clerk A
// takes the lock, sees 1 in stock and stalls (a GC pause); meanwhile it loses the lock, clerk B
// takes it and sells the widget. A wakes up still believing it holds the lock and sells too: the
// stock would go to -1. The SQLite table keeps the highest fencing token that wrote to each row and
// refuses writes carrying a lower one, so A's late write is rejected.
//   inventory HOSTS [DB_FILE]     (default: a temporary file, deleted at the end)
#include <zkr/mutex.hpp>
#include <zkr/session.hpp>

#include "example.hpp"

#include <sqlite3.h>
#include <unistd.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/log/core.hpp>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace asio = boost::asio;
using asio::use_awaitable;

// Runs one statement with ?1 bound to `arg`; returns the first column of its first row (or 0).
long long sql(sqlite3* db, const char* text, long long arg = 0) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, text, -1, &st, nullptr) != SQLITE_OK) {
        throw std::runtime_error(sqlite3_errmsg(db));
    }
    sqlite3_bind_int64(st, 1, arg);
    const int rc = sqlite3_step(st);
    const long long value = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        throw std::runtime_error(sqlite3_errmsg(db));
    }
    return value;
}

long long stock(sqlite3* db) {
    return sql(db, "SELECT count FROM stock WHERE item = 'widget'");
}

// Sells one widget on behalf of the holder of `token`: applied only if no newer holder wrote.
bool sell(sqlite3* db, long long token) {
    sql(db, "UPDATE stock SET count = count - 1, fence = ?1 WHERE item = 'widget' AND fence <= ?1",
        token);
    return sqlite3_changes(db) == 1;
}

asio::awaitable<bool> run(std::string hosts, sqlite3* db) {
    sql(db, "DROP TABLE IF EXISTS stock");
    sql(db, "CREATE TABLE stock (item TEXT PRIMARY KEY, count INTEGER, fence INTEGER)");
    sql(db, "INSERT INTO stock VALUES ('widget', 1, 0)");
    auto a = co_await example::connect(hosts), b = co_await example::connect(hosts),
         ops = co_await example::connect(hosts);
    zkr::mutex mutex_a(a, "/zkr/inventory/widget"), mutex_b(b, "/zkr/inventory/widget");

    auto lock_a = co_await mutex_a.async_lock(use_awaitable);
    std::printf("A: holds the lock (token %lld), stock %lld: will sell one\n",
                static_cast<long long>(lock_a.fencing_token()), stock(db));
    // A stalls here (a GC pause) and loses its lock, as when its session expires. Here an operator
    // deletes A's lock node with a session of its own: same effect on the lock, and B gets in.
    co_await ops.async_remove(lock_a.path(), -1, use_awaitable);

    auto lock_b = co_await mutex_b.async_lock(use_awaitable);
    const long long token_b = lock_b.fencing_token();
    std::printf("B: holds the lock (token %lld), stock %lld: ", token_b, stock(db));
    const bool b_sold = sell(db, token_b);
    std::printf("%s\n", b_sold ? "sold" : "REJECTED");
    co_await lock_b.async_release(use_awaitable);

    // A wakes up. Nothing has told it of the loss yet, so its check passes and it sells.
    std::printf("A: wakes up, owns() = %s, sells with token %lld: ",
                lock_a.owns() ? "true" : "false", static_cast<long long>(lock_a.fencing_token()));
    const bool a_sold = lock_a.owns() && sell(db, lock_a.fencing_token());
    std::printf("%s\n", a_sold ? "sold: OVERSOLD" : "rejected, a newer token has written");
    auto [why] = co_await lock_a.async_wait_lost(asio::as_tuple(use_awaitable));
    std::printf("A: learns that its lock was lost: %s\n", why.message().c_str());

    const long long left = stock(db);
    std::printf("stock: %lld, last writer's token: %lld\n", left,
                sql(db, "SELECT fence FROM stock WHERE item = 'widget'"));
    co_return b_sold && !a_sold && left == 0;
}

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s HOSTS [DB_FILE]\n", argv[0]);
        return 64;
    }
    const auto temp = std::filesystem::temp_directory_path() /
                      ("zkr-inventory-" + std::to_string(getpid()) + ".db");
    const std::string file = argc > 2 ? argv[2] : temp.string();
    sqlite3* db = nullptr;
    if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
        std::fprintf(stderr, "inventory: %s: %s\n", file.c_str(), sqlite3_errmsg(db));
        return 1;
    }
    const int status = example::run("inventory", [&] { return run(argv[1], db); });
    sqlite3_close(db);
    if (argc <= 2) {
        std::filesystem::remove(temp);
    }
    return status;
}
