// The table of zkr's subcommands. Parsing, validation, the usage text and dispatch all read it:
// a new subcommand is one entry in commands.cpp and its handler (handlers.hpp).
#pragma once

#include "option_specs.hpp"
#include "options.hpp"

#include <boost/asio/awaitable.hpp>

#include <span>
#include <string_view>
#include <vector>

namespace zkr {
class session;
}

namespace zkr::cli {

/// Runs a subcommand on a connected session; returns zkr's exit status (exit_status.hpp).
using handler = boost::asio::awaitable<int> (*)(session& s, const options& o);

/// What the one word after the options names.
enum class operand {
    path,              ///< a ZooKeeper path (checked as the server would)
    sequencer,         ///< a sequencer's text (zkr::sequencer::to_string, $ZKR_SEQUENCER)
    topic,             ///< the name of a command, or none (help)
    service,           ///< NAME: a service's name, one node name under --base
    service_or_none,   ///< [NAME]: a service's name, or none (service list: the names)
    service_instance,  ///< NAME ID: a service's name and an instance's id (in options::id)
    path_and_number,   ///< PATH N: a ZooKeeper path and a whole number (options::number)
    path_and_items,    ///< PATH [DATA...]: a ZooKeeper path and queue items (options::items)
};

/// One form of a subcommand: "zkr NAME [ACTION] OPTIONS... OPERAND [-- CMD [ARGS...]]".
struct subcommand {
    std::string_view name;
    /// The words one of which follows the name, as barrier's set|remove|wait; empty for a
    /// command of one form. A command whose forms take different options or run a command has
    /// one entry per form, adjacent in the table ("barrier enter" runs one, the others do not).
    std::span<const std::string_view> actions = {};
    /// The options it takes, in the order its usage line shows them.
    std::span<const option_spec* const> accepts = {};
    zkr::cli::operand operand = operand::path;
    /// Runs "-- CMD [ARGS...]" (under a lock, a lease, a leadership or a barrier).
    bool runs_command = false;
    /// Set for a form that runs CMD only with one of its options (queue take --claim): whether
    /// the command line `o` asks for CMD, and that option as errors name it.
    bool (*runs_command_if)(const options& o) = nullptr;
    std::string_view command_option = {};

    /// Whether the command line `o` of this form needs "-- CMD" (and may have one).
    bool takes_command(const options& o) const {
        return runs_command || (runs_command_if != nullptr && runs_command_if(o));
    }
    /// Carries on after an expiry, in a new ZooKeeper session (session_config::
    /// renew_after_expiry): a watch and a kept node outlive their first session.
    bool renews_session = false;
    /// Set for a command whose recipe keeps its nodes at PATH: how many bytes the longest of them
    /// adds to PATH (0 when PATH itself is the node, as a barrier's). The recipe refuses the root
    /// as PATH, and a PATH that its nodes would take beyond zkr::max_path_length: both are usage
    /// errors.
    std::size_t (*node_suffix)(const options& o) = nullptr;
    /// Null for a command that needs no session (help).
    handler run = nullptr;

    /// "zkr lock [--read|--write] ... PATH -- CMD [ARGS...]"
    std::string usage() const;
};

/// Every form of every subcommand, in the order the usage text lists them.
std::span<const subcommand> subcommands();

/// The forms of the command `name`: none if there is no such command.
std::vector<const subcommand*> forms_of(std::string_view name);

}  // namespace zkr::cli
