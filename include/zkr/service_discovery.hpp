// zkr::service_discovery: services register where they are, and others find them, in
// curator-x-discovery's layout: "<base>/<service name>/<instance id>" holding the instance as
// JSON (zkr::service_instance). Java services using Curator's ServiceDiscovery on the same base
// path see zkr's instances and the reverse.
//
// - async_register keeps an instance registered with a zkr::persistent_node: the node comes back
//   after someone deletes it, and after an expired session renews
//   (session_config::renew_after_expiry); dropping the registration unregisters.
// - async_query, async_query_instance and async_names read once; zkr::service_cache follows one
//   service and zkr::service_provider chooses among its instances.
// docs/discovery.md has the design and the costs.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/persistent_node.hpp>
#include <zkr/service_instance.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace zkr {

class session;
class service_registration;
namespace detail {
class session_seam;
struct access;
struct service_discovery_impl;
struct registered_node;
}  // namespace detail

/// Registration and queries under one base path (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Errors: errc::invalid_path (the base path, a name or an id), the session's end; connection
///   loss is waited out (reads are retried once reconnected).
/// - Thread safety: any member from any thread. The object may be dropped while operations run.
class ZKR_API service_discovery {
  public:
    /// Curator's builder is usually given "/services"; nothing is sent here.
    explicit service_discovery(session& s, std::string base_path = "/services");
    service_discovery(service_discovery&&) noexcept;
    service_discovery& operator=(service_discovery&&) noexcept;
    ~service_discovery();

    const std::string& base_path() const noexcept;

    /// Registers the instance and keeps it registered; completes once its node exists.
    /// An empty id is replaced by a random UUID and a registration time of 0 by now.
    /// Handler signature: void(error_code, service_registration).
    /// Errors: those of validate() and errc::invalid_argument (a dynamic_sequential instance):
    /// nothing is sent. errc::node_taken: another session has an instance under that id;
    /// errc::request_too_large: the JSON is over the packet limit; zk_errc::no_auth. On every
    /// error nothing is left behind.
    /// Cancellation: terminal, partial and total: operation_aborted, and nothing is left behind.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_register(service_instance instance, Token&& token = {});

    /// Every instance of a service, sorted by id. A service that does not exist has none.
    /// Handler signature: void(error_code, std::vector<service_instance>).
    /// Errors: errc::path_in_use when a node under the service is not a service instance (a
    /// foreign layout): no partial list.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_query(std::string name, Token&& token = {}) {
        return detail::initiate<void(error_code, std::vector<service_instance>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string n) {
                initiate_query(impl, std::move(n), std::move(h));
            },
            std::move(name));
    }

    /// One instance; empty when it is not registered.
    /// Handler signature: void(error_code, std::optional<service_instance>).
    /// Errors: errc::path_in_use when the node is not a service instance.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_query_instance(std::string name, std::string id, Token&& token = {}) {
        return detail::initiate<void(error_code, std::optional<service_instance>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string n, std::string i) {
                initiate_query_instance(impl, std::move(n), std::move(i), std::move(h));
            },
            std::move(name), std::move(id));
    }

    /// The names of the services under the base path, sorted. No base path: none.
    /// Handler signature: void(error_code, std::vector<std::string>).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_names(Token&& token = {}) {
        return detail::initiate<void(error_code, std::vector<std::string>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_names(impl, std::move(h)); });
    }

    /// Sets an instance's `enabled` flag, whoever registered it (the CLI's disable and enable),
    /// with a compare-and-set on the node's version: every other field is kept. A registration
    /// that re-creates its node (after a deletion or a renewal) writes its own flag again: its
    /// owner's service_registration::async_set_enabled is the lasting way.
    /// Handler signature: void(error_code).
    /// Errors: zk_errc::no_node (not registered), errc::path_in_use (not a service instance).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_set_enabled(std::string name, std::string id, bool enabled,
                                         Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_, enabled](auto h, std::string n, std::string i) {
                initiate_set_enabled(impl, std::move(n), std::move(i), enabled, std::move(h));
            },
            std::move(name), std::move(id));
    }

  private:
    friend struct detail::access;
    friend class service_cache;
    service_discovery(std::shared_ptr<detail::session_seam> s, std::string base_path);

    using impl_ptr = std::shared_ptr<detail::service_discovery_impl>;
    static void initiate_register(const impl_ptr&, service_instance,
                                  detail::handler<void(error_code, service_registration)>);
    static void initiate_query(const impl_ptr&, std::string name,
                               detail::handler<void(error_code, std::vector<service_instance>)>);
    static void initiate_query_instance(
        const impl_ptr&, std::string name, std::string id,
        detail::handler<void(error_code, std::optional<service_instance>)>);
    static void initiate_names(const impl_ptr&,
                               detail::handler<void(error_code, std::vector<std::string>)>);
    static void initiate_set_enabled(const impl_ptr&, std::string name, std::string id,
                                     bool enabled, detail::handler<void(error_code)>);

    impl_ptr impl_;
};

/// A registered instance, kept registered while this object lives (a zkr::persistent_node:
/// ephemeral for dynamic instances, persistent for static and permanent ones). Move-only;
/// destroying it unregisters in the background. A default-constructed or moved-from
/// registration holds nothing.
///
/// Executor, errors and cancellation as for zkr::persistent_node.
class ZKR_API service_registration {
  public:
    service_registration() = default;
    service_registration(service_registration&&) noexcept = default;
    service_registration& operator=(service_registration&&) noexcept = default;
    ~service_registration() = default;

    /// The instance as registered (the id and time filled in) and last updated.
    const service_instance& instance() const noexcept { return instance_; }
    /// The node's path now: empty while it does not exist (between a deletion and its
    /// re-creation).
    std::string node_path() const;

    /// Completes once the instance's node exists (at once if it does).
    /// Handler signature: void(error_code). A registration that holds nothing:
    /// operation_aborted.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_registered(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [node = node_](auto h) { initiate_wait_registered(node, std::move(h)); });
    }

    /// Replaces the registered instance (every field but name and id, which must stay: else
    /// errc::invalid_argument and nothing changes; an instance validate() refuses: its error);
    /// completes once the node holds it.
    /// Handler signature: void(error_code). A registration that holds nothing:
    /// operation_aborted.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_update(service_instance instance, Token&& token = {}) {
        auto update = prepare_update(std::move(instance));
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token), [node = node_, update = std::move(update)](auto h) {
                initiate_update(node, update, std::move(h));
            });
    }

    /// async_update with only `enabled` changed.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_set_enabled(bool enabled, Token&& token = {}) {
        auto changed = instance_;
        changed.enabled = enabled;
        return async_update(std::move(changed), std::forward<Token>(token));
    }

    /// Unregisters: stops keeping the node and deletes it if it is ours. Not cancellable.
    /// Handler signature: void(error_code). A registration that holds nothing: success.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_unregister(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [node = node_](auto h) { initiate_unregister(node, std::move(h)); });
    }

  private:
    friend class service_discovery;
    using node_ptr = std::shared_ptr<detail::registered_node>;
    /// The JSON to write, or the error an invalid update reports (and then instance_ is kept).
    struct prepared_update {
        error_code error;
        std::string data;
    };

    service_registration(node_ptr node, service_instance instance);
    prepared_update prepare_update(service_instance instance);
    static void initiate_wait_registered(const node_ptr&, detail::handler<void(error_code)>);
    static void initiate_update(const node_ptr&, const prepared_update&,
                                detail::handler<void(error_code)>);
    static void initiate_unregister(const node_ptr&, detail::handler<void(error_code)>);

    // The node kept and its session; shared with the operations in flight, so the last owner's
    // drop unregisters. Null for a registration that holds nothing.
    node_ptr node_;
    service_instance instance_;
};

template <class Token>
auto service_discovery::async_register(service_instance instance, Token&& token) {
    return detail::initiate<void(error_code, service_registration)>(
        std::forward<Token>(token),
        [impl = impl_](auto h, service_instance i) {
            initiate_register(impl, std::move(i), std::move(h));
        },
        std::move(instance));
}

}  // namespace zkr
