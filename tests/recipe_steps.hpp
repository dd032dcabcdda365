// Every step of a recipe with a fault injected (Boost.MySQL's check_network_errors, for
// ZooKeeper): a recipe operation runs once on a fake session to record its requests (its
// script), then once per request and per fault with that fault injected there, and each run is
// checked for what must hold whatever happens:
// - the operation's handler is called exactly once;
// - its outcome is one the fault allows (a connection loss is survived, an expiry ends the
//   operation with session_expired, a cancellation with operation_aborted, also one that comes
//   while the recipe waits for the connection, ...);
// - an operation that says it holds has its node(s) on the server, owned by its session;
// - once released (or failed), no ephemeral node of the session is left: deleted or never made.
#pragma once

#include "fake_session.hpp"

#include <boost/asio/cancellation_signal.hpp>

#include <functional>
#include <string>
#include <vector>

namespace zkr::test {

/// What a recipe operation ended with, as the step runner sees it.
struct step_outcome {
    error_code ec;
    bool holds = false;
    /// Releases what is held; calls its argument when done.
    std::function<void(std::function<void(error_code)>)> release;
};

/// One recipe operation under test.
struct recipe_case {
    std::string name;
    /// Builds the world before the run: directories, other clients' nodes.
    std::function<void(fake_server&)> setup = [](fake_server&) {};
    /// Starts the operation on `s`; `cancel` is its cancellation slot; `done` is called with its
    /// outcome.
    std::function<void(detail::session_ptr s, boost::asio::cancellation_slot cancel,
                       std::function<void(step_outcome)> done)>
        start;
    /// The requests of a run without faults, in order, as "kind path" with every uuid written
    /// "<uuid>" (the recipe's script: a change to it is a change to the algorithm).
    std::vector<std::string> script;
    /// What another client's change (fault::conflict) may end the operation with, besides
    /// success: our node deleted, by default.
    std::vector<error_code> conflict_errors{make_error_code(errc::lock_node_deleted)};
    /// What a lost answer (fault::loss_after) may end the operation with, besides success: none
    /// by default (a recipe finds out what its request did); a counter's write that the node
    /// cannot tell about is in doubt.
    std::vector<error_code> lost_answer_errors{};
    /// What a session expiry (fault::expiry) may end the operation with, besides
    /// session_expired: none by default; a queue claim's completion, whose claim went with the
    /// session, is refused.
    std::vector<error_code> expiry_errors{};
};

/// Runs `c` without faults and checks its script, then with every fault at every step.
void check_every_step(const recipe_case& c);

/// The ZooKeeper paths of a case with "<uuid>" for the random part.
std::string without_uuids(std::string text);

/// Requests as failure messages list them: one a line, indented.
std::string request_lines(const std::vector<std::string>& requests);

}  // namespace zkr::test
