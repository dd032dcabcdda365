// zkr without Asio: plain threads take turns through zkr::blocking, and a leader is elected with
// callbacks. Four threads bump a counter kept in a file (read, add one, write back) under the
// lock; the program fails if an increment is lost.
//   blocking_lock HOSTS [LOCK_PATH]
#include <zkr/zkr.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

long read_counter(const std::string& file) {
    std::ifstream in(file);
    long value = 0;
    in >> value;
    return value;
}

void write_counter(const std::string& file, long value) {
    std::ofstream(file, std::ios::trunc) << value << '\n';
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s HOSTS [LOCK_PATH]\n", argv[0]);
        return 64;
    }
    const std::string path = argc > 2 ? argv[2] : "/zkr/blocking";
    const std::string counter = "blocking_lock.counter";
    constexpr int threads = 4, rounds = 10;
    write_counter(counter, 0);

    zkr::session_config config;
    config.hosts = argv[1];
    zkr::blocking::client zk(config);  // throws if no server accepts the session

    std::atomic<long> leader_token{0};
    zkr::blocking::leader leader(
        zk, path + "/leader", "blocking_lock",
        {.on_elected = [&](const zkr::leadership& l) { leader_token = l.fencing_token(); },
         .on_lost =
             [](zkr::error_code reason) {
                 std::fprintf(stderr, "leadership lost: %s\n", reason.message().c_str());
             }});

    zkr::blocking::mutex mutex(zk, path + "/counter");
    mutex.prepare();  // the first acquisition then costs what the others do
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&] {
            for (int i = 0; i < rounds; ++i) {
                auto lock = mutex.lock();  // released at the end of the iteration
                write_counter(counter, read_counter(counter) + 1);
            }
        });
    }
    for (auto& w : workers) {
        w.join();
    }

    const long total = read_counter(counter);
    std::printf("counter: %ld of %d\n", total, threads * rounds);
    if (!leader.wait_until_leader(std::chrono::seconds(10))) {
        std::fprintf(stderr, "never elected\n");
        return 1;
    }
    std::printf("leader with token %ld\n", leader_token.load());
    std::remove(counter.c_str());
    return total == threads * rounds ? 0 : 1;
}
