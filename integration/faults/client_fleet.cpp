#include "client_fleet.hpp"

#include "history.hpp"

#include "../partitioned_ensemble.hpp"
#include "../test_support.hpp"

#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <thread>

namespace zkr::faults {
namespace {

std::uintmax_t size_of(const std::string& file) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    return ec ? 0 : size;
}

/// Whether `file` has a line starting with one of `marks` past its first `offset` bytes.
bool progressed_since(const std::string& file, std::uintmax_t offset,
                      const std::vector<std::string>& marks) {
    std::ifstream in(file);
    in.seekg(static_cast<std::streamoff>(offset));
    for (std::string line; std::getline(in, line);) {
        if (std::any_of(marks.begin(), marks.end(),
                        [&](const std::string& mark) { return line.starts_with(mark); })) {
            return true;
        }
    }
    return false;
}

}  // namespace

void pass_time(std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);
}

client_fleet::client_fleet(std::string dir)
    : dir_(std::move(dir)), nemesis_(dir_ + "/nemesis.hist", std::ios::app) {}

void client_fleet::start(const role& r, std::size_t count) {
    const auto first = slots_.size();
    for (std::size_t i = 0; i < count; ++i) {
        slots_.push_back(slot{r, i, 0, std::nullopt});
    }
    for (auto i = first; i < slots_.size(); ++i) {
        launch(slots_[i]);
    }
}

void client_fleet::fault(const std::string& kind, const std::function<void()>& apply) {
    const auto start = now_ns();
    apply();
    nemesis_ << "F " << kind << " " << start << " " << now_ns() << "\n" << std::flush;
    ++faults_;
    EXPECT_TRUE(progress()) << "a client made no progress after " << kind;
}

void client_fleet::kill(std::size_t i) {
    fault("kill", [&] {
        auto& s = slots_[i];
        s.process->kill(SIGKILL);
        nemesis_ << "K " << history_name(s) << " " << now_ns() << "\n" << std::flush;
        EXPECT_EQ(s.process->wait(std::chrono::seconds(10)), 128 + SIGKILL);
        ++killed_;
        ++s.generation;
        launch(s);
    });
}

void client_fleet::freeze(std::size_t i, std::chrono::milliseconds how_long,
                          const std::function<bool(const std::string& history)>& when) {
    fault("freeze", [&] {
        if (when) {
            const auto file = history(slots_[i]);
            EXPECT_TRUE(test::wait_until([&] { return when(file); }, std::chrono::seconds(30)))
                << history_name(slots_[i]) << " never came to the moment to freeze it";
        }
        slots_[i].process->kill(SIGSTOP);
        pass_time(how_long);
        slots_[i].process->kill(SIGCONT);
    });
}

void client_fleet::isolate_leader(test::partitioned_ensemble& net,
                                  std::chrono::milliseconds beyond) {
    const int leader = net.wait_for_quorum(net.every_server(), std::chrono::seconds(10));
    fault("isolate_leader", [&] {
        EXPECT_TRUE(net.isolate_past_election(leader > 0 ? leader : 1, beyond))
            << "no quorum left, or none after the heal";
        EXPECT_TRUE(net.wait_all_serving(std::chrono::seconds(30))) << "a server did not rejoin";
    });
}

void client_fleet::wait_stopped(const std::string& prefix) {
    for (auto& s : slots_) {
        if (s.kind.prefix == prefix) {
            EXPECT_EQ(s.process->wait(std::chrono::seconds(30)), 0) << s.process->report();
        }
    }
}

std::string client_fleet::history_name(const slot& s) const {
    return s.kind.prefix + "-" + std::to_string(s.index + 1) + "-" + std::to_string(s.generation) +
           ".hist";
}

void client_fleet::launch(slot& s) {
    s.process.emplace(s.kind.command(s.index, history(s)));
}

bool client_fleet::progress() {
    for (const auto& s : slots_) {
        const auto file = history(s);
        const auto from = size_of(file);
        if (!test::wait_until([&] { return progressed_since(file, from, s.kind.progress); },
                              std::chrono::seconds(30))) {
            return false;
        }
    }
    return true;
}

}  // namespace zkr::faults
