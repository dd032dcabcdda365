// What the session's observer (session_config::observer) hears of one acquisition and of the
// hold it leads to.
#pragma once

#include "coroutines.hpp"
#include "recycling.hpp"

#include <zkr/observer.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace zkr::detail {

class observed_lock;
/// An acquisition's observation, null when the session has no observer: behind a pointer, since
/// most sessions have none and every acquisition and held lock carries one (88 bytes inline).
using observed_lock_ptr = std::unique_ptr<observed_lock>;

class observed_lock : public recycled_object {
  public:
    using clock = std::chrono::steady_clock;

    /// Starts timing an acquisition; null when the session has no observer. `recipe` is one of
    /// lock_subject's names (a literal: it is kept as a view).
    static observed_lock_ptr start(const session_ptr& s, std::string_view recipe,
                                   std::string path) {
        if (!s->observer()) {
            return nullptr;
        }
        return observed_lock_ptr(new observed_lock(s->observer(), recipe, std::move(path)));
    }

    /// The same acquisition observed for another hold (each lease of a semaphore).
    observed_lock_ptr copy() const { return observed_lock_ptr(new observed_lock(*this)); }

    /// The acquisition ended without the lock.
    void failed(error_code ec) const {
        observer_->acquisition_failed(subject(), clock::now() - asked_, ec);
    }
    /// Granted after waiting for a holder (`handed_off`) or not: the hold starts now.
    void acquired(bool handed_off) {
        since_ = clock::now();
        observer_->acquired(subject(), since_ - asked_, handed_off);
    }
    void revocation_requested() const { observer_->revocation_requested(subject()); }
    /// The hold ended: released (`reason` empty) or lost. Reported once.
    void ended(error_code reason) {
        if (!std::exchange(ended_, true)) {
            observer_->hold_ended(subject(), clock::now() - since_, reason);
        }
    }

  private:
    observed_lock(std::shared_ptr<zkr::observer> o, std::string_view recipe, std::string path)
        : observer_(std::move(o)), recipe_(recipe), path_(std::move(path)) {}

    lock_subject subject() const { return {recipe_, path_}; }

    std::shared_ptr<zkr::observer> observer_;
    std::string_view recipe_;
    std::string path_;
    clock::time_point asked_ = clock::now();
    clock::time_point since_;
    bool ended_ = false;
};

}  // namespace zkr::detail
