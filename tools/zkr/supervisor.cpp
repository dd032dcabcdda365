#include "supervisor.hpp"

#include <zkr/sequencer.hpp>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

extern char** environ;

namespace zkr::cli {

namespace asio = boost::asio;

namespace {

/// The child's environment: ours plus the lock's identity.
std::vector<std::string> child_environment(const held& h) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        if (std::strncmp(*e, "ZKR_LOCK_PATH=", 14) != 0 &&
            std::strncmp(*e, "ZKR_FENCING_TOKEN=", 18) != 0 &&
            std::strncmp(*e, "ZKR_SEQUENCER=", 14) != 0) {
            env.emplace_back(*e);
        }
    }
    env.push_back("ZKR_LOCK_PATH=" + h.path);
    env.push_back("ZKR_FENCING_TOKEN=" + std::to_string(h.fencing_token));
    env.push_back("ZKR_SEQUENCER=" + sequencer{h.path, h.fencing_token}.to_string());
    return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

int shell_status(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Starts the command. The kernel kills it (SIGKILL) the moment zkr dies, however zkr dies:
/// a command left running by a killed zkr would go on without the lock once the session times
/// out, beside the next holder. If zkr is gone before the child could ask for that (between
/// fork and prctl), the child sees another parent and does not run the command. Returns the pid,
/// or -1 with `error` set (exec failures come back through a close-on-exec pipe).
pid_t spawn_tied_to_us(char* const argv[], char* const envp[], int& error) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
        error = errno;
        return -1;
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        error = errno;
        ::close(report[0]);
        ::close(report[1]);
        return -1;
    }
    if (pid == 0) {
        // The child: only async-signal-safe calls until exec.
        ::close(report[0]);
        if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
            ::_exit(127);
        }
        // Signals zkr ignores or handles must not stay so in the command.
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::execvpe(argv[0], argv, envp);
        const int e = errno;
        [[maybe_unused]] const auto ignored = ::write(report[1], &e, sizeof e);
        ::_exit(127);
    }
    ::close(report[1]);
    int child_error = 0;
    ssize_t n;
    do {
        n = ::read(report[0], &child_error, sizeof child_error);
    } while (n < 0 && errno == EINTR);
    ::close(report[0]);
    if (n == static_cast<ssize_t>(sizeof child_error)) {
        ::waitpid(pid, nullptr, 0);
        error = child_error;
        return -1;
    }
    return pid;
}

}  // namespace

asio::awaitable<child_outcome> run_child(const std::vector<std::string>& argv, const held& h,
                                         std::chrono::seconds grace, bool quiet) {
    auto ex = co_await asio::this_coro::executor;
    // Listen for SIGCHLD before the child exists, so that its exit cannot be missed.
    asio::signal_set exits(ex, SIGCHLD);
    asio::signal_set forwarded(ex, SIGINT, SIGTERM, SIGHUP);
    asio::steady_timer kill_timer(ex);

    auto args = argv;
    auto env = child_environment(h);
    auto arg_ptrs = pointers(args);
    auto env_ptrs = pointers(env);
    int spawn_error = 0;
    const pid_t pid = spawn_tied_to_us(arg_ptrs.data(), env_ptrs.data(), spawn_error);
    if (pid < 0) {
        std::fprintf(stderr, "zkr: cannot run %s: %s\n", argv[0].c_str(),
                     std::strerror(spawn_error));
        co_return child_outcome{127, false, {}};
    }

    // Shared with the callbacks below; they may outlive this frame by a moment.
    struct state {
        pid_t pid;
        bool exited = false;
        int status = 0;
        child_outcome outcome;
    };
    auto st = std::make_shared<state>(state{pid, false, 0, {}});

    std::function<void()> forward_next = [&] {
        forwarded.async_wait([&, st](boost::system::error_code ec, int signal) {
            if (ec || st->exited) {
                return;
            }
            ::kill(st->pid, signal);
            forward_next();
        });
    };
    forward_next();

    // Loss and revocation stop the command the same way, once: SIGTERM, SIGKILL after grace.
    auto stop = [&, st](const std::string& why) {
        if (!quiet) {
            std::fprintf(stderr, "zkr: %s: stopping the command (SIGTERM, SIGKILL in %llds)\n",
                         why.c_str(), static_cast<long long>(grace.count()));
        }
        ::kill(st->pid, SIGTERM);
        kill_timer.expires_after(grace);
        kill_timer.async_wait([st](boost::system::error_code timer_ec) {
            if (!timer_ec && !st->exited) {
                ::kill(st->pid, SIGKILL);
            }
        });
    };
    h.wait_lost([st, stop](boost::system::error_code ec) {
        if (ec == asio::error::operation_aborted || st->exited || st->outcome.revoked) {
            return;
        }
        st->outcome.lost = true;
        st->outcome.lost_reason = ec;
        stop("lock lost (" + ec.message() + ")");
    });
    if (h.wait_revocation) {
        h.wait_revocation([st, stop](boost::system::error_code ec) {
            if (ec || st->exited || st->outcome.lost) {
                return;  // lost or released first: nothing to revoke
            }
            st->outcome.revoked = true;
            stop("revocation requested by another client");
        });
    }

    while (!st->exited) {
        // A SIGCHLD may stand for several children or none of ours: always ask waitpid.
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            st->exited = true;
            st->status = status;
            break;
        }
        co_await exits.async_wait(asio::use_awaitable);
    }
    forwarded.cancel();
    kill_timer.cancel();
    st->outcome.exit_code = shell_status(st->status);
    co_return st->outcome;
}

}  // namespace zkr::cli
