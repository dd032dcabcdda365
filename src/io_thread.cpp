#include "io_thread.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace zkr::detail {

struct io_thread::thread_state {
    std::shared_ptr<boost::asio::io_context> io = std::make_shared<boost::asio::io_context>(1);
    // The fields below are under the registry's mutex.
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work{
        io->get_executor()};
    std::thread thread;
    int open_sessions = 0;
    std::atomic<bool> finished{false};
};

namespace {

/// Every thread started and not joined yet. Never destroyed (a session destroyed late in exit
/// may still reach it); its exit hook joins the threads, registered after OpenSSL's set-up has
/// registered that library's clean-up at exit, so that the threads are joined before it runs.
class thread_registry {
  public:
    static thread_registry& instance() {
        static auto* registry = new thread_registry();
        return *registry;
    }

    std::mutex mutex;
    std::weak_ptr<io_thread> current;  // the thread new sessions share
    std::vector<std::shared_ptr<io_thread::thread_state>> threads;

    /// Joins and forgets the threads that have ended on their own (under the mutex).
    void prune() {
        std::erase_if(threads, [](const auto& state) {
            if (!state->finished.load()) {
                return false;
            }
            state->thread.join();  // returns at once: the thread has ended
            return true;
        });
    }

    /// Takes `state` out of the registry; true if it was there (whoever takes it joins it).
    bool take(const std::shared_ptr<io_thread::thread_state>& state) {
        return std::erase(threads, state) > 0;
    }

  private:
    thread_registry() {
        // OpenSSL registers its clean-up at exit when it is first set up: done now, so that the
        // hook registered next runs before it.
        OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CRYPTO_STRINGS, nullptr);
        std::atexit([] { instance().join_at_exit(); });
    }

    void join_at_exit() {
        std::vector<std::shared_ptr<io_thread::thread_state>> ending;
        {
            std::lock_guard lock(mutex);
            for (auto& state : threads) {
                if (state->open_sessions > 0) {
                    state->io->stop();  // the process exits with a session open
                }
                state->work.reset();
            }
            ending.swap(threads);
        }
        // Joined outside the mutex: the handlers still queued may take it (~io_thread).
        for (auto& state : ending) {
            if (state->thread.get_id() == std::this_thread::get_id()) {
                state->thread.detach();  // the process exits from that very thread
            } else {
                state->thread.join();
            }
        }
    }
};

}  // namespace

std::shared_ptr<io_thread> io_thread::acquire() {
    auto& registry = thread_registry::instance();
    std::lock_guard lock(registry.mutex);
    registry.prune();
    auto thread = registry.current.lock();
    if (!thread) {
        thread.reset(new io_thread());
        registry.current = thread;
        registry.threads.push_back(thread->state_);
    }
    return thread;
}

io_thread::io_thread() : state_(std::make_shared<thread_state>()) {
    state_->thread = std::thread([state = state_.get(), io = state_->io] {
        io->run();
        // The TLS tunnels of its sessions ran OpenSSL here, which keeps state per thread (the
        // error queue, random generators): given back while OpenSSL still stands.
        OPENSSL_thread_stop();
        state->finished = true;
    });
}

io_thread::~io_thread() {
    auto& registry = thread_registry::instance();
    bool mine = false;
    {
        // run() returns once the handlers still queued (a closing transport's) have run.
        std::lock_guard lock(registry.mutex);
        state_->work.reset();
        if (state_->thread.get_id() == std::this_thread::get_id()) {
            return;  // the last reference went on the thread itself: joined later
        }
        mine = registry.take(state_);
    }
    if (mine) {
        state_->thread.join();
    }
}

boost::asio::io_context::executor_type io_thread::get_executor() const noexcept {
    return state_->io->get_executor();
}

io_thread::open_session io_thread::mark_open() const {
    return open_session(state_);
}

io_thread::open_session::open_session(std::shared_ptr<thread_state> state)
    : state_(std::move(state)) {
    std::lock_guard lock(thread_registry::instance().mutex);
    ++state_->open_sessions;
}

io_thread::open_session& io_thread::open_session::operator=(open_session&& other) noexcept {
    if (this != &other) {
        release();
        state_ = std::move(other.state_);
    }
    return *this;
}

void io_thread::open_session::release() noexcept {
    if (state_) {
        std::lock_guard lock(thread_registry::instance().mutex);
        --state_->open_sessions;
        state_.reset();
    }
}

}  // namespace zkr::detail
