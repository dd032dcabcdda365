#include "process_tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <unordered_map>

namespace zkr::cli {

namespace {

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

/// What zkr needs of /proc/PID/stat.
struct process_stat {
    pid_t parent = 0;
    pid_t group = 0;
    bool alive = false;
};

/// Reads /proc/PID/stat. The command name (field 2) may hold spaces and parentheses: the fields
/// after it follow the last ')'.
bool read_stat(pid_t pid, process_stat& out) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
    FILE* f = std::fopen(path, "re");
    if (f == nullptr) {
        return false;  // gone meanwhile
    }
    char buf[1024];
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* close = std::strrchr(buf, ')');
    if (close == nullptr || close[1] != ' ' || close[2] == '\0') {
        return false;
    }
    const char state = close[2];
    out.alive = state != 'Z' && state != 'X' && state != 'x';
    const char* end = buf + n;
    auto [after_parent, err] = std::from_chars(close + 4, end, out.parent);
    if (err != std::errc{} || after_parent == end) {
        return false;
    }
    return std::from_chars(after_parent + 1, end, out.group).ec == std::errc{};
}

/// The command's fork, when something before exec (exec included) failed: tells zkr the errno
/// on `report_pipe` and exits (async-signal-safe).
[[noreturn]] void report_and_exit(int report_pipe) {
    const int e = errno;
    [[maybe_unused]] const auto ignored = ::write(report_pipe, &e, sizeof e);
    ::_exit(127);
}

/// The keeper's whole life (a fork of zkr: async-signal-safe calls only). It waits for a word on
/// the pipe; the pipe ending without one means zkr died with the tree still running, and the
/// keeper kills its own process group, the command's, itself included.
[[noreturn]] void keep(int pipe_end) {
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            ::signal(sig, SIG_IGN);  // forwarded and terminal signals are the command's
        }
    }
    // Nothing of zkr's is kept open (its ZooKeeper socket, a pipe a reader waits on).
    if (pipe_end != 3) {
        ::dup2(pipe_end, 3);
    }
    ::close_range(4, ~0U, 0);
    if (const int null = ::open("/dev/null", O_RDWR); null >= 0) {
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        if (null > 3) {
            ::close(null);
        }
    }
    char word;
    ssize_t n;
    do {
        n = ::read(3, &word, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) {
        ::kill(0, SIGKILL);
    }
    ::_exit(0);
}

/// The terminal zkr runs in the foreground of (standard input), or -1.
int foreground_terminal() {
    return ::isatty(0) && ::tcgetpgrp(0) == ::getpgrp() ? 0 : -1;
}

/// tcsetpgrp from a background group stops the caller (SIGTTOU) unless it blocks that signal.
void give_terminal(int tty, pid_t group) {
    sigset_t ttou, old;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    ::sigprocmask(SIG_BLOCK, &ttou, &old);
    ::tcsetpgrp(tty, group);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
}

}  // namespace

process_tree::~process_tree() {
    if (keeper_ > 0) {
        // Left before the tree was gone (an error, or zkr is shutting down): nothing of it may
        // outlive zkr. Closing the pipe without a word has the keeper kill the group.
        signal_all(SIGKILL);
        ::close(keeper_pipe_);
        ::waitpid(keeper_, nullptr, 0);
    }
    take_terminal_back();
}

int process_tree::start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                        int input_fd) {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        return errno;
    }
    int keeper_fds[2];
    if (::pipe2(keeper_fds, O_CLOEXEC) != 0) {
        return errno;
    }
    keeper_ = ::fork();
    if (keeper_ < 0) {
        const int e = errno;
        ::close(keeper_fds[0]);
        ::close(keeper_fds[1]);
        return e;
    }
    if (keeper_ == 0) {
        ::close(keeper_fds[1]);
        ::setpgid(0, 0);
        keep(keeper_fds[0]);
    }
    ::close(keeper_fds[0]);
    keeper_pipe_ = keeper_fds[1];
    // Both sides set the group, so that it exists whichever runs first.
    ::setpgid(keeper_, keeper_);
    const pid_t group = keeper_;
    const int tty = foreground_terminal();
    terminal_ = tty;

    auto args = argv;
    auto environment = env;
    auto arg_ptrs = pointers(args);
    auto env_ptrs = pointers(environment);
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        return errno;
    }
    const pid_t parent = ::getpid();
    command_ = ::fork();
    if (command_ < 0) {
        const int e = errno;
        ::close(report[0]);
        ::close(report[1]);
        return e;
    }
    if (command_ == 0) {
        // The command: async-signal-safe calls only until exec.
        ::close(report[0]);
        // Killed with zkr as well: the keeper does that for the whole group, this for the
        // command alone should the keeper be gone.
        if (::setpgid(0, group) != 0 || ::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 ||
            ::getppid() != parent) {
            ::_exit(127);
        }
        if (input_fd >= 0 && ::dup2(input_fd, STDIN_FILENO) < 0) {
            report_and_exit(report[1]);
        }
        if (tty >= 0) {
            give_terminal(tty, group);  // an interactive command reads its terminal
        }
        // What zkr ignores or blocks must not stay so in the command.
        ::signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execvpe(arg_ptrs[0], arg_ptrs.data(), env_ptrs.data());
        report_and_exit(report[1]);
    }
    ::close(report[1]);
    ::setpgid(command_, group);  // fails harmlessly once the command has run exec
    if (tty >= 0) {
        give_terminal(tty, group);
    }
    int child_error = 0;
    ssize_t n;
    do {
        n = ::read(report[0], &child_error, sizeof child_error);
    } while (n < 0 && errno == EINTR);
    ::close(report[0]);
    if (n == static_cast<ssize_t>(sizeof child_error)) {
        ::waitpid(command_, nullptr, 0);
        command_exited_ = true;
        dismiss_keeper();
        return child_error;
    }
    return 0;
}

bool process_tree::reap() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == command_) {
            command_exited_ = true;
            command_status_ = status;
        } else if (pid == keeper_) {
            keeper_ = -1;  // killed by someone: zkr's own death is no longer covered
            ::close(keeper_pipe_);
        }
    }
    return command_exited_ && members().empty();
}

std::vector<pid_t> process_tree::members() const {
    std::vector<pid_t> out;
    for (const auto& m : walk()) {
        out.push_back(m.pid);
    }
    return out;
}

std::vector<process_tree::member> process_tree::walk() const {
    std::unordered_map<pid_t, std::vector<pid_t>> children;
    std::unordered_map<pid_t, process_stat> stats;
    if (DIR* proc = ::opendir("/proc")) {
        while (const dirent* entry = ::readdir(proc)) {
            pid_t pid = 0;
            const char* name = entry->d_name;
            auto [end, err] = std::from_chars(name, name + std::strlen(name), pid);
            if (err != std::errc{} || *end != '\0') {
                continue;
            }
            process_stat stat;
            if (read_stat(pid, stat)) {
                children[stat.parent].push_back(pid);
                stats[pid] = stat;
            }
        }
        ::closedir(proc);
    }
    std::vector<member> out;
    std::vector<pid_t> next{::getpid()};
    while (!next.empty()) {
        const pid_t p = next.back();
        next.pop_back();
        for (pid_t c : children[p]) {
            if (c == keeper_) {
                continue;
            }
            if (stats[c].alive) {
                out.push_back({c, stats[c].group});
            }
            next.push_back(c);
        }
    }
    return out;
}

std::size_t process_tree::signal_all(int signal) {
    // Sent to the group, a signal also reaches a process being forked meanwhile (the kernel
    // orders a group's signals and its forks), which a walk of /proc would miss: that child would
    // run on unsignalled, and zkr would wait for it. The keeper ignores every signal but SIGKILL,
    // which would end its watch: a SIGKILL goes to each process found, and the kill's sweep finds
    // what is forked meanwhile.
    const bool to_group = keeper_ > 0 && signal != SIGKILL;
    if (to_group) {
        ::kill(-keeper_, signal);
    }
    std::size_t sent = 0;
    for (const auto& m : walk()) {
        if (to_group && m.group == keeper_) {
            ++sent;  // sent already
        } else {
            sent += ::kill(m.pid, signal) == 0 ? 1 : 0;  // it left the group (setsid, a daemon)
        }
    }
    return sent;
}

void process_tree::dismiss_keeper() {
    if (keeper_ <= 0) {
        return;
    }
    const char done = 1;
    [[maybe_unused]] const auto ignored = ::write(keeper_pipe_, &done, 1);
    ::close(keeper_pipe_);
    ::waitpid(keeper_, nullptr, 0);
    keeper_ = -1;
    take_terminal_back();
}

void process_tree::take_terminal_back() {
    if (terminal_ >= 0) {
        give_terminal(terminal_, ::getpgrp());  // as a shell takes it back from a job
        terminal_ = -1;
    }
}

}  // namespace zkr::cli
