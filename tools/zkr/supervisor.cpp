#include "supervisor.hpp"
#include "process_tree.hpp"

#include <zkr/sequencer.hpp>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>
#include <string_view>

extern char** environ;

namespace zkr::cli {

namespace asio = boost::asio;

namespace {

/// The command's environment: ours plus the identity of what it runs under (a lock's path,
/// token and sequencer; a kept node's path). Inherited ZKR_ identities are dropped: a command
/// started from another zkr's command must not see that one's.
std::vector<std::string> child_environment(const held& h) {
    static constexpr std::string_view identities[] = {
        "ZKR_LOCK_PATH=", "ZKR_FENCING_TOKEN=", "ZKR_SEQUENCER=", "ZKR_NODE_PATH=",
        "ZKR_ITEM=",      "ZKR_ITEM_NODE=",     "ZKR_CLAIM_PATH="};
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        const std::string_view variable(*e);
        if (std::none_of(std::begin(identities), std::end(identities),
                         [&](std::string_view id) { return variable.starts_with(id); })) {
            env.emplace_back(variable);
        }
    }
    if (h.what == held::kind::kept_node) {
        env.push_back("ZKR_NODE_PATH=" + h.path);
    } else {
        env.push_back((h.what == held::kind::claim ? "ZKR_CLAIM_PATH=" : "ZKR_LOCK_PATH=") +
                      h.path);
        env.push_back("ZKR_FENCING_TOKEN=" + std::to_string(h.fencing_token));
        env.push_back("ZKR_SEQUENCER=" + sequencer{h.path, h.fencing_token}.to_string());
    }
    env.insert(env.end(), h.environment.begin(), h.environment.end());
    return env;
}

/// A file holding `data`, read from its start, for the command's standard input: not a pipe,
/// which would block zkr once the command stops reading. -1 (errno set) if it cannot be made.
int input_file(const std::string& data) {
    const int fd = ::memfd_create("zkr-input", MFD_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    for (std::size_t written = 0; written < data.size();) {
        const auto n = ::write(fd, data.data() + written, data.size() - written);
        if (n < 0 && errno != EINTR) {
            const int e = errno;
            ::close(fd);
            errno = e;
            return -1;
        }
        written += n > 0 ? static_cast<std::size_t>(n) : 0;
    }
    ::lseek(fd, 0, SEEK_SET);
    return fd;
}

int shell_status(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// One supervised run. Shared with the callbacks of the handle's waits, which may complete after
/// the run is over (with operation_aborted, once the lock is released): they look at `over`
/// before anything else.
struct supervision : std::enable_shared_from_this<supervision> {
    supervision(asio::any_io_executor ex, hold_limits l)
        : limits(l),
          exits(ex, SIGCHLD),
          forwarded(ex, SIGINT, SIGTERM, SIGHUP),
          escalation(ex),
          hold_clock(ex),
          sweep(ex) {}

    hold_limits limits;
    process_tree tree;
    // Listening for SIGCHLD from before the command exists: its exit cannot be missed.
    asio::signal_set exits;
    asio::signal_set forwarded;
    asio::steady_timer escalation;  // SIGTERM's grace, then SIGKILL
    asio::steady_timer hold_clock;  // --max-hold
    asio::steady_timer sweep;       // while killing: a process forked meanwhile is killed too
    bool over = false;
    bool stopping = false;
    bool killing = false;
    bool revocation_heard = false;
    child_outcome outcome;

    void say(const std::string& what) const {
        if (!limits.quiet) {
            std::fprintf(stderr, "zkr: %s\n", what.c_str());
        }
    }

    void forward_signals() {
        forwarded.async_wait([self = shared_from_this()](boost::system::error_code ec, int sig) {
            if (ec || self->over) {
                return;
            }
            self->tree.signal_all(sig);
            self->forward_signals();
        });
    }

    /// zkr ends the hold: SIGTERM now, SIGKILL after the grace period.
    void stop(const std::string& why) {
        if (stopping || killing) {
            return;
        }
        stopping = true;
        say(why + ": stopping the command (SIGTERM, SIGKILL in " +
            std::to_string(limits.grace.count()) + "s)");
        tree.signal_all(SIGTERM);
        tree.signal_all(SIGCONT);  // a stopped process acts on SIGTERM only once continued
        escalation.expires_after(limits.grace);
        escalation.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec && !self->over) {
                self->kill_all();
            }
        });
    }

    /// Every process, at once and again until none is left.
    void kill_all() {
        killing = true;
        escalation.cancel();
        tree.signal_all(SIGKILL);
        sweep.expires_after(std::chrono::milliseconds(100));
        sweep.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec && !self->over) {
                self->kill_all();
            }
        });
    }

    void on_lost(boost::system::error_code ec) {
        if (over || ec == asio::error::operation_aborted) {
            return;
        }
        outcome.lost = true;
        outcome.lost_reason = ec;
        outcome.revoked = revocation_heard;
        if (!killing) {
            say("lock lost (" + ec.message() + "): killing the command (SIGKILL)");
            kill_all();
        }
    }

    void on_revocation(boost::system::error_code ec, bool heed) {
        if (over || ec) {
            return;  // lost or released first: nothing to revoke
        }
        revocation_heard = true;
        if (heed && !outcome.lost) {
            outcome.revoked = true;
            stop("revocation requested by another client");
        }
    }

    void start_hold_clock() {
        if (!limits.max_hold) {
            return;
        }
        hold_clock.expires_after(*limits.max_hold);
        hold_clock.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (!ec && !self->over && !self->outcome.lost) {
                self->outcome.held_too_long = true;
                self->stop("--max-hold of " + std::to_string(self->limits.max_hold->count()) +
                           "s passed");
            }
        });
    }

    void finish() {
        over = true;
        forwarded.cancel();
        escalation.cancel();
        hold_clock.cancel();
        sweep.cancel();
        tree.dismiss_keeper();
    }
};

}  // namespace

asio::awaitable<child_outcome> run_child(const std::vector<std::string>& argv, const held& h,
                                         hold_limits limits) {
    auto run = std::make_shared<supervision>(co_await asio::this_coro::executor, limits);
    int error = 0;
    if (h.input) {
        const int input = input_file(*h.input);
        error = input < 0 ? errno : run->tree.start(argv, child_environment(h), input);
        if (input >= 0) {
            ::close(input);
        }
    } else {
        error = run->tree.start(argv, child_environment(h));
    }
    if (error != 0) {
        std::fprintf(stderr, "zkr: cannot run %s: %s\n", argv[0].c_str(), std::strerror(error));
        run->finish();
        child_outcome not_run;
        not_run.exit_code = 127;
        co_return not_run;
    }
    run->forward_signals();
    run->start_hold_clock();
    h.wait_lost([run](boost::system::error_code ec) { run->on_lost(ec); });
    if (h.wait_revocation) {
        h.wait_revocation([run, heed = h.heed_revocation](boost::system::error_code ec) {
            run->on_revocation(ec, heed);
        });
    }

    bool told_of_leftovers = false;
    // A SIGCHLD may stand for several children or none of ours: reap() asks waitpid each time.
    while (!run->tree.reap()) {
        if (run->tree.command_exited() && !told_of_leftovers && !run->stopping && !run->killing) {
            told_of_leftovers = true;
            run->say("the command exited; holding on until the " +
                     std::to_string(run->tree.members().size()) +
                     " process(es) it left running are gone");
        }
        co_await run->exits.async_wait(asio::use_awaitable);
    }
    run->finish();
    run->outcome.exit_code = shell_status(run->tree.command_status());
    co_return run->outcome;
}

}  // namespace zkr::cli
