#include "io_thread.hpp"

#include <openssl/crypto.h>

#include <mutex>

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
        // error queue, a random generator). Given back now, while OpenSSL still stands: a
        // detached thread may still be ending when the process's exit has cleaned OpenSSL up,
        // and its state would never be freed.
        OPENSSL_thread_stop();
    });
}

io_thread::~io_thread() {
    // run() returns once the handlers still queued (a closing transport's) have run.
    work_.reset();
    if (thread_.get_id() == std::this_thread::get_id()) {
        thread_.detach();  // the last reference went on the thread itself: it ends on its own
    } else {
        thread_.join();
    }
}

}  // namespace zkr::detail
