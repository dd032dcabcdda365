// A cache's run over the fake session, as the cache step tests make it: the cache started, its
// events waited for all along, another client's writes with the cache left to settle after
// each, then the cache closed. The trace keeps what the run saw for the tests' checks, which
// differ by cache; the run and the fault loop around it do not.
#pragma once

#include "fake_session.hpp"

#include <zkr/cache_event.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace zkr::test {

/// What one run of a cache saw.
struct cache_trace {
    int start_completions = 0;
    error_code start_ec;
    std::size_t requests_at_start = 0;  ///< requests made when the start completed
    std::vector<cache_event> events;
    error_code end_ec;  ///< what the waits ended with, if they did
    std::vector<std::string> requests;
    bool fault_applied = false;
    std::size_t watches_left = 0;  ///< the session's watches once the cache is closed

    /// True if one of the events is `resynced`.
    bool resynced() const;
    /// The requests, the events (each as `describe` writes it) and how the start and the
    /// waits ended: what a failed check shows.
    std::string str(const std::function<std::string(const cache_event&)>& describe) const;
};

/// Runs `cache` on `s`: starts it, waits for its events all along (a cancelled wait is made
/// again: the events stay queued for the next one), and drains `ioc` once started and after
/// each of `writes`. The caller cancels through s.on_cancel: the start while it runs, the wait
/// after. Then `look` sees the open cache, and the cache is closed (its last owner dropped).
template <class Cache>
cache_trace follow_cache(boost::asio::io_context& ioc, fake_server& server,
                         const std::shared_ptr<fake_session>& s, std::shared_ptr<Cache> cache,
                         const std::vector<std::function<void()>>& writes,
                         const std::function<void(const Cache&)>& look) {
    namespace asio = boost::asio;
    cache_trace r;
    asio::cancellation_signal cancel_start;
    asio::cancellation_signal cancel;
    s->on_cancel = [&] {
        (r.start_completions == 0 ? cancel_start : cancel).emit(asio::cancellation_type::terminal);
    };
    cache->async_start(asio::bind_cancellation_slot(cancel_start.slot(), [&](error_code ec) {
        ++r.start_completions;
        r.start_ec = ec;
        r.requests_at_start = s->requests().size();
    }));
    bool closing = false;
    std::function<void()> wait = [&] {
        cache->async_wait_event(
            asio::bind_cancellation_slot(cancel.slot(), [&](error_code ec, cache_event e) {
                if (closing) {
                    return;  // the wait the close below ends
                }
                if (ec == asio::error::operation_aborted && r.start_completions == 1 &&
                    r.start_ec != asio::error::operation_aborted) {
                    wait();
                    return;
                }
                if (ec) {
                    r.end_ec = ec;
                    return;
                }
                r.events.push_back(std::move(e));
                wait();
            }));
    };
    wait();
    drain(ioc, "the cache");
    for (const auto& write : writes) {
        write();
        drain(ioc, "the cache");
    }
    look(*cache);
    for (const auto& req : s->requests()) {
        r.requests.push_back(req.str());
    }
    r.fault_applied = s->fault_applied();
    closing = true;
    cache.reset();  // closes it
    drain(ioc, "the cache");
    r.watches_left = server.watches_of(s.get());
    s->on_cancel = nullptr;
    return r;
}

/// Calls `check(step, f, renews)` for every fault of fake_session but none, at every one of
/// `requests` steps, with and without renewal.
void for_every_fault(std::size_t requests,
                     const std::function<void(std::size_t step, fault f, bool renews)>& check);

/// How a run with a fault ended, as expect_outcome() found it.
enum class run_outcome {
    cancelled_start,  ///< the caller cancelled the start: the cache is closed
    expired,          ///< the session expired for good: the start or the waits ended with it
    carried_on,       ///< no error reached the caller: the cache went on
};

/// The checks every cache's run with fault `f` at request `step` passes: it left no watch; only
/// a cancellation ends the start; a final expiry ends the start or the waits with
/// session_expired; else neither ends with an error, and an expiry is followed by `resynced`
/// if it came at or after request `first_resync_step` (before, while the first snapshot loads,
/// the new session's first snapshot follows it instead). The caller checks the convergence.
run_outcome expect_outcome(const cache_trace& r, fault f, bool renews, std::size_t step,
                           std::size_t first_resync_step);

/// "<fault> [(renewing)] at request <step>", for a check's trace.
std::string fault_label(fault f, bool renews, std::size_t step);

}  // namespace zkr::test
