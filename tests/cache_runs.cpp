#include "cache_runs.hpp"

#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace zkr::test {

bool cache_trace::resynced() const {
    return std::any_of(events.begin(), events.end(),
                       [](const cache_event& e) { return e.type == cache_event_type::resynced; });
}

std::string cache_trace::str(const std::function<std::string(const cache_event&)>& describe) const {
    std::ostringstream out;
    out << "requests:";
    for (const auto& r : requests) {
        out << "\n  " << r;
    }
    out << "\nevents:";
    for (const auto& e : events) {
        out << "\n  " << describe(e);
    }
    out << "\nstart: " << (start_ec ? start_ec.message() : "ok")
        << "; end: " << (end_ec ? end_ec.message() : "none");
    return out.str();
}

void for_every_fault(std::size_t requests,
                     const std::function<void(std::size_t step, fault f, bool renews)>& check) {
    for (const bool renews : {false, true}) {
        for (const auto f : every_fault) {
            for (std::size_t step = 0; step < requests; ++step) {
                check(step, f, renews);
            }
        }
    }
}

run_outcome expect_outcome(const cache_trace& r, fault f, bool renews, std::size_t step,
                           std::size_t first_resync_step) {
    EXPECT_EQ(r.watches_left, 0u) << "a closed cache left a watch";
    if (r.start_ec == boost::asio::error::operation_aborted) {
        EXPECT_TRUE(f == fault::cancel || f == fault::cancel_while_disconnected);
        return run_outcome::cancelled_start;
    }
    if (f == fault::expiry && !renews) {
        EXPECT_EQ(r.start_ec ? r.start_ec : r.end_ec, make_error_code(zk_errc::session_expired));
        return run_outcome::expired;
    }
    EXPECT_FALSE(r.start_ec) << r.start_ec.message();
    EXPECT_FALSE(r.end_ec) << r.end_ec.message();
    if (f == fault::expiry) {
        EXPECT_EQ(r.resynced(), step >= first_resync_step);
    }
    return run_outcome::carried_on;
}

std::string fault_label(fault f, bool renews, std::size_t step) {
    return std::string(fault_name(f)) + (renews ? " (renewing)" : "") + " at request " +
           std::to_string(step);
}

}  // namespace zkr::test
