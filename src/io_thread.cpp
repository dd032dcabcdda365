#include "io_thread.hpp"

#include <openssl/crypto.h>

#include <mutex>
#include <thread>
#include <vector>

namespace zkr::detail {
namespace {

std::mutex& registry_mutex() {
    static std::mutex mutex;
    return mutex;
}

std::weak_ptr<io_thread>& current() {
    static std::weak_ptr<io_thread> thread;
    return thread;
}

/// Threads whose last reference went on themselves: joined when the process's statics are
/// destroyed, so that none is still ending when what it used (OpenSSL, once cleaned up at exit)
/// is gone. Made at the first such end, after OpenSSL's set-up: destroyed before its clean-up.
struct ending_threads {
    std::mutex mutex;
    std::vector<std::thread> threads;
    ~ending_threads() {
        for (auto& t : threads) {
            if (t.get_id() == std::this_thread::get_id()) {
                t.detach();  // the process exits from that very thread
            } else {
                t.join();
            }
        }
    }
};

ending_threads& ending() {
    static ending_threads e;
    return e;
}

}  // namespace

std::shared_ptr<io_thread> io_thread::acquire() {
    std::lock_guard lock(registry_mutex());
    auto thread = current().lock();
    if (!thread) {
        thread.reset(new io_thread());
        current() = thread;
    }
    return thread;
}

io_thread::io_thread()
    : io_(std::make_shared<boost::asio::io_context>(1)), work_(io_->get_executor()) {
    thread_ = std::thread([io = io_] {
        io->run();
        // The TLS tunnels of its sessions ran OpenSSL here, which keeps state per thread (the
        // error queue, a random generator): given back while OpenSSL still stands.
        OPENSSL_thread_stop();
    });
}

io_thread::~io_thread() {
    // run() returns once the handlers still queued (a closing transport's) have run.
    work_.reset();
    if (thread_.get_id() == std::this_thread::get_id()) {
        // The last reference went on the thread itself: it ends on its own, joined at exit.
        auto& e = ending();
        std::lock_guard lock(e.mutex);
        e.threads.push_back(std::move(thread_));
    } else {
        thread_.join();
    }
}

}  // namespace zkr::detail
