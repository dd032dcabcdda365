// A ZooKeeper session: the connection every recipe runs on.
//
// A session owns one ZooKeeper C-client handle. It connects, tracks the session's state
// (connecting, connected, suspended, expired, closed), and offers the ZooKeeper operations the
// recipes are built from, as Asio asynchronous operations.
//
// Threading: the session drives the ZooKeeper C client (its single-threaded build) from the
// executor given at construction: a socket wait and a timer on that io_context, no thread of its
// own. Its pings are sent from there too, so a handler that blocks the io_context's only thread
// for long delays them (see docs/session.md); session_config::dedicated_io_thread moves the
// driving to zkr's own thread. Results are posted to the handler's associated executor, which
// defaults to the session's executor: a strand over the executor given at construction. All
// member functions may be called from any thread. While the session is open the io_context has
// work (the socket wait): io_context::run() returns after the session is closed.
//
// Requests (create, remove, get, set, multi, sync) are not cancellable: ZooKeeper cannot take a
// sent request back, and completing early would hide whether a node was created. They complete
// within the connection's timeouts: on connection loss with zk_errc::connection_loss. Waits
// (watches, state changes, connect) support per-operation cancellation.
//
// Expiry is final for what the session held: after zk_errc::session_expired every lock, lease,
// leadership and watch it carried is lost for good. By default the session then stays expired
// (create a new one to continue); with session_config::renew_after_expiry it opens a new
// ZooKeeper session, its next generation, and the long-lived recipes carry on in it
// (docs/long-lived.md).
#pragma once

#include <zkr/config.hpp>
#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/op.hpp>
#include <zkr/watch.hpp>
#include <zkr/znode.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zkr {

namespace detail {
class session_impl;
struct access;
}  // namespace detail

enum class session_state {
    not_started,  ///< async_connect not called yet
    connecting,   ///< first connection in progress
    connected,
    suspended,    ///< connection lost; the session may still be alive on the server
    expired,      ///< the server expired the session: final, unless it renews (then the next
                  ///< generation goes on connecting at once)
    auth_failed,  ///< the server refused our credentials: final
    closed,       ///< closed by the user: final
};

ZKR_API const char* to_string(session_state s) noexcept;

/// A ZooKeeper session (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Lifetimes: this object may be destroyed while operations are pending (they keep what they
///   need); arguments are copied.
/// - Thread safety: distinct objects are independent; one object may be used from several
///   threads (operations are serialised on the session's strand).
/// - Errors common to all: errc::not_connected before async_connect, errc::session_closed
///   after close, zk_errc::session_expired after expiry, errc::invalid_path, and
///   zk_errc::connection_loss while disconnected (retry once reconnected: is_retryable).
class ZKR_API session {
  public:
    using executor_type = boost::asio::any_io_executor;

    /// Creates an unconnected session. Nothing touches the network until async_connect.
    session(executor_type ex, session_config config);
    session(session&&) noexcept;
    session& operator=(session&&) noexcept;
    /// Closes the session if it is open, without blocking: the close continues on the session's
    /// executor (the server is told at once, ephemeral nodes go then). If the io_context is
    /// destroyed before that could run, the C client's own blocking close frees the handle.
    ~session();

    executor_type get_executor() const noexcept;
    const session_config& config() const noexcept;

    session_state state() const noexcept;
    /// The server-assigned id (0 before the first connection, and while a renewal connects).
    std::int64_t session_id() const noexcept;
    /// Which ZooKeeper session this is: 0 before async_connect, 1 from then on, one more at
    /// each renewal after expiry (session_config::renew_after_expiry). A lock, lease or
    /// leadership belongs to the generation it was taken in and ends with it.
    std::uint64_t generation() const noexcept;
    client_id id() const noexcept;
    /// The session timeout granted by the server (zero before the first connection).
    std::chrono::milliseconds negotiated_timeout() const noexcept;

    /// Starts the C client and waits until the session is established.
    ///
    /// Handler signature: void(error_code).
    /// Cancellation: terminal, partial, total: the wait ends with operation_aborted; the session
    /// keeps connecting until it is closed or destroyed.
    /// Errors: errc::connect_timeout (no server answered within config().connect_timeout),
    /// errc::invalid_connect_string, errc::ipv6_literal, errc::chroot_missing,
    /// errc::too_many_open_files (the process or the system is out of descriptors: reported at
    /// the first failed attempt, not after connect_timeout) (the session is closed then),
    /// zk_errc::auth_failed, errc::session_closed.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_connect(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_connect(impl, std::move(h)); });
    }

    /// Closes the session: ephemeral nodes are deleted by the server at once, pending operations
    /// and watches complete with errc::session_closed. Never blocks the executor: the close
    /// request and the wait for the server's answer (at most 1.5 s) are asynchronous.
    /// Handler signature: void(error_code). Not cancellable.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_close(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_close(impl, std::move(h)); });
    }

    /// Waits until the state differs from `seen` (completes at once if it already does).
    /// Handler signature: void(error_code, session_state). Cancellation: terminal, partial, total.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_state_change(session_state seen, Token&& token = {}) {
        return detail::initiate<void(error_code, session_state)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, session_state s) { initiate_wait_state(impl, s, std::move(h)); },
            seen);
    }

    /// Requests in flight and armed watches the C client may still call back. A diagnostic:
    /// zero once everything has completed.
    std::size_t pending_operations() const noexcept;

    /// Replaces the server list (dynamic reconfiguration). The C client reconnects if the
    /// current server is no longer listed. Returns the C client's verdict.
    error_code set_servers(const std::string& hosts);

    // ---- ZooKeeper operations. Paths are absolute ("/a/b"), relative to the chroot if any. ----

    /// Handler signature: void(error_code, created_node). The node gets config().acl.
    /// The TTL modes take async_create_ttl (here: errc::invalid_argument).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_create(std::string path, std::string data, create_mode mode,
                                    Token&& token = {}) {
        return detail::initiate<void(error_code, created_node)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string p, std::string d, create_mode m) {
                initiate_create(impl, std::move(p), std::move(d), m, std::move(h));
            },
            std::move(path), std::move(data), mode);
    }

    /// Handler signature: void(error_code). version -1 removes whatever the version.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_remove(std::string path, int version = -1, Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string p, int v) {
                initiate_remove(impl, std::move(p), v, std::move(h));
            },
            std::move(path), version);
    }

    /// Handler signature: void(error_code, node_data).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_get_data(std::string path, Token&& token = {}) {
        return detail::initiate<void(error_code, node_data)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string p) {
                initiate_get_data(impl, std::move(p), std::move(h));
            },
            std::move(path));
    }

    /// get_data that leaves a watch (fires on change or deletion). No watch is left when the
    /// node does not exist (zk_errc::no_node).
    /// Handler signature: void(error_code, node_data, watch).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_watch_data(std::string path, Token&& token = {}) {
        return detail::initiate<void(error_code, node_data, watch)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string p) {
                initiate_watch_data(impl, std::move(p), std::move(h));
            },
            std::move(path));
    }

    /// Handler signature: void(error_code, std::optional<stat>): no error and an empty optional
    /// when the node does not exist.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_exists(std::string path, Token&& token = {}) {
        return detail::initiate<void(error_code, std::optional<stat>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string p) {
                initiate_exists(impl, std::move(p), std::move(h));
            },
            std::move(path));
    }

    /// exists that leaves a watch: on creation if absent, on change or deletion if present.
    /// Handler signature: void(error_code, std::optional<stat>, watch).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_watch_exists(std::string path, Token&& token = {}) {
        return detail::initiate<void(error_code, std::optional<stat>, watch)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string p) {
                initiate_watch_exists(impl, std::move(p), std::move(h));
            },
            std::move(path));
    }

    /// Handler signature: void(error_code, children).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_get_children(std::string path, Token&& token = {}) {
        return detail::initiate<void(error_code, children)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string p) {
                initiate_get_children(impl, std::move(p), std::move(h));
            },
            std::move(path));
    }

    /// get_children that leaves a child watch. Handler signature: void(error_code, children,
    /// watch).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_watch_children(std::string path, Token&& token = {}) {
        return detail::initiate<void(error_code, children, watch)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string p) {
                initiate_watch_children(impl, std::move(p), std::move(h));
            },
            std::move(path));
    }

    /// Handler signature: void(error_code, stat). version -1 sets whatever the version.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_set_data(std::string path, std::string data, int version = -1,
                                      Token&& token = {}) {
        return detail::initiate<void(error_code, stat)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string p, std::string d, int v) {
                initiate_set_data(impl, std::move(p), std::move(d), v, std::move(h));
            },
            std::move(path), std::move(data), version);
    }

    /// Applies all operations or none. On failure the error is the first failing operation's,
    /// and each op_result carries its own.
    /// Handler signature: void(error_code, std::vector<op_result>).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_multi(std::vector<op> ops, Token&& token = {}) {
        return detail::initiate<void(error_code, std::vector<op_result>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::vector<op> o) {
                initiate_multi(impl, std::move(o), std::move(h));
            },
            std::move(ops));
    }

    /// Makes the server this session talks to catch up with the leader for `path`, so that a
    /// following read sees every write committed before the sync. Handler signature:
    /// void(error_code).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_sync(std::string path, Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string p) {
                initiate_sync(impl, std::move(p), std::move(h));
            },
            std::move(path));
    }

    /// The shared state behind this session, for recipes built on it.
    /// Creates a node with a time to live: the server deletes it once it has had no children
    /// and no change for `ttl` (its cleanup runs every znode.container.checkIntervalMs, one
    /// minute by default). `mode`: create_mode::persistent_with_ttl or
    /// persistent_sequential_with_ttl. ZooKeeper 3.5.3 and later, on servers started with
    /// -Dzookeeper.extendedTypesEnabled=true.
    ///
    /// Handler signature: void(error_code, created_node). Errors: errc::ttl_disabled when the
    /// server does not allow TTL nodes; errc::invalid_argument for another mode or a ttl outside
    /// 1 ms to 2^40 - 1 ms (about 34 years).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_create_ttl(std::string path, std::string data, create_mode mode,
                                        std::chrono::milliseconds ttl, Token&& token = {}) {
        return detail::initiate<void(error_code, created_node)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string p, std::string d, create_mode m,
                           std::chrono::milliseconds t) {
                initiate_create_ttl(impl, std::move(p), std::move(d), m, t, std::move(h));
            },
            std::move(path), std::move(data), mode, ttl);
    }

  private:
    friend struct detail::access;
    using impl_ptr = std::shared_ptr<detail::session_impl>;
    static void initiate_connect(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_close(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_wait_state(const impl_ptr&, session_state,
                                    detail::handler<void(error_code, session_state)>);
    static void initiate_create(const impl_ptr&, std::string, std::string, create_mode,
                                detail::handler<void(error_code, created_node)>);
    static void initiate_create_ttl(const impl_ptr&, std::string, std::string, create_mode,
                                    std::chrono::milliseconds,
                                    detail::handler<void(error_code, created_node)>);
    static void initiate_remove(const impl_ptr&, std::string, int,
                                detail::handler<void(error_code)>);
    static void initiate_get_data(const impl_ptr&, std::string,
                                  detail::handler<void(error_code, node_data)>);
    static void initiate_watch_data(const impl_ptr&, std::string,
                                    detail::handler<void(error_code, node_data, watch)>);
    static void initiate_exists(const impl_ptr&, std::string,
                                detail::handler<void(error_code, std::optional<stat>)>);
    static void initiate_watch_exists(
        const impl_ptr&, std::string,
        detail::handler<void(error_code, std::optional<stat>, watch)>);
    static void initiate_get_children(const impl_ptr&, std::string,
                                      detail::handler<void(error_code, children)>);
    static void initiate_watch_children(const impl_ptr&, std::string,
                                        detail::handler<void(error_code, children, watch)>);
    static void initiate_set_data(const impl_ptr&, std::string, std::string, int,
                                  detail::handler<void(error_code, stat)>);
    static void initiate_multi(const impl_ptr&, std::vector<op>,
                               detail::handler<void(error_code, std::vector<op_result>)>);
    static void initiate_sync(const impl_ptr&, std::string, detail::handler<void(error_code)>);

    impl_ptr impl_;
};

}  // namespace zkr
