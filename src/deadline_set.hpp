// Several deadlines served by one timer.
//
// A session's connection keeps four (connect, local loss deadline, give-up, stable:
// connection_fsm::timer), rarely more than two at once. A steady_timer weighs 120 bytes, and a
// process may hold thousands of sessions: one timer waits for the earliest deadline of the set,
// and when it fires the passed ones are taken out, earliest first. Pure data (no I/O): the owner
// keeps the timer (session_impl).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>

namespace zkr::detail {

template <std::size_t N>
class deadline_set {
  public:
    using clock = std::chrono::steady_clock;

    /// Sets deadline `i` (replacing the one it had).
    void set(std::size_t i, clock::time_point at) noexcept { at_[i] = at; }
    /// Clears deadline `i` (it will not pass).
    void clear(std::size_t i) noexcept { at_[i].reset(); }
    bool is_set(std::size_t i) const noexcept { return at_[i].has_value(); }

    /// The earliest deadline set, if any: when the timer should fire.
    std::optional<clock::time_point> earliest() const noexcept {
        std::optional<clock::time_point> first;
        for (const auto& at : at_) {
            if (at && (!first || *at < *first)) {
                first = at;
            }
        }
        return first;
    }

    /// The deadline that passed first by `now`, cleared; none if none passed. Deadlines that
    /// pass together are taken in the order of their times, then of their indexes.
    std::optional<std::size_t> take_passed(clock::time_point now) noexcept {
        std::optional<std::size_t> first;
        for (std::size_t i = 0; i < N; ++i) {
            if (at_[i] && *at_[i] <= now && (!first || *at_[i] < *at_[*first])) {
                first = i;
            }
        }
        if (first) {
            at_[*first].reset();
        }
        return first;
    }

  private:
    std::array<std::optional<clock::time_point>, N> at_{};
};

}  // namespace zkr::detail
