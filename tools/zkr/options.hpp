// The zkr tool's command line.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace zkr::cli {

struct options {
    // Global.
    std::string hosts;  ///< --hosts, else $ZKR_HOSTS, else 127.0.0.1:2181
    std::chrono::milliseconds session_timeout{10000};
    std::string auth;  ///< USER:PASS
    bool verbose = false;
    bool version = false;

    // The command.
    std::string command_name;  ///< lock, semaphore, elect, leader, status, barrier, members
    std::string action;        ///< barrier: set, remove or wait
    std::string path;
    std::string side;  ///< lock: "", "read" or "write"
    int max = 0;       ///< semaphore
    std::string id;    ///< elect
    std::optional<std::chrono::seconds> timeout;
    bool try_only = false;
    std::chrono::seconds grace{10};
    bool quiet = false;
    /// --progress: report while waiting even when stderr is not a terminal.
    bool progress = false;
    /// Progress reports are for people: on a terminal, or when asked (--progress); --quiet wins.
    bool show_progress() const;
    bool watch = false;                ///< leader, members
    bool json = false;                 ///< status
    std::vector<std::string> command;  ///< after "--"
};

/// Parses argv. Returns nullopt with `error` empty for --help, with `error` set for a usage error.
std::optional<options> parse_options(int argc, char** argv, std::string& error);

const char* usage_text();

}  // namespace zkr::cli
