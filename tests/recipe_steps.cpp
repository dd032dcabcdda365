#include "recipe_steps.hpp"

#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <sstream>

namespace zkr::test {

namespace asio = boost::asio;

namespace {

/// What one run saw.
struct run_report {
    int completions = 0;
    step_outcome outcome;
    bool held_nodes_on_completion = false;
    std::size_t requests_before_completion = 0;
    std::vector<std::string> requests;
    std::vector<std::string> left_behind;
    error_code release_ec;
    bool fault_applied = false;
};

/// `renews`: the session renews after an expiry (session_config::renew_after_expiry), and the
/// operation must end with the expired generation all the same.
run_report run(const recipe_case& c, std::size_t step, fault f, bool renews = false) {
    asio::io_context ioc;
    fake_server server;
    c.setup(server);
    auto s = std::make_shared<fake_session>(ioc, server, our_session);
    s->renews = renews;
    asio::cancellation_signal cancel;
    s->on_cancel = [&] { cancel.emit(asio::cancellation_type::terminal); };
    s->inject(step, f);

    run_report r;
    c.start(s, cancel.slot(), [&](step_outcome o) {
        ++r.completions;
        r.requests_before_completion = s->requests().size();
        r.held_nodes_on_completion = !server.owned_by(our_session).empty();
        r.outcome = std::move(o);
    });
    drain(ioc, "the operation");
    if (r.completions == 0) {
        // Waiting for others: they leave (their nodes go, as when their sessions end).
        for (const auto& path : server.owned_by(other_session)) {
            server.remove(path);
        }
        drain(ioc, "the operation");
    }
    if (r.completions == 1 && r.outcome.holds) {
        bool released = false;
        r.outcome.release([&](error_code ec) {
            released = true;
            r.release_ec = ec;
        });
        drain(ioc, "the operation");
        EXPECT_TRUE(released) << "the release never completed";
    }
    r.left_behind = server.owned_by(our_session);
    if (s->id() != our_session) {
        // Renewed: nothing of the expired generation's operation may reach the new session.
        const auto renewed = server.owned_by(s->id());
        r.left_behind.insert(r.left_behind.end(), renewed.begin(), renewed.end());
    }
    for (const auto& req : s->requests()) {
        r.requests.push_back(without_uuids(req.str()));
    }
    r.fault_applied = s->fault_applied();
    // The handle (and its timers) goes while its io_context still exists.
    r.outcome.release = nullptr;
    drain(ioc, "the operation");
    return r;
}

std::string describe(const run_report& r) {
    std::ostringstream out;
    out << "requests:";
    for (const auto& req : r.requests) {
        out << "\n  " << req;
    }
    out << "\noutcome: " << (r.outcome.ec ? r.outcome.ec.message() : "success")
        << (r.outcome.holds ? " (holds)" : "");
    return out.str();
}

/// The outcomes a fault allows. Every fault may also come too late to matter: after the
/// operation completed (a fault during release), the operation has succeeded.
bool allowed(const recipe_case& c, fault f, error_code ec, bool fault_before_completion) {
    if (!ec || !fault_before_completion) {
        // Success is allowed after any fault but expiry: a session that expired during the
        // acquisition cannot have acquired.
        return !ec ? (f != fault::expiry || !fault_before_completion) : false;
    }
    switch (f) {
        case fault::none:
        case fault::loss_before:
            return false;  // survived, always
        case fault::loss_after:
            return std::find(c.lost_answer_errors.begin(), c.lost_answer_errors.end(), ec) !=
                   c.lost_answer_errors.end();
        case fault::expiry:
            return ec == zk_errc::session_expired ||
                   std::find(c.expiry_errors.begin(), c.expiry_errors.end(), ec) !=
                       c.expiry_errors.end();
        case fault::conflict:
            return std::find(c.conflict_errors.begin(), c.conflict_errors.end(), ec) !=
                   c.conflict_errors.end();
        case fault::cancel:
        case fault::cancel_while_disconnected:
            return ec == asio::error::operation_aborted;
    }
    return false;
}

}  // namespace

std::string without_uuids(std::string text) {
    static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    return std::regex_replace(text, uuid, "<uuid>");
}

std::string request_lines(const std::vector<std::string>& requests) {
    std::ostringstream out;
    for (const auto& r : requests) {
        out << "\n  " << r;
    }
    return out.str();
}

void check_every_step(const recipe_case& c) {
    SCOPED_TRACE(c.name);
    const auto clean = run(c, static_cast<std::size_t>(-1), fault::none);
    ASSERT_EQ(clean.completions, 1) << describe(clean);
    ASSERT_FALSE(clean.outcome.ec) << describe(clean);
    EXPECT_EQ(clean.requests, c.script) << describe(clean);
    EXPECT_TRUE(clean.left_behind.empty()) << describe(clean);

    struct planned {
        fault f;
        bool renews = false;
    };
    for (const auto [f, renews] :
         {planned{fault::loss_before}, planned{fault::loss_after}, planned{fault::expiry},
          planned{fault::expiry, true}, planned{fault::conflict}, planned{fault::cancel},
          planned{fault::cancel_while_disconnected}}) {
        for (std::size_t step = 0; step < clean.requests.size(); ++step) {
            const auto r = run(c, step, f, renews);
            if (!r.fault_applied) {
                continue;  // no such fault at that request (a conflict it cannot have)
            }
            SCOPED_TRACE(std::string(fault_name(f)) + (renews ? " (renewing)" : "") +
                         " at request " + std::to_string(step) + " (" + clean.requests[step] +
                         ")\n" + describe(r));
            ASSERT_EQ(r.completions, 1);
            const bool before = step < r.requests_before_completion;
            EXPECT_TRUE(allowed(c, f, r.outcome.ec, before)) << r.outcome.ec.message();
            if (!r.outcome.ec) {
                EXPECT_EQ(r.outcome.holds, clean.outcome.holds);
                if (r.outcome.holds) {
                    EXPECT_TRUE(r.held_nodes_on_completion) << "holds, but has no node";
                }
            }
            EXPECT_TRUE(r.left_behind.empty()) << "left behind: " << r.left_behind.front();
        }
    }
}

}  // namespace zkr::test
