#include "queue_item_names.hpp"

#include "contender.hpp"

#include <cstdio>
#include <limits>

namespace zkr::detail {
namespace {

constexpr std::string_view item_prefix = names::curator_queue_item_prefix;
constexpr char delay_separator = '|';  ///< DistributedDelayQueue's SEPARATOR
constexpr std::size_t priority_length = 9;

/// Upper-case hex digits only (no sign, no "0x", as Curator writes them), at most 16.
std::optional<std::uint64_t> parse_hex(std::string_view digits) {
    std::uint64_t value = 0;
    if (digits.empty() || digits.size() > 16) {
        return std::nullopt;
    }
    for (const char c : digits) {
        const bool digit = c >= '0' && c <= '9';
        if (!digit && !(c >= 'A' && c <= 'F')) {
            return std::nullopt;
        }
        value = value * 16 + static_cast<std::uint64_t>(digit ? c - '0' : c - 'A' + 10);
    }
    return value;
}

/// "1XXXXXXXX" or "0XXXXXXXX": the priority.
std::optional<std::int64_t> parse_priority(std::string_view text) {
    if (text.size() != priority_length || (text[0] != '0' && text[0] != '1')) {
        return std::nullopt;
    }
    const auto bits = parse_hex(text.substr(1));
    if (!bits) {
        return std::nullopt;
    }
    const auto value = static_cast<std::int64_t>(static_cast<std::int32_t>(*bits));
    // The sign digit must agree with the bits, or name order would not be priority order.
    if ((text[0] == '1') != (value >= 0)) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<item_order> parse_distributed_item(std::string_view name) {
    if (!name.starts_with(item_prefix) ||
        name.size() < item_prefix.size() + names::sequence_length) {
        return std::nullopt;
    }
    const auto sequence = parse_sequence(name.substr(name.size() - names::sequence_length));
    if (!sequence) {
        return std::nullopt;
    }
    auto middle =
        name.substr(item_prefix.size(), name.size() - item_prefix.size() - names::sequence_length);
    item_order order;
    order.sequence = *sequence;
    if (middle.empty()) {
        return order;
    }
    if (middle.size() >= 3 && middle.front() == delay_separator &&
        middle.back() == delay_separator) {
        const auto epoch = parse_hex(middle.substr(1, middle.size() - 2));
        if (!epoch ||
            *epoch > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return std::nullopt;
        }
        order.due_ms = static_cast<std::int64_t>(*epoch);
        return order;
    }
    if (const auto priority = parse_priority(middle)) {
        order.priority = *priority;
        return order;
    }
    return std::nullopt;
}

std::string distributed_item_prefix(std::optional<std::int64_t> priority,
                                    std::optional<std::int64_t> due_ms) {
    std::string out(item_prefix);
    char buffer[32];
    if (priority) {
        // Curator's priorityToString: the sign first, so that name order is priority order.
        std::snprintf(buffer, sizeof buffer, "%c%08X", *priority >= 0 ? '1' : '0',
                      static_cast<unsigned>(static_cast<std::uint32_t>(*priority)));
        out += buffer;
    } else if (due_ms) {
        // Curator's epochToString.
        std::snprintf(buffer, sizeof buffer, "%c%08llX%c", delay_separator,
                      static_cast<unsigned long long>(*due_ms), delay_separator);
        out += buffer;
    }
    return out;
}

error_code check_put_options(queue_layout layout, const put_options& options) {
    if (!options.priority && !options.delay) {
        return {};
    }
    if (layout != queue_layout::curator_distributed || (options.priority && options.delay)) {
        return make_error_code(errc::unsupported_put_option);
    }
    if (options.priority && (*options.priority < std::numeric_limits<std::int32_t>::min() ||
                             *options.priority > std::numeric_limits<std::int32_t>::max())) {
        return make_error_code(errc::priority_out_of_range);
    }
    if (options.delay && (options.delay->count() < 0 || *options.delay > put_options::max_delay)) {
        return make_error_code(errc::delay_out_of_range);
    }
    return {};
}

std::int64_t epoch_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace zkr::detail
