// One party of a two-phase commit in its own process, for the tests that kill parties with
// SIGKILL at each step (integration/two_phase_commit_kill_test.cpp). It prints a line after each
// step, so that the test knows where it is when it kills it:
//   coordinator ID TIMEOUT_MS NAME,NAME...: "proposed ID", then "decided commit|abort"
//   participant NAME commit|abort:         "proposal ID", "voted" (or "too late": decided
//                                          without it), then "decided commit|abort"
//   learner ID:                            "decided commit|abort" (a participant restarted)
#include <zkr/log.hpp>
#include <zkr/session.hpp>
#include <zkr/two_phase_commit.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/log/core.hpp>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace asio = boost::asio;
using zkr::transaction_outcome;

void say(const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

std::string word(transaction_outcome o) {
    return o == transaction_outcome::commit ? "commit" : "abort";
}

std::vector<std::string> split(const std::string& list) {
    std::vector<std::string> out;
    std::istringstream in(list);
    for (std::string item; std::getline(in, item, ',');) {
        out.push_back(item);
    }
    return out;
}

asio::awaitable<void> play(zkr::session& s, std::string path, std::vector<std::string> args) {
    co_await s.async_connect(asio::use_awaitable);
    zkr::two_phase_commit tpc(s, path);
    const auto& role = args.at(0);
    if (role == "coordinator") {
        auto id = co_await tpc.async_propose(args.at(1), "pay", split(args.at(3)),
                                             std::chrono::milliseconds(std::stoi(args.at(2))),
                                             asio::use_awaitable);
        say("proposed " + id);
        say("decided " + word(co_await tpc.async_decide(id, asio::use_awaitable)));
    } else if (role == "participant") {
        const auto& name = args.at(1);
        auto tx = co_await tpc.async_wait_proposal(name, asio::use_awaitable);
        say("proposal " + tx.id);
        auto [ec] = co_await tpc.async_vote(
            tx.id, name,
            args.at(2) == "commit" ? zkr::transaction_vote::commit : zkr::transaction_vote::abort,
            asio::as_tuple(asio::use_awaitable));
        if (ec && ec != zkr::errc::already_decided) {
            throw boost::system::system_error(ec, "vote");
        }
        say(ec ? "too late" : "voted");  // decided without it (another's abort): learn it
        say("decided " + word(co_await tpc.async_wait_decision(tx.id, asio::use_awaitable)));
    } else {
        say("decided " + word(co_await tpc.async_wait_decision(args.at(1), asio::use_awaitable)));
    }
    co_await s.async_close(asio::use_awaitable);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() < 4) {
        std::fprintf(stderr,
                     "usage: %s HOSTS PATH coordinator ID TIMEOUT_MS NAMES | participant NAME "
                     "VOTE | learner ID\n",
                     argv[0]);
        return 2;
    }
    boost::log::core::get()->set_logging_enabled(false);
    asio::io_context ioc;
    zkr::session_config config;
    config.hosts = args[0];
    config.session_timeout = std::chrono::milliseconds(4000);
    zkr::session session(ioc.get_executor(), config);
    int status = 1;
    asio::co_spawn(ioc, play(session, args[1], {args.begin() + 2, args.end()}),
                   [&](std::exception_ptr e) {
                       if (e) {
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& x) {
                               std::fprintf(stderr, "party failed: %s\n", x.what());
                           }
                       }
                       status = e ? 1 : 0;
                   });
    ioc.run();
    return status;
}
