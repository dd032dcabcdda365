// Every option the zkr tool knows: how it is spelt, how usage lines show it, and how its value is
// read. The command table (commands.hpp) says which subcommand takes which.
#pragma once

#include "argument_reader.hpp"
#include "options.hpp"

#include <array>
#include <span>
#include <string>
#include <string_view>

namespace zkr::cli {

struct option_spec {
    /// The option as usage lines and errors show it: "--timeout S", "--read|--write".
    std::string_view synopsis;
    /// The words that give it on a command line: {"--quiet", "-q"}.
    std::array<std::string_view, 3> spellings;
    /// Reads the option, and its value from `words` if it takes one, into `o`. False on a usage
    /// error, which `words` holds. `spelling` is the word that gave it.
    bool (*read)(argument_reader& words, const std::string& spelling, options& o);
    /// Set for the options a command requires (their usage lines show them without brackets):
    /// whether `o` lacks it.
    bool (*missing)(const options& o) = nullptr;

    bool required() const { return missing != nullptr; }
    /// Whether the command-line word `word` gives this option.
    bool given_by(std::string_view word) const;
    /// As a usage line shows it: "[--timeout S]", or "--max N" when required.
    std::string usage() const;
};

namespace option {
// Global: before the command's name.
extern const option_spec hosts, session_timeout, auth, verbose, tls_ca, tls_cert, tls_key,
    tls_key_password_file, tls_no_verify_host;
// The subcommands'.
extern const option_spec read_or_write, timeout, try_once, grace, max_hold, quiet, progress,
    max_leases, members, id, requeue, watch, json, node, force, ignore_revocation, metrics, scope,
    depth, data, node_mode, base, address, port, ssl_port, instance_id, payload, uri_spec, wide,
    claim, claims_dir;
}  // namespace option

/// What is wrong with `name` as one node's name (a service's, an instance's): it is empty, holds
/// '/', or is a name the server refuses ("." or ".."). Empty if nothing.
std::string node_name_problem(const std::string& name);

/// The global options, in the order the usage line shows them.
std::span<const option_spec* const> global_options();

/// The option of `specs` that `word` gives, or null.
const option_spec* find_option(std::span<const option_spec* const> specs, std::string_view word);

}  // namespace zkr::cli
