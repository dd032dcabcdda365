#include "commands.hpp"

#include "handlers.hpp"

#include <zkr/names.hpp>

#include <algorithm>

namespace zkr::cli {
namespace {

// What each recipe's longest node adds to PATH (subcommand::node_suffix), from its names.
std::size_t lock_nodes(const options& o) {
    const auto marker = o.side == "read"    ? names::read_marker
                        : o.side == "write" ? names::write_marker
                                            : names::lock_marker;
    return 1 + names::protected_name_length(marker);
}
std::size_t semaphore_nodes(const options&) {
    // PATH/leases/<lease> and PATH/locks/<queue turn>.
    return std::max(
               names::semaphore_leases.size() + names::protected_name_length(names::lease_marker),
               names::semaphore_queue.size() + names::protected_name_length(names::lock_marker)) +
           2;
}
std::size_t election_nodes(const options&) {
    return 1 + names::protected_name_length(names::latch_marker);
}
std::size_t barrier_node(const options&) {
    return 0;
}
std::size_t revoked_node(const options& o) {
    return o.node.empty() ? 0 : 1 + o.node.size();  // PATH/NAME with --node NAME
}
std::size_t kept_node(const options&) {
    return 0;
}
std::size_t queue_nodes(const options& o) {
    // PATH/qn-<sequence>, PATH/zkr-waiters/<waiter>, and the claims' PATH/zkr-claims/<item>
    // unless --claims puts them elsewhere.
    const auto item = names::queue_item_prefix.size() + names::sequence_length;
    return 1 + std::max({item,
                         names::queue_waiters.size() + 1 +
                             names::protected_name_length(names::waiter_marker),
                         o.claims_dir.empty() ? names::queue_claims.size() + 1 + item : 0});
}
// queue take runs CMD with --claim.
bool claims(const options& o) {
    return o.claim;
}
std::size_t double_barrier_nodes(const options&) {
    // PATH/<uuid> for each member, and PATH/ready.
    return 1 + std::max(names::uuid_length, names::double_barrier_ready.size());
}

// What each form accepts, in the order its usage line shows them (named *_accepts: zkr has
// option structs of its own, such as zkr::semaphore_options, that these must not shadow).
using namespace option;
constexpr const option_spec* lock_accepts[] = {&read_or_write, &timeout,           &try_once,
                                               &max_hold,      &ignore_revocation, &grace,
                                               &quiet,         &progress,          &metrics};
constexpr const option_spec* revoke_accepts[] = {&node, &force, &grace};
constexpr const option_spec* semaphore_accepts[] = {&max_leases, &timeout, &try_once, &max_hold,
                                                    &grace,      &quiet,   &progress, &metrics};
constexpr const option_spec* elect_accepts[] = {&id,    &requeue,  &timeout, &grace,
                                                &quiet, &progress, &metrics};
constexpr const option_spec* watch_accepts[] = {&watch};
constexpr const option_spec* status_accepts[] = {&json};
constexpr const option_spec* barrier_accepts[] = {&timeout};
constexpr const option_spec* barrier_enter_accepts[] = {&members, &timeout, &grace, &quiet,
                                                        &metrics};

constexpr const option_spec* follow_accepts[] = {&scope, &depth, &json};
constexpr const option_spec* node_keep_accepts[] = {&data, &node_mode, &timeout, &quiet};

constexpr const option_spec* service_register_accepts[] = {
    &address, &port, &ssl_port, &instance_id, &payload, &uri_spec, &base, &quiet};
constexpr const option_spec* service_list_accepts[] = {&base, &json};
constexpr const option_spec* service_flag_accepts[] = {&base};

constexpr const option_spec* counter_accepts[] = {&wide};

constexpr const option_spec* queue_take_accepts[] = {&claim, &claims_dir, &timeout, &quiet};
constexpr const option_spec* queue_look_accepts[] = {&claims_dir, &quiet};

constexpr std::string_view node_keep_action[] = {"keep"};
constexpr std::string_view barrier_actions[] = {"set", "remove", "wait"};
constexpr std::string_view barrier_enter_action[] = {"enter"};
constexpr std::string_view service_register_action[] = {"register"};
constexpr std::string_view service_list_action[] = {"list"};
constexpr std::string_view service_watch_action[] = {"watch"};
constexpr std::string_view service_flag_actions[] = {"disable", "enable"};
constexpr std::string_view counter_get_action[] = {"get"};
constexpr std::string_view counter_change_actions[] = {"set", "add"};
constexpr std::string_view queue_put_action[] = {"put"};
constexpr std::string_view queue_take_action[] = {"take"};
constexpr std::string_view queue_look_actions[] = {"peek", "size"};

constexpr subcommand table[] = {
    {.name = "lock",
     .accepts = lock_accepts,
     .runs_command = true,
     .node_suffix = lock_nodes,
     .run = run_lock},
    {.name = "semaphore",
     .accepts = semaphore_accepts,
     .runs_command = true,
     .node_suffix = semaphore_nodes,
     .run = run_semaphore},
    {.name = "elect",
     .accepts = elect_accepts,
     .runs_command = true,
     .node_suffix = election_nodes,
     .run = run_elect},
    {.name = "leader", .accepts = watch_accepts, .run = run_leader},
    {.name = "status", .accepts = status_accepts, .run = run_status},
    {.name = "barrier",
     .actions = barrier_actions,
     .accepts = barrier_accepts,
     .node_suffix = barrier_node,
     .run = run_barrier},
    {.name = "barrier",
     .actions = barrier_enter_action,
     .accepts = barrier_enter_accepts,
     .runs_command = true,
     .node_suffix = double_barrier_nodes,
     .run = run_barrier_enter},
    {.name = "members", .accepts = watch_accepts, .run = run_members},
    {.name = "watch", .accepts = follow_accepts, .renews_session = true, .run = run_watch},
    {.name = "node",
     .actions = node_keep_action,
     .accepts = node_keep_accepts,
     .runs_command = true,
     .renews_session = true,
     .node_suffix = kept_node,
     .run = run_node_keep},
    {.name = "service",
     .actions = service_register_action,
     .accepts = service_register_accepts,
     .operand = operand::service,
     .runs_command = true,
     .renews_session = true,
     .run = run_service_register},
    {.name = "service",
     .actions = service_list_action,
     .accepts = service_list_accepts,
     .operand = operand::service_or_none,
     .run = run_service_list},
    {.name = "service",
     .actions = service_watch_action,
     .accepts = service_list_accepts,
     .operand = operand::service,
     .renews_session = true,
     .run = run_service_watch},
    {.name = "service",
     .actions = service_flag_actions,
     .accepts = service_flag_accepts,
     .operand = operand::service_instance,
     .run = run_service_enabled},
    {.name = "counter",
     .actions = counter_get_action,
     .accepts = counter_accepts,
     .run = run_counter},
    {.name = "counter",
     .actions = counter_change_actions,
     .accepts = counter_accepts,
     .operand = operand::path_and_number,
     .run = run_counter},
    {.name = "queue",
     .actions = queue_put_action,
     .operand = operand::path_and_items,
     .node_suffix = queue_nodes,
     .run = run_queue_put},
    {.name = "queue",
     .actions = queue_take_action,
     .accepts = queue_take_accepts,
     .runs_command_if = claims,
     .command_option = "--claim",
     .node_suffix = queue_nodes,
     .run = run_queue_take},
    {.name = "queue",
     .actions = queue_look_actions,
     .accepts = queue_look_accepts,
     .run = run_queue_look},
    {.name = "revoke", .accepts = revoke_accepts, .node_suffix = revoked_node, .run = run_revoke},
    {.name = "check", .operand = operand::sequencer, .run = run_check},
    {.name = "help", .operand = operand::topic},
};

}  // namespace

std::string subcommand::usage() const {
    // Appended piece by piece: g++ 12 at -O3 warns (-Wrestrict, a false positive, GCC bug
    // 105329) about "literal" + std::string.
    std::string line = "zkr ";
    line.append(name);
    for (std::size_t i = 0; i < actions.size(); ++i) {
        line.append(i == 0 ? " " : "|").append(actions[i]);
    }
    for (const auto* option : accepts) {
        line.append(" ").append(option->usage());
    }
    switch (operand) {
        case operand::path:
            line.append(" PATH");
            break;
        case operand::sequencer:
            line.append(" SEQUENCER");
            break;
        case operand::topic:
            line.append(" [COMMAND]");
            break;
        case operand::service:
            line.append(" NAME");
            break;
        case operand::service_or_none:
            line.append(" [NAME]");
            break;
        case operand::service_instance:
            line.append(" NAME ID");
            break;
        case operand::path_and_number:
            line.append(" PATH N");
            break;
        case operand::path_and_items:
            line.append(" PATH [DATA...]");
            break;
    }
    if (runs_command) {
        line += " -- CMD [ARGS...]";
    } else if (runs_command_if != nullptr) {
        line += " [-- CMD [ARGS...]]";
    }
    return line;
}

std::span<const subcommand> subcommands() {
    return table;
}

std::vector<const subcommand*> forms_of(std::string_view name) {
    std::vector<const subcommand*> forms;
    for (const auto& entry : table) {
        if (entry.name == name) {
            forms.push_back(&entry);
        }
    }
    return forms;
}

}  // namespace zkr::cli
