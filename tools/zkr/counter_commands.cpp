// zkr counter get, set and add: a counter many processes share, in Curator's layouts (so Java
// services using SharedCount or DistributedAtomicLong, and kazoo's Counter, share it): the
// 32-bit zkr::shared_count, or with --long the 64-bit zkr::atomic_long. Prints the value, after
// the change for set and add.
#include "handlers.hpp"

#include <zkr/atomic_long.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_count.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <tuple>

namespace zkr::cli {

namespace asio = boost::asio;

namespace {

/// Tells what went wrong with the counter on stderr; zkr's exit status for it: 64 when the
/// node is not a counter (data of another kind: nothing was changed) or the sum leaves the
/// counter's range (nothing written), 69 for the rest.
int failed(const options& o, error_code ec) {
    // The library's invalid_argument speaks of ranges in general: say which one.
    const auto why = ec == errc::invalid_argument
                         ? std::string(
                               "the sum leaves the 32-bit range (--long counts in 64 bits); "
                               "nothing was written")
                         : ec.message();
    std::fprintf(stderr, "zkr: cannot %s counter %s: %s\n", o.action.c_str(), o.path.c_str(),
                 why.c_str());
    return ec == errc::not_a_counter || ec == errc::invalid_argument ? exit_usage
                                                                     : exit_unavailable;
}

/// Prints the value, or tells what went wrong: zkr's exit status.
int report(const options& o, error_code ec, std::int64_t value) {
    if (ec) {
        return failed(o, ec);
    }
    std::printf("%lld\n", static_cast<long long>(value));
    return 0;
}

/// SharedCount's layout: N was checked against int32 when the command line was read.
asio::awaitable<int> run_shared_count(session& s, const options& o) {
    shared_count counter(s, o.path);
    const auto n = static_cast<std::int32_t>(o.number);
    std::tuple<error_code, versioned_count> r;
    if (o.action == "get") {
        r = co_await counter.async_get(tuple);
    } else if (o.action == "set") {
        r = co_await counter.async_set(n, tuple);
    } else {
        r = co_await counter.async_add(n, tuple);
    }
    co_return report(o, std::get<0>(r), std::get<1>(r).value);
}

/// DistributedAtomicLong's layout.
asio::awaitable<int> run_atomic_long(session& s, const options& o) {
    atomic_long counter(s, o.path);
    if (o.action == "get") {
        auto [ec, value] = co_await counter.async_get(tuple);
        co_return report(o, ec, value);
    }
    std::tuple<error_code, atomic_change> r;
    if (o.action == "set") {
        r = co_await counter.async_set(o.number, tuple);
    } else {
        r = co_await counter.async_add(o.number, tuple);
    }
    co_return report(o, std::get<0>(r), std::get<1>(r).after);
}

}  // namespace

asio::awaitable<int> run_counter(session& s, const options& o) {
    // Not a conditional expression around the co_awaits: g++ 12 destroys such temporaries twice.
    if (o.wide) {
        co_return co_await run_atomic_long(s, o);
    }
    co_return co_await run_shared_count(s, o);
}

}  // namespace zkr::cli
