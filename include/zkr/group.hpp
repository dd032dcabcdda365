// zkr::group: group membership. Members join with an id and data; anyone lists them or waits for
// the membership to change.
//
// A member is an ephemeral node "<path>/<id>" holding its data (Apache Curator's GroupMember
// layout, so Java processes see the same members): membership ends with the member's session.
// Two ways to be a member:
// - group::async_join returns a zkr::lock over that node (the lock-handle contract): owns() while
//   a member, async_wait_lost when the membership is lost (session expiry, node deleted),
//   async_release or destruction to leave. The membership ends with the session.
// - zkr::group_member is a lasting membership: a zkr::persistent_node (ephemeral) at that node,
//   created again after a deletion and after a session renewal
//   (session_config::renew_after_expiry), whose data can be updated; closing or destroying it
//   leaves.
// Watchers (async_wait_change) follow the members with a zkr::children_cache: joins, leaves and
// data updates.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/lock.hpp>
#include <zkr/persistent_node.hpp>

#include <memory>
#include <string>
#include <vector>

namespace zkr {

class session;
namespace detail {
class session_seam;
struct access;
struct member_group_state;
}  // namespace detail

/// One member of a group.
struct member {
    std::string id;
    std::string data;
    friend bool operator==(const member&, const member&) = default;
};

/// A group (see the file comment).
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand);
///   never inline from the initiating function.
/// - Lifetimes: as for zkr::mutex (the group may outlive the session object; operations then
///   fail with errc::session_closed).
/// - Errors: errc::invalid_path (the path, or an id that is not one node name), zk_errc::no_auth,
///   the session's end. Connection loss is waited out while the session lives.
class ZKR_API group {
  public:
    group(session& s, std::string path);

    const std::string& path() const noexcept;

    /// Joins as `id` with `data` (the group's directory is created if missing).
    /// Handler signature: void(error_code, lock): the membership.
    /// Errors: zk_errc::node_exists when another session is a member under this id;
    /// errc::already_held when this process joined under this id on this session already (use
    /// that membership: two handles would each claim the one node).
    /// Not cancellable.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_join(std::string id, std::string data, Token&& token = {}) {
        return detail::initiate<void(error_code, lock)>(
            std::forward<Token>(token),
            [impl = impl_](auto h, std::string i, std::string d) {
                initiate_join(impl, std::move(i), std::move(d), std::move(h));
            },
            std::move(id), std::move(data));
    }

    /// The members, by id. A group that does not exist has none.
    /// Handler signature: void(error_code, std::vector<member>).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_members(Token&& token = {}) {
        return detail::initiate<void(error_code, std::vector<member>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_members(impl, false, std::move(h)); });
    }

    /// Completes with the members when they differ from what this object reported last (the
    /// first call reports them at once), ids and data compared. The first call starts a
    /// zkr::children_cache of the group, kept while the group object lives: joins, leaves and data
    /// updates all wake it (1 + N watches for N members), and it follows the group through
    /// connection losses and session renewals. Changes close together may be reported together;
    /// a member that came and went within a round trip may be missed.
    /// Handler signature: void(error_code, std::vector<member>).
    /// Errors: as the cache's (errc::too_many_watches, zk_errc::no_auth, the session's end); the
    /// cache is then dropped, and the next call starts a new one.
    /// Cancellation: terminal, partial and total (operation_aborted; the cache is closed, its
    /// watches removed; the next call starts it again and compares with the last report).
    /// One wait at a time per group object.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_change(Token&& token = {}) {
        return detail::initiate<void(error_code, std::vector<member>)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_members(impl, true, std::move(h)); });
    }

  private:
    friend struct detail::access;
    group(std::shared_ptr<detail::session_seam> s, std::string path);

    using impl_ptr = std::shared_ptr<detail::member_group_state>;
    static void initiate_join(const impl_ptr&, std::string id, std::string data,
                              detail::handler<void(error_code, lock)>);
    static void initiate_members(const impl_ptr&, bool wait_change,
                                 detail::handler<void(error_code, std::vector<member>)>);

    impl_ptr impl_;
};

/// A lasting membership of a group: the ephemeral node "<group path>/<id>" holding `data`, kept
/// by a zkr::persistent_node. It is created again when another client deletes it and, when the
/// session renews after an expiry (session_config::renew_after_expiry), under the new session;
/// async_set_data updates it (and every re-creation carries the latest data); async_close or
/// destruction leaves, deleting the node only if it is this member's.
///
/// Executor, errors and cancellation as for zkr::persistent_node. Errors specific to a member:
/// errc::invalid_path (the group's path, or an id that is not one node name: empty, "a/b", ".").
/// errc::node_taken from async_start while another session is a member under this id: the
/// member then waits for that node to go and joins (async_wait_created).
class ZKR_API group_member {
  public:
    /// A member of `g` (not a moved-from group) on g's session. Nothing is sent before
    /// async_start.
    group_member(const group& g, std::string id, std::string data);

    /// "<group path>/<id>" (empty when the id is not one node name).
    const std::string& path() const noexcept { return node_.path(); }
    /// The member's node path now: empty while it is not a member.
    std::string node_path() const { return node_.node_path(); }

    /// Joins (the group's directory is created if missing); completes once a member.
    /// Handler signature: void(error_code).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_start(Token&& token = {}) {
        return node_.async_start(std::forward<Token>(token));
    }

    /// Completes once a member (at once if it is). Handler signature: void(error_code).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_wait_created(Token&& token = {}) {
        return node_.async_wait_created(std::forward<Token>(token));
    }

    /// Replaces the member's data; completes once the node holds it.
    /// Handler signature: void(error_code).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_set_data(std::string data, Token&& token = {}) {
        return node_.async_set_data(std::move(data), std::forward<Token>(token));
    }

    /// Leaves: stops keeping the node and deletes it if it is ours. Not cancellable.
    /// Handler signature: void(error_code).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_close(Token&& token = {}) {
        return node_.async_close(std::forward<Token>(token));
    }

  private:
    persistent_node node_;
};

}  // namespace zkr
