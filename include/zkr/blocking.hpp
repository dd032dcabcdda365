// Blocking calls over zkr's recipes, for programs that are not written on Asio.
//
//   zkr::blocking::client zk(config);                   // connects; a thread of its own
//   zkr::blocking::mutex m(zk, "/locks/db");
//   {
//       auto lk = m.lock();                              // zkr::lock: releases when destroyed
//       write(db, lk.fencing_token());
//   }
//   if (auto lk = m.try_lock_for(std::chrono::seconds(5))) { ... }
//
// A client owns an io_context and the thread that runs it; the recipes run there, exactly as
// in an Asio program, and the calls here wait for them. The lock handles are the ordinary
// zkr::lock: a loss is reported by blocking::wait_lost (a waitable) or by a callback,
// lk.async_wait_lost([](zkr::error_code reason) { ... }), which runs on the client's thread.
//
// Callbacks (those above, and leader's) run on the client's thread: keep them short, and never
// call a blocking function from one. It would wait for the thread it blocks; zkr refuses it
// with errc::deadlock instead. The session itself is driven from zkr's own I/O thread
// (session_config::dedicated_io_thread), so a slow callback delays other callbacks but cannot
// cost the session its pings.
//
// Errors: every call has a form that throws boost::system::system_error and one that takes an
// error_code&. Each call may be made from any thread except the client's.
//
// Lifetimes: mutexes, leaders and locks may outlive their client (as zkr::mutex may outlive
// its session). Destroying the client closes the session: its locks are lost, its leaders stop,
// and every blocking call after that fails with errc::session_closed (or with the error that
// ended the session first, zk_errc::session_expired). The asynchronous objects underneath
// (mutex::async(), lock::async_*) run on the client's io_context: they must not be used once
// the client is gone. No object may be used while its client is being destroyed.
#pragma once

#include <zkr/config.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/leader_election.hpp>
#include <zkr/lock.hpp>
#include <zkr/mutex.hpp>
#include <zkr/semaphore.hpp>
#include <zkr/session.hpp>
#include <zkr/shared_mutex.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace zkr::blocking {

namespace detail {
struct leader_state;
}

/// A connected session and the thread its callbacks run on.
class ZKR_API client {
  public:
    /// Starts the thread and connects: waits up to config.connect_timeout. Throws
    /// boost::system::system_error with async_connect's error when no server accepts.
    explicit client(session_config config);
    /// Closes the session (every lock and election node of it goes) and joins the thread. The
    /// blocking objects built on this client then fail with errc::session_closed.
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    /// The session, for the asynchronous API and the recipes' constructors.
    zkr::session& session() noexcept;

  private:
    struct state;
    std::unique_ptr<state> state_;
};

/// A zkr::mutex (or one side of a zkr::shared_mutex) with blocking operations.
class ZKR_API mutex {
  public:
    /// An exclusive lock on `path` (see zkr::mutex).
    mutex(client& c, std::string path, mutex_options options = {});
    /// Blocking operations on an existing mutex of c's session, e.g. a shared_mutex's reader().
    mutex(client& c, zkr::mutex m);

    /// Acquires the lock, waiting as long as it takes.
    zkr::lock lock();
    zkr::lock lock(error_code& ec);

    /// Acquires the lock only if it is free now: an empty lock when it is not.
    zkr::lock try_lock();
    zkr::lock try_lock(error_code& ec);

    /// Acquires the lock, waiting at most `timeout`: an empty lock (and no error) when it
    /// passes; our waiting node is deleted before the call returns.
    zkr::lock try_lock_for(std::chrono::milliseconds timeout);
    zkr::lock try_lock_for(std::chrono::milliseconds timeout, error_code& ec);

    /// Creates the lock directory now (zkr::mutex::async_prepare).
    void prepare();
    void prepare(error_code& ec);

    /// The asynchronous mutex underneath.
    zkr::mutex& async() noexcept { return mutex_; }

  private:
    zkr::mutex mutex_;
};

/// A zkr::shared_mutex (read-write lock) with blocking operations: each side is a
/// blocking::mutex, writer().lock() for exclusive holds, reader().lock() for shared ones.
class ZKR_API shared_mutex {
  public:
    shared_mutex(client& c, std::string path, mutex_options options = {});

    /// The exclusive side ("__WRIT__" nodes).
    mutex& writer() noexcept { return writer_; }
    /// The shared side ("__READ__" nodes).
    mutex& reader() noexcept { return reader_; }

    /// The asynchronous read-write lock underneath (async_downgrade, async_adopt).
    zkr::shared_mutex& async() noexcept { return shared_; }

  private:
    zkr::shared_mutex shared_;
    mutex writer_;
    mutex reader_;
};

/// A zkr::semaphore with blocking operations: acquisitions of `count` leases (all or nothing)
/// returning the ordinary zkr::lease, which releases when destroyed.
class ZKR_API semaphore {
  public:
    /// A semaphore of `max_leases` at `path` (see zkr::semaphore).
    semaphore(client& c, std::string path, int max_leases, semaphore_options options = {});

    /// Acquires `count` leases, waiting as long as it takes.
    zkr::lease acquire(int count = 1);
    zkr::lease acquire(int count, error_code& ec);

    /// Acquires `count` leases only if they are free now: an empty lease when they are not.
    zkr::lease try_acquire(int count = 1);
    zkr::lease try_acquire(int count, error_code& ec);

    /// Acquires `count` leases, waiting at most `timeout`: an empty lease (and no error) when it
    /// passes; our waiting nodes are deleted before the call returns.
    zkr::lease try_acquire_for(std::chrono::milliseconds timeout, int count = 1);
    zkr::lease try_acquire_for(std::chrono::milliseconds timeout, int count, error_code& ec);

    /// The asynchronous semaphore underneath.
    zkr::semaphore& async() noexcept { return semaphore_; }

  private:
    zkr::semaphore semaphore_;
};

/// Releases `l` and waits until its node (a lease: every node) is gone (async_release). A
/// handle that was lost gives the loss reason; an empty one errc::not_owner.
ZKR_API error_code release(zkr::lock& l);
ZKR_API error_code release(zkr::lease& l);

/// Waits until `l` is lost and returns the reason (async_wait_lost): operation_aborted if it is
/// released first.
ZKR_API error_code wait_lost(zkr::lock& l);
ZKR_API error_code wait_lost(zkr::lease& l);

/// As wait_lost, for at most `timeout`: an empty error_code if the handle is still held then.
ZKR_API error_code wait_lost_for(zkr::lock& l, std::chrono::milliseconds timeout);
ZKR_API error_code wait_lost_for(zkr::lease& l, std::chrono::milliseconds timeout);

/// What a leader is told. Both run on the client's thread.
struct leader_callbacks {
    /// We lead: `l` is valid for the duration of the call (copy what it says, such as its
    /// fencing_token(), or write through l.async_guarded_multi before returning).
    std::function<void(const leadership& l)> on_elected;
    /// We no longer lead, for `reason` (the loss reasons of zkr::lock::async_wait_lost). Not
    /// called when stop() ends the leadership.
    std::function<void(error_code reason)> on_lost;
};

/// A participant in a leader election that campaigns until stopped (as Curator's LeaderLatch):
/// it joins at construction, and after losing leadership it joins again while its session
/// lives (a session that expired cannot). Leadership changes are reported to the callbacks.
class ZKR_API leader {
  public:
    leader(client& c, std::string path, std::string participant_id, leader_callbacks callbacks,
           election_options options = {});
    /// stop().
    ~leader();
    leader(const leader&) = delete;
    leader& operator=(const leader&) = delete;

    /// True while we lead.
    bool is_leader() const noexcept;
    /// Our election node's fencing token while we lead, else 0.
    std::int64_t fencing_token() const noexcept;

    /// Waits until we lead, at most `timeout`: true if we lead.
    bool wait_until_leader(std::chrono::milliseconds timeout) const;

    /// Leaves the election (resigns if leading) and waits until our node is gone. From the
    /// client's thread (a callback) it only starts leaving.
    void stop();

  private:
    std::shared_ptr<detail::leader_state> state_;
};

}  // namespace zkr::blocking
