// The client processes of a fault run of the recipes that keep data (counters, queues), as the
// test drives them: each in a slot, whose process the nemesis may kill (a new process, with a
// history of its own, then takes the slot) or freeze past its session's expiry; every fault
// recorded in nemesis.hist, and followed by a check that every client still makes progress.
#pragma once

#include "../child_process.hpp"

#include <chrono>
#include <cstddef>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace zkr::test {
class partitioned_ensemble;
}

namespace zkr::faults {

class client_fleet {
  public:
    /// A kind of client.
    struct role {
        /// Its histories' names: PREFIX-<slot>-<generation>.hist ("inc", "prod", "cons").
        std::string prefix;
        /// Its command line, given its index among the role's slots and its history file.
        std::function<std::vector<std::string>(std::size_t index, const std::string& history)>
            command;
        /// The history lines that show progress, by their start ("A ": an acknowledged write).
        std::vector<std::string> progress;
    };

    /// A fleet whose histories and nemesis.hist are in `dir`.
    explicit client_fleet(std::string dir);

    /// Starts `count` clients of `r`, each in a slot of its own.
    void start(const role& r, std::size_t count);

    /// Whether every client makes progress from now on, within 30 s.
    bool progress();

    std::size_t size() const { return slots_.size(); }
    std::size_t faults() const { return faults_; }
    std::size_t killed() const { return killed_; }
    test::child_process& process(std::size_t i) { return *slots_[i].process; }

    /// Applies one fault (`apply` returns once it has healed) and records it, then waits until
    /// every client has made progress since: none is stuck.
    void fault(const std::string& kind, const std::function<void()>& apply);

    /// SIGKILL of client i, perhaps in the middle of an operation; a new one in its slot.
    void kill(std::size_t i);

    /// SIGSTOP of client i for `how_long` (past its session's expiry), then SIGCONT; with
    /// `when`, once its history shows it at the moment to stop it (within 30 s).
    void freeze(std::size_t i, std::chrono::milliseconds how_long,
                const std::function<bool(const std::string& history)>& when = {});

    /// Cuts the leader of `net` off from the others until they have elected another, then for
    /// `beyond` more (the sessions on the isolated server expire), and heals the cut.
    void isolate_leader(test::partitioned_ensemble& net, std::chrono::milliseconds beyond);

    /// Waits for every client of role `prefix` to exit with status 0 (once told to stop).
    void wait_stopped(const std::string& prefix);

  private:
    struct slot {
        role kind;
        std::size_t index = 0;  ///< among the slots of its role
        int generation = 0;     ///< the processes the slot has had before this one
        std::optional<test::child_process> process;
    };

    std::string history_name(const slot& s) const;
    std::string history(const slot& s) const { return dir_ + "/" + history_name(s); }
    void launch(slot& s);

    std::string dir_;
    std::vector<slot> slots_;
    std::ofstream nemesis_;
    std::size_t faults_ = 0;
    std::size_t killed_ = 0;
};

/// Time passing (a fault's length), not a wait for a condition.
void pass_time(std::chrono::milliseconds d);

}  // namespace zkr::faults
