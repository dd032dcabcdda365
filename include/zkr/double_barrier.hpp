// zkr::double_barrier: members enter together once enough are present, and leave together.
//
// Apache Curator's DistributedDoubleBarrier layout, so Java processes take part: each member is
// an ephemeral node "<path>/<uuid>"; the member that completes the count creates "<path>/ready"
// (persistent), which lets everyone in; members leave by deleting their nodes in an order that
// wakes one member at a time (the lowest waits for the highest, the others for the lowest), and
// the last one out deletes "ready".
//
// A member whose session ends inside the barrier (a crash) leaves with it: its node goes, so the
// others are not held for it. A member that dies before the count is reached is no longer
// counted: the others wait for another member to arrive. A killed process (SIGKILL, a crash) ends
// its session only when the server expires it, a session timeout later: until then its node
// stands and the member still counts, toward entering and as one still to leave (as in Curator).
#pragma once

#include <zkr/detail/initiate.hpp>
#include <zkr/error.hpp>
#include <zkr/export.hpp>

#include <memory>
#include <string>

namespace zkr {

class session;
namespace detail {
struct double_barrier_state;
class session_seam;
struct access;
}  // namespace detail

/// A double barrier (see the file comment). One object is one member: enter, then leave.
///
/// Common to every asynchronous operation here:
/// - Executor: the handler runs on its associated executor, by default the session's (a strand).
/// - Lifetimes: as for zkr::mutex. Destroying the object while inside does not leave: the node
///   stays until the session ends.
/// - Errors: errc::invalid_path, errc::invalid_argument (members < 1, or enter twice, or leave
///   without entering), zk_errc::no_auth, the session's end. Connection loss is waited out.
class ZKR_API double_barrier {
  public:
    double_barrier(session& s, std::string path, int members);

    const std::string& path() const noexcept;

    /// Joins and completes once `members` members are present (or were: the barrier is open).
    /// Handler signature: void(error_code). Cancellation: terminal, partial and total: our node
    /// is deleted and the handler gets operation_aborted. Costs one watch while waiting.
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_enter(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_enter(impl, std::move(h)); });
    }

    /// Leaves and completes once every member has left. Handler signature: void(error_code).
    /// Cancellation: terminal, partial and total (operation_aborted; our node may already be
    /// gone, as the others' leaving requires).
    template <class Token = boost::asio::deferred_t>
    [[nodiscard]] auto async_leave(Token&& token = {}) {
        return detail::initiate<void(error_code)>(
            std::forward<Token>(token),
            [impl = impl_](auto h) { initiate_leave(impl, std::move(h)); });
    }

  private:
    friend struct detail::access;
    double_barrier(std::shared_ptr<detail::session_seam> s, std::string path, int members);

    using impl_ptr = std::shared_ptr<detail::double_barrier_state>;
    static void initiate_enter(const impl_ptr&, detail::handler<void(error_code)>);
    static void initiate_leave(const impl_ptr&, detail::handler<void(error_code)>);

    impl_ptr impl_;
};

}  // namespace zkr
