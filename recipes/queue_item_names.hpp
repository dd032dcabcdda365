// The names of a queue's items in the curator_distributed layout (<zkr/queue.hpp>), Curator's
// DistributedQueue family: the order in which they come out, and when. Pure functions, unit
// tested.
//   queue-<seq>              DistributedQueue          FIFO
//   queue-<p><seq>           DistributedPriorityQueue  <p>: "1" and 8 hex digits for a priority
//                                                      >= 0, "0" and the 8 hex digits of its
//                                                      two's complement below 0 (Curator's
//                                                      priorityToString): name order is
//                                                      priority order
//   queue-|<epoch>|<seq>     DistributedDelayQueue     <epoch>: the ms since the Unix epoch from
//                                                      which the item is due, hex, at least 8
//                                                      digits (Curator's epochToString)
#pragma once

#include <zkr/queue.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zkr::detail {

/// Where an item stands, read from its name: items come out in this order (due time, then
/// priority, then sequence), and only once due. A FIFO item is due at 0 with priority 0.
struct item_order {
    std::int64_t due_ms = 0;  ///< a delay queue's item: its epoch; others 0
    std::int64_t priority = 0;
    std::int64_t sequence = 0;
    auto operator<=>(const item_order&) const = default;
};

/// The order of a "queue-..." child: nullopt for a name of none of the three forms (Curator's
/// DistributedIdQueue's, say), which a zkr consumer leaves alone.
std::optional<item_order> parse_distributed_item(std::string_view name);

/// What a put names its item before the server appends the sequence: "queue-",
/// "queue-<p>" or "queue-|<epoch>|".
std::string distributed_item_prefix(std::optional<std::int64_t> priority,
                                    std::optional<std::int64_t> due_ms);

/// The options checked for a queue in `layout`: priority_out_of_range, delay_out_of_range,
/// unsupported_put_option, or success.
error_code check_put_options(queue_layout layout, const put_options& options);

/// Now, on the wall clock, in ms since the Unix epoch: what due times are compared with.
std::int64_t epoch_now_ms();

}  // namespace zkr::detail
