#include "command_line.hpp"

#include "argument_reader.hpp"
#include "commands.hpp"
#include "option_specs.hpp"

#include <zkr/path.hpp>
#include <zkr/sequencer.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <utility>

namespace zkr::cli {
namespace {

using command_forms = std::vector<const subcommand*>;

/// The actions of a command's forms as an error names them: "set, remove, wait or enter".
std::string action_choices(const command_forms& forms) {
    std::vector<std::string_view> actions;
    for (const auto* form : forms) {
        actions.insert(actions.end(), form->actions.begin(), form->actions.end());
    }
    std::string out;
    for (std::size_t i = 0; i < actions.size(); ++i) {
        out += (i == 0 ? "" : i + 1 == actions.size() ? " or " : ", ") + std::string(actions[i]);
    }
    return out;
}

/// The form whose actions include `word`, or null.
const subcommand* form_with_action(const command_forms& forms, std::string_view word) {
    const auto found = std::find_if(forms.begin(), forms.end(), [&](const subcommand* form) {
        return std::find(form->actions.begin(), form->actions.end(), word) != form->actions.end();
    });
    return found == forms.end() ? nullptr : *found;
}

/// The option `word` gives, if the command takes it. Until the action says which form the
/// command line is, only the options every form takes are known to apply.
const option_spec* accepted_option(const command_forms& forms, const subcommand* form,
                                   std::string_view word) {
    if (form != nullptr) {
        return find_option(form->accepts, word);
    }
    const auto* spec = find_option(forms.front()->accepts, word);
    const bool every_form_takes_it = std::all_of(
        forms.begin(), forms.end(), [&](auto* f) { return find_option(f->accepts, word) == spec; });
    return every_form_takes_it ? spec : nullptr;
}

/// What is wrong with PATH for `what`, a command whose recipe keeps its nodes there: the root,
/// or a PATH its nodes would take beyond the longest path zkr sends. Empty if nothing.
std::string path_problem_for(const std::string& what, const std::string& path, std::size_t suffix) {
    if (path == "/") {
        return "PATH / is the root: " + what + " needs a node of its own, not the root (such as " +
               "/app/NAME)";
    }
    if (path.size() + suffix > zkr::max_path_length) {
        return "PATH is too long for " + what + ": the nodes it names there add " +
               std::to_string(suffix) + " bytes to it, and zkr sends paths of at most " +
               std::to_string(zkr::max_path_length) + " bytes, so PATH may have at most " +
               std::to_string(zkr::max_path_length - suffix) + " (it has " +
               std::to_string(path.size()) + ")";
    }
    return {};
}

/// What is wrong with `name` as the operand `operand` (NAME, ID): not one node name. Empty if
/// nothing.
std::string name_problem(const char* operand, const std::string& name) {
    auto problem = node_name_problem(name);
    return problem.empty()
               ? problem
               : std::string(operand) + " '" + name + "' is not one node name: " + problem;
}

/// N of `counter set|add` as a number in its counter's range (int32; --long: int64), or nothing.
std::optional<std::int64_t> counter_number(const options& o) {
    const auto& text = *o.number_text;
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    const bool fits = o.wide || (n >= std::numeric_limits<std::int32_t>::min() &&
                                 n <= std::numeric_limits<std::int32_t>::max());
    if (ec != std::errc{} || end != text.data() + text.size() || !fits) {
        return std::nullopt;
    }
    return n;
}

/// What is wrong with N: missing, not a whole number, or out of its counter's range.
std::string number_problem(const options& o, const std::string& what) {
    if (!o.number_text) {
        return what + " needs a PATH and N";
    }
    if (counter_number(o)) {
        return {};
    }
    const auto low = o.wide ? std::numeric_limits<std::int64_t>::min()
                            : std::int64_t{std::numeric_limits<std::int32_t>::min()};
    const auto high = o.wide ? std::numeric_limits<std::int64_t>::max()
                             : std::int64_t{std::numeric_limits<std::int32_t>::max()};
    return "N takes a whole number from " + std::to_string(low) + " to " + std::to_string(high) +
           (o.wide ? "" : " (--long: 64 bits)") + ", not '" + *o.number_text + "'";
}

/// "-5": a word that is the negative number N, not an option.
bool looks_like_negative_number(std::string_view word) {
    return word.size() > 1 && word[0] == '-' && word[1] >= '0' && word[1] <= '9';
}

/// What is wrong with the operand of command line `o`: a missing or malformed PATH, SEQUENCER,
/// NAME or ID, a PATH the server or the recipe would refuse, a command that does not exist.
/// Empty if nothing.
std::string operand_problem(const options& o, const std::string& what) {
    switch (o.entry->operand) {
        case operand::service_or_none:
            return o.path.empty() ? std::string{} : name_problem("NAME", o.path);
        case operand::service:
            return o.path.empty() ? what + " needs a NAME" : name_problem("NAME", o.path);
        case operand::service_instance:
            if (o.id.empty()) {
                return what + " needs a NAME and an ID";
            }
            if (auto problem = name_problem("NAME", o.path); !problem.empty()) {
                return problem;
            }
            return name_problem("ID", o.id);
        case operand::sequencer:
            if (o.path.empty()) {
                return what + " needs a SEQUENCER";
            }
            if (!sequencer::parse(o.path)) {
                return "SEQUENCER " + o.path + " is not a sequencer (zkr-seq-1:TOKEN:PATH, as in " +
                       "$ZKR_SEQUENCER)";
            }
            return {};
        case operand::topic:
            if (!o.path.empty() && forms_of(o.path).empty()) {
                return "unknown command " + o.path;
            }
            return {};
        case operand::path_and_number:
            if (auto problem = number_problem(o, what); !problem.empty()) {
                return problem;
            }
            break;
        case operand::path_and_items:
        case operand::path:
            break;
    }
    if (o.path.empty()) {
        return what + " needs a PATH";
    }
    if (std::string path_problem; zkr::validate_path(o.path, &path_problem)) {
        return "PATH " + o.path + " is not a valid ZooKeeper path: " + path_problem;
    }
    if (o.entry->node_suffix != nullptr) {
        return path_problem_for(what, o.path, o.entry->node_suffix(o));
    }
    return {};
}

/// The usage error of a command line read to its end without one: a missing action, operand,
/// command or required option, or a PATH the server or the recipe would refuse. Empty if there
/// is none.
std::string what_is_wrong(const options& o, const command_forms& forms) {
    const auto& cmd = o.command_name;
    const auto* form = o.entry;
    if (form == nullptr) {
        return cmd + " needs " + action_choices(forms);
    }
    const auto what = o.action.empty() ? cmd : cmd + " " + o.action;
    if (auto problem = operand_problem(o, what); !problem.empty()) {
        return problem;
    }
    if (form->takes_command(o) && o.command.empty()) {
        return what + " needs a command after --";
    }
    if (!form->takes_command(o) && !o.command.empty()) {
        return form->runs_command_if != nullptr
                   ? what + " runs a command only with " + std::string(form->command_option)
                   : what + " runs no command";
    }
    for (const auto* spec : form->accepts) {
        if (spec->required() && spec->missing(o)) {
            return what + " needs " + std::string(spec->synopsis);
        }
    }
    return {};
}

/// What is wrong with the TLS options taken together, wherever each came from (the command line
/// or the environment): a certificate without its key or the reverse, a key password without a
/// key, a host check turned off where nothing asked for TLS. Empty if nothing.
std::string tls_problem(const options& o) {
    if (!o.tls_cert.empty() && o.tls_key.empty()) {
        return "--tls-cert ($ZKR_TLS_CERT) needs --tls-key ($ZKR_TLS_KEY): the certificate's "
               "private key";
    }
    if (!o.tls_key.empty() && o.tls_cert.empty()) {
        return "--tls-key ($ZKR_TLS_KEY) needs --tls-cert ($ZKR_TLS_CERT): the certificate that "
               "goes with the key";
    }
    if (!o.tls_key_password_file.empty() && o.tls_key.empty()) {
        return "--tls-key-password-file ($ZKR_TLS_KEY_PASSWORD_FILE) needs --tls-key "
               "($ZKR_TLS_KEY) and --tls-cert ($ZKR_TLS_CERT): the password opens that key";
    }
    // Trust is never implied: the system's CAs would vouch for any public certificate.
    if (o.uses_tls() && o.tls_ca.empty()) {
        return "TLS needs --tls-ca FILE ($ZKR_TLS_CA): the CA that signed the servers' "
               "certificates (--tls-ca system trusts the system's CAs)";
    }
    return {};
}

/// The value of environment variable `name`; nullopt when it is unset or empty.
std::optional<std::string> environment(const char* name) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') {
        return std::nullopt;
    }
    return value;
}

/// The environment's defaults of the global options, which the command line then overrides.
/// What is wrong with them, empty if nothing.
std::string read_environment(options& o) {
    static constexpr std::pair<const char*, std::string options::*> text_defaults[] = {
        {"ZKR_HOSTS", &options::hosts},
        {"ZKR_TLS_CA", &options::tls_ca},
        {"ZKR_TLS_CERT", &options::tls_cert},
        {"ZKR_TLS_KEY", &options::tls_key},
        {"ZKR_TLS_KEY_PASSWORD_FILE", &options::tls_key_password_file},
    };
    for (const auto& [name, field] : text_defaults) {
        if (auto value = environment(name)) {
            o.*field = std::move(*value);
        }
    }
    // Turning the host check off is unsafe: only the documented value does, and any other is
    // refused rather than guessed at.
    const auto no_verify_host = environment("ZKR_TLS_NO_VERIFY_HOST");
    if (no_verify_host && *no_verify_host != "1" && *no_verify_host != "0") {
        return "ZKR_TLS_NO_VERIFY_HOST takes 1 (or 0), not '" + *no_verify_host + "'";
    }
    o.tls_no_verify_host = no_verify_host == "1";
    return {};
}

/// -h and --help, anywhere before "--": usage, not an unknown option.
bool asks_for_help(std::string_view word) {
    return word == "-h" || word == "--help";
}

}  // namespace

std::string usage_text(std::string_view command) {
    if (!command.empty()) {
        std::string text;
        for (const auto* form : forms_of(command)) {
            text.append(text.empty() ? "usage: " : "       ").append(form->usage()).append("\n");
        }
        return text +
               "\nThe options before COMMAND, the environment and the exit statuses: zkr "
               "help.\n";
    }
    std::string text = "usage: zkr";
    for (const auto* spec : global_options()) {
        text.append(" ").append(spec->usage());
    }
    text += " COMMAND ...\n       zkr --version\n\n";
    for (const auto& form : subcommands()) {
        text.append("  ").append(form.usage()).append("\n");
    }
    return text +
           "\n"
           "lock, semaphore and elect run CMD while holding the lock, a lease, or leadership (CMD\n"
           "gets ZKR_LOCK_PATH and ZKR_FENCING_TOKEN; if the lock is lost it gets SIGTERM, then\n"
           "SIGKILL after --grace seconds, default 10); barrier enter runs it between entering\n"
           "and leaving; node keep while it keeps the node PATH (CMD gets ZKR_NODE_PATH). INT,\n"
           "TERM and HUP are forwarded to CMD. watch prints PATH's node (--children: its\n"
           "children; --tree: its subtree), then a line per change, until interrupted. -h or\n"
           "--help after COMMAND prints its usage only.\n"
           "service register keeps an instance of service NAME registered while CMD runs (CMD\n"
           "gets ZKR_NODE_PATH), in Curator's discovery layout under --base (default\n"
           "/services); service list prints the names, or NAME's instances; service watch\n"
           "prints a line per change of NAME's instances; service disable|enable sets an\n"
           "instance's enabled flag.\n"
           "counter get|set|add prints a shared counter's value (after the change for set and\n"
           "add), in Curator's SharedCount layout (32 bits), or with --long its\n"
           "DistributedAtomicLong layout (64 bits).\n"
           "queue put adds items (DATA..., else one item read from stdin) to a queue in Curator's\n"
           "SimpleDistributedQueue layout; queue take removes the head item and prints it, or "
           "with\n"
           "--claim runs CMD on it (the item on stdin and in ZKR_ITEM): exit 0 completes the "
           "item,\n"
           "anything else gives it back; queue peek prints the head item; queue size the count.\n"
           "HOSTS defaults to $ZKR_HOSTS, then 127.0.0.1:2181.\n"
           "TLS: any of the options below connects over TLS, to the servers' secure client\n"
           "port in HOSTS. --tls-ca FILE is the PEM file of the CAs to trust, the only trust\n"
           "(a directory: of such files, named by hash as openssl rehash names them; 'system':\n"
           "the system's CAs); --tls-cert FILE and --tls-key FILE, the client certificate and\n"
           "key, both PEM; --tls-key-password-file FILE, the key's password, on the first\n"
           "line of FILE. Each defaults to its variable: $ZKR_TLS_CA, $ZKR_TLS_CERT,\n"
           "$ZKR_TLS_KEY, $ZKR_TLS_KEY_PASSWORD_FILE. --tls-no-verify-host\n"
           "($ZKR_TLS_NO_VERIFY_HOST=1) is UNSAFE, for tests only: it skips the check that\n"
           "the server's certificate names the host, so anyone holding a certificate from a\n"
           "trusted CA can pose as the server.\n"
           "\n"
           "Exit status: CMD's own (128+N if killed by signal N); 64 usage error; 69 cannot "
           "connect or\n"
           "session failed before acquiring; 75 not acquired (--try busy, --timeout passed); 76 "
           "lost\n"
           "while CMD ran.\n";
}

std::optional<options> parse_options(int argc, char** argv, std::string& error) {
    options o;
    // Reported once the command line is read: a bad variable must not stand in the way of --help.
    const auto environment_problem = read_environment(o);
    argument_reader words(argc, argv);
    auto usage_error = [&](std::string message) {
        error = std::move(message);
        return std::nullopt;
    };
    // Global options, then the command's name.
    for (; !words.done() && o.command_name.empty(); words.advance()) {
        const auto& word = words.current();
        if (asks_for_help(word)) {
            o.help = "";
            return o;
        }
        if (word == "--version") {
            o.version = true;
            return o;
        }
        if (const auto* spec = find_option(global_options(), word)) {
            if (!spec->read(words, word, o)) {
                return usage_error(words.error());
            }
        } else if (looks_like_option(word)) {
            return usage_error("unknown option " + word);
        } else {
            o.command_name = word;
        }
    }
    const auto& cmd = o.command_name;
    const auto forms = forms_of(cmd);
    if (forms.empty()) {
        return usage_error(cmd.empty() ? "no command given" : "unknown command " + cmd);
    }
    // A command of one form is known by its name; one of several by the action that follows.
    if (forms.front()->actions.empty()) {
        o.entry = forms.front();
    }
    // The command's options, its action and PATH, up to "--".
    for (; !words.done(); words.advance()) {
        const auto& word = words.current();
        if (word == "--") {
            o.command = words.rest();
            break;
        }
        if (asks_for_help(word)) {
            o.help = cmd;
            return o;
        }
        const bool takes_number = o.entry != nullptr &&
                                  o.entry->operand == operand::path_and_number && !o.path.empty() &&
                                  !o.number_text;
        if (const auto* spec = accepted_option(forms, o.entry, word)) {
            if (!spec->read(words, word, o)) {
                return usage_error(words.error());
            }
        } else if (takes_number && (!looks_like_option(word) || looks_like_negative_number(word))) {
            o.number_text = word;
        } else if (looks_like_option(word)) {
            return usage_error("unknown option " + word + " for " + cmd);
        } else if (o.entry == nullptr) {
            o.entry = form_with_action(forms, word);
            if (o.entry == nullptr) {
                return usage_error(cmd + " takes " + action_choices(forms) + ", not '" + word +
                                   "'");
            }
            o.action = word;
        } else if (o.path.empty()) {
            o.path = word;
        } else if (o.entry->operand == operand::service_instance && o.id.empty()) {
            o.id = word;
        } else if (o.entry->operand == operand::path_and_items) {
            o.items.push_back(word);
        } else {
            return usage_error("unexpected argument " + word +
                               (o.entry->takes_command(o) ? " (put the command after --)" : ""));
        }
    }
    if (auto wrong = what_is_wrong(o, forms); !wrong.empty()) {
        return usage_error(std::move(wrong));
    }
    if (!environment_problem.empty()) {
        return usage_error(environment_problem);
    }
    if (auto wrong = tls_problem(o); !wrong.empty()) {
        return usage_error(std::move(wrong));
    }
    if (o.entry->operand == operand::topic) {
        o.help = o.path;
    }
    if (o.entry->operand == operand::path_and_number) {
        o.number = *counter_number(o);
    }
    return o;
}

}  // namespace zkr::cli
