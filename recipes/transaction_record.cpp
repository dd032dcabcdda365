// The two-phase commit's layout (transaction_record.hpp).
#include "transaction_record.hpp"

#include "big_endian.hpp"
#include "path.hpp"

#include <zkr/names.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace zkr::detail {

namespace {

constexpr std::size_t deadline_bytes = 8;
constexpr std::size_t count_bytes = 4;
constexpr std::size_t length_bytes = 2;
constexpr std::size_t max_name_bytes = std::numeric_limits<std::uint16_t>::max();

bool valid_name(std::string_view name) {
    return !name.empty() && name.size() <= max_name_bytes &&
           is_node_name(std::string(names::vote_prefix).append(name));
}

bool has_duplicates(std::vector<std::string> names) {
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) != names.end();
}

}  // namespace

std::string encode_transaction(const transaction& t) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(t.deadline.time_since_epoch())
            .count();
    std::string out(transaction_magic);
    out += to_big_endian(static_cast<std::uint64_t>(ms), deadline_bytes);
    out += to_big_endian(t.participants.size(), count_bytes);
    for (const auto& name : t.participants) {
        out += to_big_endian(name.size(), length_bytes);
        out += name;
    }
    out += t.proposal;
    return out;
}

error_code decode_transaction(std::string_view data, transaction& out) {
    const auto refused = make_error_code(errc::not_a_transaction);
    // Takes `n` bytes off the front of `data`; false if there are fewer.
    auto take = [&data](std::size_t n, std::string_view& taken) {
        if (data.size() < n) {
            return false;
        }
        taken = data.substr(0, n);
        data.remove_prefix(n);
        return true;
    };
    std::string_view magic, deadline, count;
    if (!take(transaction_magic.size(), magic) || magic != transaction_magic ||
        !take(deadline_bytes, deadline) || !take(count_bytes, count)) {
        return refused;
    }
    const auto n = from_big_endian(count);
    if (n == 0 || n > data.size() / length_bytes) {
        return refused;  // every name takes its length's bytes at least
    }
    transaction t;
    t.deadline = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::milliseconds(static_cast<std::int64_t>(from_big_endian(deadline)))));
    for (std::uint64_t i = 0; i < n; ++i) {
        std::string_view length, name;
        if (!take(length_bytes, length) || !take(from_big_endian(length), name) ||
            !valid_name(name)) {
            return refused;
        }
        t.participants.emplace_back(name);
    }
    if (has_duplicates(t.participants)) {
        return refused;
    }
    t.proposal = std::string(data);
    t.id = std::move(out.id);
    out = std::move(t);
    return {};
}

error_code check_participants(const std::vector<std::string>& participants) {
    if (participants.empty() || has_duplicates(participants)) {
        return make_error_code(errc::invalid_argument);
    }
    const bool all_valid = std::all_of(participants.begin(), participants.end(),
                                       [](const std::string& name) { return valid_name(name); });
    return all_valid ? error_code{} : make_error_code(errc::invalid_path);
}

std::string_view word_of(transaction_vote vote) noexcept {
    return vote == transaction_vote::commit ? names::commit_word : names::abort_word;
}

std::string_view word_of(transaction_outcome decided) noexcept {
    return decided == transaction_outcome::commit ? names::commit_word : names::abort_word;
}

std::optional<transaction_outcome> outcome_of(std::string_view word) noexcept {
    if (word == names::commit_word) {
        return transaction_outcome::commit;
    }
    if (word == names::abort_word) {
        return transaction_outcome::abort;
    }
    return std::nullopt;
}

}  // namespace zkr::detail
