// Transactions guarded by held nodes (on_held.hpp): the server applies them only while every
// guard's node exists.
#include "on_held.hpp"

#include "path.hpp"

#include <algorithm>
#include <iterator>

namespace zkr::detail {

void guarded_multi(const std::vector<std::shared_ptr<lock_state>>& guards, std::vector<op> ops,
                   handler<void(error_code, std::vector<op_result>)> h) {
    const auto& s = guards.front()->session();
    if (!std::ranges::all_of(guards, [](const auto& g) { return g->owns(); })) {
        fail(std::move(h), s->completions(), make_error_code(errc::lock_lost));
        return;
    }
    if (auto ec = validate_ops(ops)) {
        fail(std::move(h), s->completions(), ec);
        return;
    }
    std::vector<op> checked;
    checked.reserve(guards.size() + ops.size());
    for (const auto& g : guards) {
        checked.push_back(op::check(g->path()));
    }
    std::move(ops.begin(), ops.end(), std::back_inserter(checked));
    auto pending = std::make_shared<pending_handler<void(error_code, std::vector<op_result>)>>(
        std::move(h), s->completions());
    s->multi(std::move(checked), [guards, pending](error_code ec, std::vector<op_result> results) {
        bool check_failed = false;
        for (std::size_t i = 0; i < guards.size() && i < results.size(); ++i) {
            if (results[i].ec == zk_errc::no_node) {
                check_failed = true;
                guards[i]->node_missing();
            }
        }
        results.erase(results.begin(), results.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                             guards.size(), results.size())));
        pending->complete(check_failed ? make_error_code(errc::lock_lost) : ec, std::move(results));
    });
}

}  // namespace zkr::detail
