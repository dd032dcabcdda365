// zkr::shared_mutex: a distributed read-write lock.
//
// Readers share, writers exclude everyone, and the queue is FIFO: a waiting writer is not starved
// by readers arriving after it. Nodes are named like Apache Curator's InterProcessReadWriteLock
// ("_c_<uuid>-__READ__<seq>", "_c_<uuid>-__WRIT__<seq>") so Java and C++ processes can share one
// lock; kazoo's "__rlock__"/"__lock__" nodes are honoured too.
//
// Herd-free: a writer watches the node just ahead of it; a reader watches only the nearest writer
// ahead of it (not the first writer, and never a later one), and a reader behind readers only
// does not wait at all. A writer's release wakes exactly the readers (or the writer) that can
// now proceed.
//
// Each side is a zkr::mutex (reader(), writer()): acquisitions return zkr::lock handles with
// everything a mutex's lock has (fencing tokens, loss, guarded writes), and the sides can be
// passed to async_lock_all.
#pragma once

#include <zkr/mutex.hpp>

#include <string>

namespace zkr {

class ZKR_API shared_mutex {
  public:
    /// Lifetimes and path checks: as for zkr::mutex (it may outlive the session object).
    shared_mutex(session& s, std::string path, mutex_options options = {});

    const std::string& path() const noexcept { return writer_.path(); }

    /// The exclusive side ("__WRIT__" nodes).
    mutex& writer() noexcept { return writer_; }
    /// The shared side ("__READ__" nodes).
    mutex& reader() noexcept { return reader_; }

    /// Creates the lock directory now: like mutex::async_prepare (both sides share it).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_prepare(Token&& token = {}) {
        return writer_.async_prepare(std::forward<Token>(token));
    }

    /// Exclusive acquisition: like mutex::async_lock.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_lock(Token&& token = {}) {
        return writer_.async_lock(std::forward<Token>(token));
    }
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_try_lock(Token&& token = {}) {
        return writer_.async_try_lock(std::forward<Token>(token));
    }

    /// Shared acquisition: like mutex::async_lock, but held together with other readers.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_lock_shared(Token&& token = {}) {
        return reader_.async_lock(std::forward<Token>(token));
    }
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_try_lock_shared(Token&& token = {}) {
        return reader_.async_try_lock(std::forward<Token>(token));
    }

    /// Turns a write lock of this read-write lock into a read lock, letting no writer in
    /// between: the read node takes the write node's sequence number (Curator's rule since
    /// CURATOR-621), so writers queued behind the write lock stay behind the read lock; then the
    /// write lock is released. Readers queued behind those writers still wait for them (FIFO).
    ///
    /// Handler signature: void(error_code, lock): the read lock. On error the lock handed back
    /// is `write_lock`, unchanged.
    /// Errors: errc::not_owner (`write_lock` is not a held write lock of this path), the write
    /// lock's loss reason if it is lost meanwhile, the session's errors. Not cancellable.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_downgrade(lock write_lock, Token&& token = {}) {
        return detail::initiate<void(error_code, lock)>(
            std::forward<Token>(token),
            [reader = reader_](auto h, lock w) {
                initiate_downgrade(reader, std::move(w), std::move(h));
            },
            std::move(write_lock));
    }

    /// Takes over a read or a write node of this lock that our session owns (after a restart
    /// that resumed the session): mutex::async_adopt on the side its name says.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_adopt(std::string node_path, Token&& token = {}) {
        auto& side = side_of(node_path);
        return side.async_adopt(std::move(node_path), std::forward<Token>(token));
    }

  private:
    /// The reader for a "__READ__" node, else the writer (which refuses a node not its own).
    mutex& side_of(const std::string& node) noexcept;

    static void initiate_downgrade(const mutex& reader, lock write_lock,
                                   detail::handler<void(error_code, lock)> h);

    mutex writer_;
    mutex reader_;
};

}  // namespace zkr
