// zkr::persistent_node: a node kept in existence, with the caller's data, for as long as the
// object lives (Apache Curator's PersistentNode and PersistentTtlNode).
//
// Once started, the node is created, and created again whenever it goes: deleted by another
// client, or lost with an expired session that renews (session_config::renew_after_expiry).
// The data to hold is kept here, so every re-creation carries the latest async_set_data. Closing
// (or destroying) the object deletes the node, and only a node this object created: one that
// another session made at the same path is never touched. docs/long-lived.md has the details.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace zkr {

class session;
namespace detail {
class session_seam;
struct access;
class persistent_node_impl;
}  // namespace detail

/// What kind of node a persistent_node keeps.
enum class persistent_node_mode {
    /// An ephemeral node at the path: it goes with the session (and comes back after a renewal).
    ephemeral,
    /// An ephemeral sequential node named in Curator's protected layout,
    /// "<dir>/_c_<uuid>-<name><sequence>": a create whose answer was lost is found by its uuid.
    /// The path changes at each re-creation (node_path()).
    protected_ephemeral,
    /// A persistent node: it outlives the session; only close() (or someone else) deletes it.
    persistent,
    /// A persistent node with a TTL (persistent_node_options::ttl): the server deletes it once
    /// it has been unchanged and childless for its TTL, so it outlives this process by about
    /// that much. While the object lives it is touched (its data written again) every TTL/2.
    /// Servers must allow TTL nodes (-Dzookeeper.extendedTypesEnabled=true).
    persistent_with_ttl,
};

struct persistent_node_options {
    persistent_node_mode mode = persistent_node_mode::ephemeral;
    /// For persistent_with_ttl only (and required there): at least 1 ms.
    std::chrono::milliseconds ttl{0};
};

/// A node kept in existence (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Errors: the session's end (zk_errc::session_expired when it does not renew,
///   errc::session_closed); connection loss is waited out.
/// - Thread safety: as for the other recipe objects, one thread at a time per object.
class ZKR_API persistent_node {
  public:
    /// Nothing is sent before async_start.
    persistent_node(session& s, std::string path, std::string data,
                    persistent_node_options options = {});
    persistent_node(persistent_node&&) noexcept;
    persistent_node& operator=(persistent_node&&) noexcept;
    /// Deletes our node in the background (as async_close, without waiting).
    ~persistent_node();

    /// The path as given (for protected_ephemeral, the directory and name of the nodes).
    const std::string& path() const noexcept;
    /// The node's path now: empty while it does not exist. For protected_ephemeral it changes
    /// at each re-creation.
    std::string node_path() const;

    /// Starts keeping the node, and completes once it exists for the first time.
    /// Handler signature: void(error_code).
    /// Errors: errc::invalid_path (the path, or the name of a protected node, is not valid),
    /// errc::invalid_argument (a TTL missing, or given for another mode), errc::request_too_large
    /// (the data), errc::already_started (a second start, or a start after close): nothing is
    /// sent. errc::ttl_disabled (the server has no TTL nodes), zk_errc::no_auth: the node stops
    /// and nothing is left behind. errc::node_taken: another session's node holds the path;
    /// the node keeps watching it and takes the path once it goes (async_wait_created).
    /// Cancellation: terminal, partial and total: the wait ends (operation_aborted); the node
    /// carries on.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_start(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_start(impl, std::move(h)); });
    }

    /// Completes once the node exists: at once if it does (before async_start, it waits for
    /// it). Errors: those of async_start that stop the node, errc::node_taken while another
    /// session's node holds the path (called again, it waits for the path to be ours), and
    /// operation_aborted once closed. Cancellation: terminal, partial and total.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_created(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_wait_created(impl, std::move(h)); });
    }

    /// Replaces the data the node holds, now and at every re-creation. Completes once the node
    /// holds it (written, or created with it). Before async_start, only sets what the start
    /// will write. Errors: errc::request_too_large (nothing changes), the node's end.
    /// Cancellation: terminal, partial and total: the wait ends; the new data is kept.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_set_data(std::string data, Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string d) {
                initiate_set_data(impl, std::move(d), std::move(h));
            },
            std::move(data));
    }

    /// Stops keeping the node and deletes it, if it is ours (created by this object and still
    /// the same node: its czxid). Completes once deleted, or once there is nothing to delete
    /// (the session ended, or the node went or was replaced). Not cancellable.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_close(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_close(impl, std::move(h)); });
    }

  private:
    friend struct detail::access;
    persistent_node(std::shared_ptr<detail::session_seam> s, std::string path, std::string data,
                    persistent_node_options options);

    using impl_ptr = std::shared_ptr<detail::persistent_node_impl>;
    static void initiate_start(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_wait_created(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_set_data(const impl_ptr&, std::string data,
                                  detail::handler<void(error_code)>);
    static void initiate_close(const impl_ptr&, detail::handler<void(error_code)>);

    impl_ptr impl_;
};

}  // namespace zkr
