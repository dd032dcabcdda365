#include "queue_reader.hpp"

#include "access.hpp"
#include "contender.hpp"
#include "path.hpp"

#include <boost/asio/co_spawn.hpp>

namespace zkr::detail {

boost::asio::awaitable<std::tuple<error_code, std::vector<queue_entry>>> read_queue(
    session_ptr s, std::string path, queue_detail detail) {
    std::vector<queue_entry> out;
    auto [ec, kids] = co_await call<void(error_code, children)>(
        [&](auto h) { s->get_children(path, std::move(h)); });
    if (ec == zk_errc::no_node) {
        co_return std::make_tuple(error_code{}, std::move(out));
    }
    if (ec) {
        co_return std::make_tuple(ec, std::move(out));
    }
    const auto queue = sorted_contenders(kids.names);
    const auto holding = holders(queue);
    for (std::size_t i = 0; i < queue.size(); ++i) {
        const auto& c = queue[i];
        if (detail == queue_detail::names) {
            out.push_back(queue_entry{c.name, std::string(c.role), c.sequence, holding[i], 0, 0, 0,
                                      std::string(), 0});
            continue;
        }
        auto [dec, data] = co_await call<void(error_code, node_data)>(
            [&](auto h) { s->get_data(join_path(path, c.name), std::move(h)); });
        if (dec == zk_errc::no_node) {
            continue;  // released while we read
        }
        if (dec) {
            co_return std::make_tuple(dec, std::move(out));
        }
        out.push_back(queue_entry{c.name, std::string(c.role), c.sequence, holding[i],
                                  data.stat.ephemeral_owner, data.stat.ctime, data.stat.czxid,
                                  std::move(data.data), data.stat.version});
        if (detail == queue_detail::head) {
            break;
        }
    }
    co_return std::make_tuple(error_code{}, std::move(out));
}

void initiate_read_queue(session& public_session, std::string path, bool with_data,
                         handler<void(error_code, std::vector<queue_entry>)> h) {
    initiate_read_queue(access::seam(public_session), std::move(path), with_data, std::move(h));
}

void initiate_read_queue(const session_ptr& s, std::string path, bool with_data,
                         handler<void(error_code, std::vector<queue_entry>)> h) {
    if (validate_path(path)) {
        fail(std::move(h), s->completions(), make_error_code(errc::invalid_path));
        return;
    }
    spawn(s, read_queue(s, std::move(path), with_data ? queue_detail::all : queue_detail::names),
          std::move(h));
}

}  // namespace zkr::detail
