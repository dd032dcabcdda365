// The command's whole process tree: the command, everything it starts, and everything those
// start, wherever they go (a double fork, setsid, a daemon). What zkr promises about "the
// command" holds for each of them: they are stopped together, and the lock is let go only once
// the last of them is gone.
//
// How the tree is kept together:
// - zkr is a child subreaper (PR_SET_CHILD_SUBREAPER): a descendant whose parent exits is
//   reparented to zkr, not to init, so every descendant stays below zkr and can be found by
//   walking /proc. The last process of the tree to exit always has zkr as its parent, so its
//   exit reaches zkr as a SIGCHLD: "the tree is gone" needs no polling.
// - The command runs in a process group of its own (not zkr's, so a terminal's signals to zkr
//   are zkr's to forward), shared with a keeper: a small fork of zkr that does nothing but wait
//   on a pipe whose only writer is zkr. When zkr dies, however it dies (SIGKILL included), the
//   pipe ends and the keeper kills the group. The keeper's membership also keeps the group's id
//   from being reused while zkr may still send to it.
// - What remains possible: a descendant that leaves the group on purpose (setsid) survives a
//   SIGKILLed zkr, as nothing is left to find it. docs/cli.md says how the fencing token covers
//   that case.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace zkr::cli {

class process_tree {
  public:
    process_tree() = default;
    ~process_tree();
    process_tree(const process_tree&) = delete;
    process_tree& operator=(const process_tree&) = delete;

    /// Starts `argv` (PATH lookup) with environment `env` in a new process group, reading
    /// `input_fd` as its standard input if not -1 (zkr's own otherwise). Returns 0, or the errno
    /// of what failed (exec included: the command did not run).
    int start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
              int input_fd = -1);

    /// Reaps every child that has exited (call on SIGCHLD). Returns true once the whole tree is
    /// gone: the command has exited and no descendant is left.
    bool reap();
    bool command_exited() const noexcept { return command_exited_; }
    /// The command's wait status (valid once command_exited()).
    int command_status() const noexcept { return command_status_; }

    /// Sends `signal` to every process of the tree (SIGCONT after it, so that a stopped process
    /// can act on it). Returns how many were sent a signal.
    std::size_t signal_all(int signal);
    /// The live processes of the tree (not the keeper), for messages.
    std::vector<pid_t> members() const;

    /// The tree is gone: lets the keeper go without touching the group.
    void dismiss_keeper();

  private:
    struct member {
        pid_t pid;
        pid_t group;
    };
    /// The live processes of the tree, with their process groups.
    std::vector<member> walk() const;
    void take_terminal_back();

    pid_t keeper_ = -1;
    int keeper_pipe_ = -1;  // zkr's end: its closing without a word tells the keeper to kill
    pid_t command_ = -1;
    bool command_exited_ = false;
    int command_status_ = 0;
    int terminal_ = -1;  // the terminal handed to the command's group, to take back at the end
};

}  // namespace zkr::cli
