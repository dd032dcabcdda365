#include "access.hpp"
#include "coroutines.hpp"
#include "log.hpp"
#include "mutex_impl.hpp"

#include <zkr/multi_lock.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/system_executor.hpp>

#include <algorithm>

namespace zkr::detail {
namespace {

namespace asio = boost::asio;

asio::awaitable<std::tuple<error_code, lock_group>> lock_all(std::vector<mutex> mutexes) {
    std::vector<lock> held;
    error_code ec;
    for (auto& m : mutexes) {
        if (co_await cancellation_requested()) {
            ec = asio::error::operation_aborted;
            break;
        }
        auto [lock_ec, l] = co_await m.async_lock(use_tuple);
        if (lock_ec) {
            ec = lock_ec;
            break;
        }
        held.push_back(std::move(l));
    }
    if (!ec) {
        co_return std::make_tuple(error_code{}, lock_group(std::move(held)));
    }
    ZKR_LOG(debug, log::channels::multi_lock,
            "acquisition of " << mutexes.size() << " locks failed: " << ec.message());
    co_await forget_cancellation();
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
        co_await it->async_release(use_tuple);
    }
    co_return std::make_tuple(ec, lock_group{});
}

}  // namespace

void initiate_lock_all(std::vector<mutex> mutexes, handler<void(error_code, lock_group)> h) {
    // The canonical order: by path. Two multi-locks over the same set then queue in the same
    // order and cannot hold one lock each while waiting for the other's.
    std::stable_sort(mutexes.begin(), mutexes.end(),
                     [](const mutex& a, const mutex& b) { return a.path() < b.path(); });
    const bool repeated =
        std::adjacent_find(mutexes.begin(), mutexes.end(), [](const mutex& a, const mutex& b) {
            return a.path() == b.path();
        }) != mutexes.end();
    if (mutexes.empty() || repeated) {
        fail(std::move(h), asio::system_executor(), make_error_code(errc::invalid_argument));
        return;
    }
    const auto session = access::get_impl(mutexes.front())->session;
    spawn(session, lock_all(std::move(mutexes)), std::move(h));
}

}  // namespace zkr::detail
