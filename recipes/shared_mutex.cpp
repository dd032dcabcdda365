#include "access.hpp"
#include "contender.hpp"
#include "lock_state.hpp"
#include "log.hpp"
#include "mutex_impl.hpp"
#include "path.hpp"

#include <zkr/session.hpp>
#include <zkr/shared_mutex.hpp>

namespace zkr {
namespace detail {
namespace {

namespace asio = boost::asio;

/// Creates the read node with the write node's sequence, then releases the write lock.
asio::awaitable<std::tuple<error_code, zkr::lock>> downgrade(session_ptr s, std::string dir,
                                                             std::string data, loss_policy policy,
                                                             zkr::lock write) {
    const auto write_name = node_name(write.path());
    const auto node = join_path(dir, protected_prefix(make_uuid(), names::read_marker)) +
                      std::string(write_name.substr(write_name.size() - 10));
    auto create_read_node = [&]() -> asio::awaitable<std::tuple<error_code, created_node>> {
        auto [ec, created] = co_await call<void(error_code, created_node)>(
            [&](auto h) { s->create(node, data, create_mode::ephemeral, std::move(h)); });
        if (ec == zk_errc::node_exists) {  // ours, if the answer to a first try was lost
            auto [eec, st] = co_await call<void(error_code, std::optional<stat>)>(
                [&](auto h) { s->exists(node, std::move(h)); });
            if (!eec && st && st->ephemeral_owner == s->session_id()) {
                ec = {};
                created = created_node{node, *st};
            }
        }
        co_return std::make_tuple(ec, std::move(created));
    };
    auto [ec, created] = co_await retrying(s, create_read_node);
    if (ec) {
        co_return std::make_tuple(ec, std::move(write));
    }
    auto read = std::make_shared<lock_state>(s, acquired_node{created.path, created.stat}, policy,
                                             log::channels::mutex);
    read->start();
    if (!write.owns()) {
        // Lost while we created the read node: a writer may be in; ours must go.
        auto reason = write.lost_reason();
        zkr::lock undo(std::move(read));  // a named local: no temporary in a co_await
        co_await undo.async_release(use_tuple);
        co_return std::make_tuple(reason, std::move(write));
    }
    co_await write.async_release(use_tuple);
    co_return std::make_tuple(error_code{}, zkr::lock(std::move(read)));
}

}  // namespace
}  // namespace detail

shared_mutex::shared_mutex(session& s, std::string path, mutex_options options)
    : writer_(detail::access::construct<mutex>(detail::access::seam(s), path,
                                               std::string(names::write_marker), options)),
      reader_(detail::access::construct<mutex>(detail::access::seam(s), std::move(path),
                                               std::string(names::read_marker),
                                               std::move(options))) {}

mutex& shared_mutex::side_of(const std::string& node) noexcept {
    return detail::node_name(node).find(names::read_marker) != std::string_view::npos ? reader_
                                                                                      : writer_;
}

void shared_mutex::initiate_downgrade(const mutex& reader, lock write_lock,
                                      detail::handler<void(error_code, lock)> h) {
    const auto& impl = *detail::access::get_impl(reader);
    const auto& s = impl.session;
    const auto& path = impl.path;
    const auto& options = impl.options;
    const auto name = detail::node_name(write_lock.path());
    if (!write_lock.owns() || detail::parent_path(write_lock.path()) != path ||
        name.find(names::write_marker) == std::string_view::npos || name.size() < 10) {
        // Handed back as it came: a failed downgrade must not release the caller's lock.
        detail::pending_handler<void(error_code, lock)>(std::move(h), s->completions())
            .complete(make_error_code(errc::not_owner), std::move(write_lock));
        return;
    }
    detail::spawn(
        s, detail::downgrade(s, path, options.node_data, options.on_loss, std::move(write_lock)),
        std::move(h));
}

}  // namespace zkr
