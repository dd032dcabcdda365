#include "contender.hpp"

#include <algorithm>
#include <array>
#include <random>

namespace zkr::detail {

std::optional<std::int64_t> parse_sequence(std::string_view digits) {
    if (digits.empty() || digits.size() > 18) {
        return std::nullopt;
    }
    std::int64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    return value;
}

namespace {

/// What a child name says, without copying it.
struct parsed_name {
    std::int64_t sequence;
    contender_kind kind;
    std::string_view role;
};

std::optional<parsed_name> parse_name(std::string_view name) {
    // One backward pass: the trailing digits are the sequence, and what precedes them must end
    // with a known marker. (Long queues parse every name on every listing.)
    auto start = name.size();
    while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9') {
        --start;
    }
    const auto head = name.substr(0, start);
    if (head.empty() || (head.back() != '-' && head.back() != '_')) {
        return std::nullopt;  // every marker ends with one of these
    }
    for (const auto& s : names::queue_schemes) {
        if (s.marker.back() == head.back() && head.ends_with(s.marker)) {
            if (auto seq = parse_sequence(name.substr(start))) {
                return parsed_name{
                    *seq, s.shared ? contender_kind::shared : contender_kind::exclusive, s.kind};
            }
            return std::nullopt;
        }
    }
    return std::nullopt;
}

/// Queue order: by sequence, then by name (equal sequences only come from foreign writers).
bool before(std::int64_t seq_a, std::string_view a, std::int64_t seq_b, std::string_view b) {
    return seq_a != seq_b ? seq_a < seq_b : a < b;
}

}  // namespace

std::optional<contender> parse_contender(std::string_view name) {
    if (auto p = parse_name(name)) {
        return contender{std::string(name), p->sequence, p->kind, p->role};
    }
    return std::nullopt;
}

std::vector<contender> sorted_contenders(const std::vector<std::string>& names,
                                         std::vector<std::string>* unknown) {
    std::vector<contender> out;
    out.reserve(names.size());
    for (const auto& name : names) {
        if (auto c = parse_contender(name)) {
            out.push_back(std::move(*c));
        } else if (unknown != nullptr) {
            unknown->push_back(name);
        }
    }
    std::sort(out.begin(), out.end(), [](const contender& a, const contender& b) {
        return before(a.sequence, a.name, b.sequence, b.name);
    });
    return out;
}

queue_view evaluate(const std::vector<std::string>& names, std::string_view own_name,
                    std::vector<std::string>* unknown) {
    // One pass, no copies and no sort: a waiter of a 10,000-node queue evaluates a listing of
    // 10,000 names every time the node ahead of it goes away.
    const auto own = parse_name(own_name);
    queue_view view;
    const std::string* nearest = nullptr;
    std::int64_t nearest_sequence = 0;
    for (const auto& name : names) {
        const auto c = parse_name(name);
        if (!c) {
            if (unknown != nullptr) {
                unknown->push_back(name);
            }
            continue;
        }
        if (!own) {
            continue;
        }
        if (name == own_name) {
            view.found = true;
            continue;
        }
        if (!before(c->sequence, name, own->sequence, own_name)) {
            continue;
        }
        ++view.position;
        if (own->kind == contender_kind::shared && c->kind == contender_kind::shared) {
            continue;  // readers do not block a reader
        }
        ++view.blockers;
        if (nearest == nullptr || before(nearest_sequence, *nearest, c->sequence, name)) {
            nearest = &name;
            nearest_sequence = c->sequence;
        }
    }
    if (!view.found) {
        return queue_view{};
    }
    view.acquired = view.blockers == 0;
    if (nearest != nullptr) {
        view.watch = *nearest;
        view.watch_is_last_blocker = view.blockers == 1;
    }
    return view;
}

queue_index::queue_index(const std::vector<std::string>& names, std::vector<std::string>* unknown) {
    entries_.reserve(names.size());
    for (const auto& name : names) {
        if (const auto c = parse_name(name)) {
            entries_.push_back(entry{name, c->sequence, c->kind});
        } else if (unknown != nullptr) {
            unknown->push_back(name);
        }
    }
    std::sort(entries_.begin(), entries_.end(), [](const entry& a, const entry& b) {
        return before(a.sequence, a.name, b.sequence, b.name);
    });
    exclusive_before_.resize(entries_.size());
    nearest_exclusive_.resize(entries_.size());
    std::size_t count = 0;
    std::size_t nearest = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        exclusive_before_[i] = count;
        nearest_exclusive_[i] = nearest;
        if (entries_[i].kind == contender_kind::exclusive) {
            ++count;
            nearest = i;
        }
    }
}

queue_view queue_index::view_of(std::string_view own_name) const {
    const auto own = parse_name(own_name);
    if (!own) {
        return queue_view{};
    }
    const auto it = std::lower_bound(entries_.begin(), entries_.end(), own_name,
                                     [&](const entry& e, std::string_view name) {
                                         return before(e.sequence, e.name, own->sequence, name);
                                     });
    if (it == entries_.end() || it->name != own_name) {
        return queue_view{};
    }
    const auto p = static_cast<std::size_t>(it - entries_.begin());
    queue_view view;
    view.found = true;
    view.position = p;
    if (own->kind == contender_kind::shared) {
        view.blockers = exclusive_before_[p];  // readers do not block a reader
        if (view.blockers > 0) {
            view.watch = std::string(entries_[nearest_exclusive_[p]].name);
        }
    } else {
        view.blockers = p;
        if (p > 0) {
            view.watch = std::string(entries_[p - 1].name);
        }
    }
    view.acquired = view.blockers == 0;
    view.watch_is_last_blocker = view.blockers == 1;
    return view;
}

std::vector<bool> holders(const std::vector<contender>& queue) {
    // The same rule as evaluate(), in one pass: an exclusive contender holds when it is first,
    // a shared one when no exclusive contender is ahead of it.
    std::vector<bool> out(queue.size(), false);
    bool exclusive_ahead = false;
    for (std::size_t i = 0; i < queue.size(); ++i) {
        out[i] = queue[i].kind == contender_kind::shared ? !exclusive_ahead : i == 0;
        exclusive_ahead = exclusive_ahead || queue[i].kind == contender_kind::exclusive;
    }
    return out;
}

std::string protected_prefix(std::string_view uuid, std::string_view marker) {
    std::string out;
    out.reserve(names::protection_prefix.size() + uuid.size() + marker.size());
    out += names::protection_prefix;
    out += uuid;
    out += marker;
    return out;
}

std::string protected_node_path(std::string_view dir, std::string_view marker) {
    std::string out;
    out.reserve(dir.size() + 1 + names::protection_prefix.size() + names::uuid_length +
                marker.size());
    out += dir;
    out += '/';
    out += names::protection_prefix;
    append_uuid(out);
    out += marker;
    return out;
}

void append_uuid(std::string& out) {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    const std::uint64_t hi = (engine() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
    const std::uint64_t lo = (engine() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    // 8-4-4-4-12 hex digits; by hand, since snprintf cost a tenth of a lock cycle's own work.
    static constexpr char digits[] = "0123456789abcdef";
    auto pos = out.size();
    out.resize(pos + names::uuid_length, '-');
    auto put = [&](std::uint64_t bits, int count) {
        for (int shift = (count - 1) * 4; shift >= 0; shift -= 4) {
            out[pos++] = digits[(bits >> shift) & 0xf];
        }
        ++pos;  // over the dash
    };
    put(hi >> 32, 8);
    put((hi >> 16) & 0xffff, 4);
    put(hi & 0xffff, 4);
    put(lo >> 48, 4);
    put(lo & 0xffffffffffffULL, 12);
}

std::string make_uuid() {
    std::string out;
    append_uuid(out);
    return out;
}

}  // namespace zkr::detail
