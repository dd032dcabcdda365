// zkr::group: group membership. Members join with an id and data; anyone lists them or waits for
// the membership to change.
//
// A member is an ephemeral node "<path>/<id>" holding its data (Apache Curator's GroupMember
// layout, so Java processes see the same members): membership ends with the member's session.
// Joining returns a zkr::lock over that node (the lock-handle contract): owns() while a member,
// async_wait_lost when the membership is lost (session expiry, node deleted), async_release or
// destruction to leave.
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>
#include <zkr/lock.hpp>

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
    /// first call reports them at once), ids and data compared. Joins and leaves wake it (one
    /// children watch); data is not watched (that would cost a watch per member), but it is read
    /// with every listing: a data change is reported with the next join or leave, or at once if it
    /// lands before this wait has read the members (between two waits, or while it reads).
    /// A member that came and went within a round trip may be missed.
    /// Handler signature: void(error_code, std::vector<member>).
    /// Cancellation: terminal, partial and total (operation_aborted; the watch is removed).
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

}  // namespace zkr
