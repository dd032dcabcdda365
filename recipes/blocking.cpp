#include "access.hpp"
#include "lock_state.hpp"
#include "log.hpp"
#include "mutex_impl.hpp"
#include "semaphore_impl.hpp"
#include "session_impl.hpp"

#include <zkr/blocking.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <type_traits>

namespace zkr::blocking {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// True on every client's thread: a blocking call made there would wait for itself.
thread_local bool on_client_thread = false;

/// The throwing form of a call taking an error_code&.
template <class Call>
auto or_throw(Call call) {
    error_code ec;
    if constexpr (std::is_void_v<decltype(call(ec))>) {
        call(ec);
        if (ec) {
            throw boost::system::system_error(ec);
        }
    } else {
        auto result = call(ec);
        if (ec) {
            throw boost::system::system_error(ec);
        }
        return result;
    }
}

/// One blocking call: the operation's outcome for the waiting thread, and what cancels the
/// operation at its deadline (used on `strand` only).
template <class... Values>
struct pending_call {
    explicit pending_call(const asio::any_io_executor& ex) : strand(asio::make_strand(ex)) {}

    asio::strand<asio::any_io_executor> strand;
    asio::cancellation_signal cancel;
    std::optional<asio::steady_timer> deadline;
    bool completed = false;

    std::mutex mutex;
    std::condition_variable done;
    std::optional<std::tuple<error_code, Values...>> result;
};

/// Starts `start(handler)` on `ex` and waits for its completion. When `timeout` passes first,
/// the operation is cancelled (terminal) and its completion, whatever it is, still awaited: no
/// operation outlives the call.
template <class... Values, class Start>
std::tuple<error_code, Values...> wait_for(const asio::any_io_executor& ex,
                                           std::optional<milliseconds> timeout, Start start) {
    if (on_client_thread) {
        return {make_error_code(errc::deadlock), Values{}...};
    }
    auto call = std::make_shared<pending_call<Values...>>(ex);
    asio::post(call->strand, [call, timeout, start = std::move(start)]() mutable {
        if (timeout) {
            call->deadline.emplace(call->strand, *timeout);
            call->deadline->async_wait([call](error_code ec) {
                if (!ec && !call->completed) {
                    call->cancel.emit(asio::cancellation_type::terminal);
                }
            });
        }
        start(asio::bind_cancellation_slot(
            call->cancel.slot(),
            asio::bind_executor(call->strand, [call](error_code ec, Values... values) {
                call->completed = true;
                if (call->deadline) {
                    call->deadline->cancel();
                }
                std::lock_guard guard(call->mutex);
                call->result.emplace(ec, std::move(values)...);
                call->done.notify_all();
            })));
    });
    std::unique_lock guard(call->mutex);
    call->done.wait(guard, [&] { return call->result.has_value(); });
    return std::move(*call->result);
}

/// The session behind what a blocking call works on (null for an empty handle).
const zkr::detail::session_seam* session_of(const zkr::mutex& m) {
    return zkr::detail::access::get_impl(m)->session.get();
}
const zkr::detail::session_seam* session_of(const zkr::semaphore& s) {
    return zkr::detail::access::get_impl(s)->session.get();
}
const zkr::detail::session_seam* session_of(const zkr::lock& l) {
    const auto& state = zkr::detail::access::get_impl(l);
    return state ? state->session().get() : nullptr;
}
const zkr::detail::session_seam* session_of(const zkr::lease& l) {
    return l.size() > 0 ? session_of(l.locks().front()) : nullptr;
}

/// wait_for on `object`'s session, unless that session has ended: once the client is gone, so
/// is the io_context its executor refers to, and the session's end is the answer anyway. An
/// empty handle has no session: its operations fail on the system executor.
template <class... Values, class Object, class Start>
std::tuple<error_code, Values...> wait_on(const Object& object, std::optional<milliseconds> timeout,
                                          Start start) {
    const auto* s = session_of(object);
    if (s == nullptr) {
        return wait_for<Values...>(asio::system_executor(), timeout, std::move(start));
    }
    if (auto ended = s->final_error()) {
        return {ended, Values{}...};
    }
    return wait_for<Values...>(s->executor(), timeout, std::move(start));
}

/// An acquisition on `object`'s session: a deadline that passes is not a failure, the handle
/// is simply not taken (and the operation, cancelled, has deleted its nodes).
template <class Handle, class Object, class Start>
Handle take(const Object& object, std::optional<milliseconds> timeout, error_code& ec,
            Start start) {
    auto [result, handle] = wait_on<Handle>(object, timeout, std::move(start));
    ec = timeout && result == asio::error::operation_aborted ? error_code{} : result;
    return std::move(handle);
}

zkr::lock take(zkr::mutex& m, std::optional<milliseconds> timeout, bool try_only, error_code& ec) {
    return take<zkr::lock>(m, timeout, ec, [&m, try_only](auto h) {
        if (try_only) {
            m.async_try_lock(std::move(h));
        } else {
            m.async_lock(std::move(h));
        }
    });
}

zkr::lease take(zkr::semaphore& s, int count, std::optional<milliseconds> timeout, bool try_only,
                error_code& ec) {
    return take<zkr::lease>(s, timeout, ec, [&s, count, try_only](auto h) {
        if (try_only) {
            s.async_try_acquire(count, std::move(h));
        } else {
            s.async_acquire(count, std::move(h));
        }
    });
}

template <class Handle>
error_code release_and_wait(Handle& l) {
    return std::get<0>(wait_on<>(l, std::nullopt, [&l](auto h) { l.async_release(std::move(h)); }));
}

template <class Handle>
error_code wait_lost_within(Handle& l, std::optional<milliseconds> timeout) {
    auto [ec] = wait_on<>(l, timeout, [&l](auto h) { l.async_wait_lost(std::move(h)); });
    // Our deadline cancelled the wait: still held (unless released meanwhile).
    return timeout && ec == asio::error::operation_aborted && l.owns() ? error_code{} : ec;
}
}  // namespace

// ---- client -------------------------------------------------------------------------------------

struct client::state {
    asio::io_context ioc{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    std::optional<zkr::session> session;
    std::thread thread;

    void stop() {
        if (session) {
            wait_for<>(ioc.get_executor(), std::nullopt,
                       [this](auto h) { session->async_close(std::move(h)); });
        }
        work.reset();
        thread.join();
    }
};

client::client(session_config config) : state_(std::make_unique<state>()) {
    // The session's pings run on zkr's own I/O thread: a slow callback on this client's thread
    // cannot cost the session.
    config.dedicated_io_thread = true;
    state_->session.emplace(state_->ioc.get_executor(), std::move(config));
    state_->thread = std::thread([s = state_.get()] {
        on_client_thread = true;
        s->ioc.run();
    });
    auto [ec] = wait_for<>(state_->ioc.get_executor(), std::nullopt,
                           [s = state_.get()](auto h) { s->session->async_connect(std::move(h)); });
    if (ec) {
        state_->stop();  // the destructor does not run for a constructor that throws
        throw boost::system::system_error(ec);
    }
}

client::~client() {
    state_->stop();
}

zkr::session& client::session() noexcept {
    return *state_->session;
}

// ---- mutex and lock -----------------------------------------------------------------------------

mutex::mutex(client& c, std::string path, mutex_options options)
    : mutex_(c.session(), std::move(path), std::move(options)) {}

mutex::mutex(client& /*c*/, zkr::mutex m) : mutex_(std::move(m)) {}

zkr::lock mutex::lock() {
    return or_throw([this](error_code& ec) { return lock(ec); });
}

zkr::lock mutex::lock(error_code& ec) {
    return take(mutex_, std::nullopt, false, ec);
}

zkr::lock mutex::try_lock() {
    return or_throw([this](error_code& ec) { return try_lock(ec); });
}

zkr::lock mutex::try_lock(error_code& ec) {
    return take(mutex_, std::nullopt, true, ec);
}

zkr::lock mutex::try_lock_for(milliseconds timeout) {
    return or_throw([this, timeout](error_code& ec) { return try_lock_for(timeout, ec); });
}

zkr::lock mutex::try_lock_for(milliseconds timeout, error_code& ec) {
    return take(mutex_, timeout, false, ec);
}

void mutex::prepare() {
    or_throw([this](error_code& ec) { prepare(ec); });
}

void mutex::prepare(error_code& ec) {
    std::tie(ec) =
        wait_on<>(mutex_, std::nullopt, [this](auto h) { mutex_.async_prepare(std::move(h)); });
}

// ---- shared_mutex and semaphore ---------------------------------------------------------------

shared_mutex::shared_mutex(client& c, std::string path, mutex_options options)
    : shared_(c.session(), std::move(path), std::move(options)),
      writer_(c, shared_.writer()),
      reader_(c, shared_.reader()) {}

semaphore::semaphore(client& c, std::string path, int max_leases, semaphore_options options)
    : semaphore_(c.session(), std::move(path), max_leases, std::move(options)) {}

zkr::lease semaphore::acquire(int count) {
    return or_throw([this, count](error_code& ec) { return acquire(count, ec); });
}

zkr::lease semaphore::acquire(int count, error_code& ec) {
    return take(semaphore_, count, std::nullopt, false, ec);
}

zkr::lease semaphore::try_acquire(int count) {
    return or_throw([this, count](error_code& ec) { return try_acquire(count, ec); });
}

zkr::lease semaphore::try_acquire(int count, error_code& ec) {
    return take(semaphore_, count, std::nullopt, true, ec);
}

zkr::lease semaphore::try_acquire_for(milliseconds timeout, int count) {
    return or_throw(
        [this, timeout, count](error_code& ec) { return try_acquire_for(timeout, count, ec); });
}

zkr::lease semaphore::try_acquire_for(milliseconds timeout, int count, error_code& ec) {
    return take(semaphore_, count, timeout, false, ec);
}

// ---- handles ------------------------------------------------------------------------------------

error_code release(zkr::lock& l) {
    return release_and_wait(l);
}

error_code release(zkr::lease& l) {
    return release_and_wait(l);
}

error_code wait_lost(zkr::lock& l) {
    return wait_lost_within(l, std::nullopt);
}

error_code wait_lost(zkr::lease& l) {
    return wait_lost_within(l, std::nullopt);
}

error_code wait_lost_for(zkr::lock& l, milliseconds timeout) {
    return wait_lost_within(l, timeout);
}

error_code wait_lost_for(zkr::lease& l, milliseconds timeout) {
    return wait_lost_within(l, timeout);
}

// ---- leader -------------------------------------------------------------------------------------

namespace detail {

struct leader_state {
    leader_state(client& c, std::string path, std::string id, leader_callbacks cb,
                 election_options options)
        : election(c.session(), std::move(path), std::move(id), options),
          callbacks(std::move(cb)),
          ex(c.session().get_executor()) {}

    zkr::leader_election election;
    leader_callbacks callbacks;
    asio::any_io_executor ex;  // the client's thread: the campaign and stop() meet there

    // On the client's thread.
    asio::cancellation_signal stop_signal;
    bool stop_requested = false;

    // Read by any thread.
    mutable std::mutex mutex;
    mutable std::condition_variable changed;
    bool leading = false;
    std::int64_t token = 0;
    bool finished = false;

    void set(bool now_leading, std::int64_t fencing_token) {
        std::lock_guard guard(mutex);
        leading = now_leading;
        token = fencing_token;
        changed.notify_all();
    }
};

}  // namespace detail

namespace {

/// Campaign, lead, report, and campaign again, until stopped or the session ends.
asio::awaitable<void> campaign(std::shared_ptr<detail::leader_state> st) {
    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    while (!st->stop_requested) {
        auto [ec, lead] = co_await st->election.async_campaign(
            asio::bind_cancellation_slot(st->stop_signal.slot(), tuple));
        if (ec) {
            if (ec != asio::error::operation_aborted) {
                ZKR_LOG(
                    warning, log::channels::election,
                    "leader for " << st->election.path() << " stops campaigning: " << ec.message());
            }
            co_return;
        }
        st->set(true, lead.fencing_token());
        if (st->callbacks.on_elected) {
            st->callbacks.on_elected(lead);
        }
        error_code lost;
        if (!st->stop_requested) {
            std::tie(lost) = co_await lead.async_wait_lost(
                asio::bind_cancellation_slot(st->stop_signal.slot(), tuple));
        }
        st->set(false, 0);
        if (st->stop_requested) {
            co_await lead.async_resign(tuple);
            co_return;
        }
        if (st->callbacks.on_lost) {
            st->callbacks.on_lost(lost);
        }
        if (is_session_lost(lost)) {
            co_return;  // a session that ended cannot campaign again
        }
    }
}

}  // namespace

leader::leader(client& c, std::string path, std::string participant_id, leader_callbacks callbacks,
               election_options options)
    : state_(std::make_shared<detail::leader_state>(c, std::move(path), std::move(participant_id),
                                                    std::move(callbacks), options)) {
    asio::co_spawn(state_->ex, campaign(state_), [st = state_](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                ZKR_LOG(error, log::channels::election,
                        "a leader callback threw: " << x.what() << "; leaving the election");
            } catch (...) {
                ZKR_LOG(error, log::channels::election,
                        "a leader callback threw; leaving the election");
            }
        }
        std::lock_guard guard(st->mutex);
        st->leading = false;
        st->token = 0;
        st->finished = true;
        st->changed.notify_all();
    });
}

leader::~leader() {
    stop();
}

bool leader::is_leader() const noexcept {
    std::lock_guard guard(state_->mutex);
    return state_->leading;
}

std::int64_t leader::fencing_token() const noexcept {
    std::lock_guard guard(state_->mutex);
    return state_->token;
}

bool leader::wait_until_leader(milliseconds timeout) const {
    std::unique_lock guard(state_->mutex);
    state_->changed.wait_for(guard, timeout, [&] { return state_->leading || state_->finished; });
    return state_->leading;
}

void leader::stop() {
    {
        // Also after the client is gone: its session's end finished the campaign, and its
        // io_context (state_->ex) is no more.
        std::lock_guard guard(state_->mutex);
        if (state_->finished) {
            return;
        }
    }
    asio::post(state_->ex, [st = state_] {
        if (!st->stop_requested) {
            st->stop_requested = true;
            st->stop_signal.emit(asio::cancellation_type::terminal);
        }
    });
    if (on_client_thread) {
        return;  // the campaign ends once this callback returns
    }
    std::unique_lock guard(state_->mutex);
    state_->changed.wait(guard, [&] { return state_->finished; });
}

}  // namespace zkr::blocking
