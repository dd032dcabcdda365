// What a zkr command line asks for, once parsed (command_line.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zkr::cli {

struct subcommand;

struct options {
    // Global.
    std::string hosts = "127.0.0.1:2181";  ///< --hosts, else $ZKR_HOSTS
    std::chrono::milliseconds session_timeout{10000};
    std::string auth;  ///< USER:PASS
    bool verbose = false;
    // TLS, each else its $ZKR_TLS_... variable; any of them connects over TLS (uses_tls()).
    std::string tls_ca;                 ///< --tls-ca FILE: a PEM file, or a directory of them
    std::string tls_cert;               ///< --tls-cert FILE: the client's certificate (PEM)
    std::string tls_key;                ///< --tls-key FILE: its private key (PEM)
    std::string tls_key_password_file;  ///< --tls-key-password-file FILE: the key's password
    bool tls_no_verify_host = false;    ///< --tls-no-verify-host: unsafe, for tests only
    bool uses_tls() const;
    bool version = false;
    /// -h, --help, help [COMMAND]: print the usage of that command ("" for all) and exit 0.
    std::optional<std::string> help;

    // The command.
    std::string
        command_name;    ///< as typed: lock, semaphore, elect, leader, status, barrier, members...
    std::string action;  ///< the word after a command that has several forms (barrier's, node's)
    const subcommand* entry = nullptr;  ///< the command's entry in the table (commands.hpp)
    /// The operand: a PATH, a SEQUENCER, a COMMAND (help), or a service's NAME (service).
    std::string path;
    std::string side;  ///< lock: "", "read" or "write"
    int max = 0;       ///< semaphore --max, barrier enter --members
    /// elect --id; service register --id, and the ID of service disable|enable
    std::string id;
    bool requeue = false;  ///< elect: campaign again after a loss (the session renews)
    std::optional<std::chrono::seconds> timeout;
    bool try_only = false;
    std::chrono::seconds grace{10};
    std::optional<std::chrono::seconds> max_hold;  ///< lock, semaphore: --max-hold
    bool quiet = false;
    /// --progress: report while waiting even when stderr is not a terminal.
    bool progress = false;
    /// Progress reports are for people: on a terminal, or when asked (--progress); --quiet wins.
    bool show_progress() const;
    bool watch = false;              ///< leader, members
    bool json = false;               ///< status
    std::string node;                ///< revoke: --node NAME (default: the holder)
    bool force = false;              ///< revoke
    bool ignore_revocation = false;  ///< lock
    std::string metrics;             ///< lock, semaphore, elect: --metrics ADDR:PORT
    std::string scope;               ///< watch: "" (the node), "children" or "tree"
    std::optional<int> depth;        ///< watch --tree: --depth N, the levels below PATH
    std::string data;                ///< node keep: --data D
    /// node keep: "" (ephemeral, the default), "ephemeral", "persistent" or "ttl" (--ttl S).
    std::string node_mode;
    std::chrono::seconds ttl{0};  ///< node keep --ttl S
    // service: the instance's fields (register), and where the services are.
    std::string base = "/services";  ///< --base PATH, as Curator's builder is given
    std::string address;             ///< --address A
    std::optional<int> port;         ///< --port P
    std::optional<int> ssl_port;     ///< --ssl-port P
    std::string payload = "null";    ///< --payload JSON (checked as JSON when read)
    std::string uri_spec;            ///< --uri-spec S
    // counter: the 64-bit layout, and N of set and add.
    bool wide = false;                       ///< --long: DistributedAtomicLong's, not SharedCount's
    std::optional<std::string> number_text;  ///< N as typed
    std::int64_t number = 0;                 ///< N, once checked against its layout's range
    // queue: the items of put, the claim of take, and where the claims are.
    std::vector<std::string> items;    ///< put: DATA... (none: one item read from stdin)
    bool claim = false;                ///< take --claim: run CMD on a claimed item
    std::string claims_dir;            ///< --claims DIR (default: the queue's own)
    std::vector<std::string> command;  ///< after "--"
};

}  // namespace zkr::cli
