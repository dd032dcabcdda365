// Handlers waiting for an event that some state machine on a strand will announce.
//
// Used for "wait for the next session state", "wait until the lock is lost" and the like. Every
// member is called on the owning strand. A waiter's per-operation cancellation (any type) posts to
// the strand, removes it and completes it with operation_aborted.
#pragma once

#include "completion.hpp"
#include "recycling.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/container/small_vector.hpp>

#include <algorithm>

#include <memory>

namespace zkr::detail {

template <class Signature>
class waiter_list;

template <class... Args>
class waiter_list<void(error_code, Args...)> {
    using signature = void(error_code, Args...);
    struct entry {
        pending_handler<signature> pending;
    };

  public:
    /// A handler whose cancellation is wired, on its way into a list. Complete it at most once.
    class waiter {
      public:
        waiter() = default;
        explicit operator bool() const noexcept { return e_ && e_->pending; }
        template <class... Values>
        void complete(error_code ec, const Values&... values) {
            if (*this) {
                e_->pending.complete(ec, values...);
            }
        }

      private:
        friend class waiter_list;
        explicit waiter(std::shared_ptr<entry> e) : e_(std::move(e)) {}
        std::shared_ptr<entry> e_;
    };

    /// Callable from any thread, at initiation: wires the caller's cancellation at once (a
    /// cancellation emitted right after the initiating call must not be lost, and the `||`
    /// operator emits one as soon as its other side completes). `strand` is the owner's:
    /// cancellation is carried out there. `fallback` is where a handler without an executor of
    /// its own runs.
    template <class Strand, class Fallback>
    static waiter prepare(handler<signature> h, const Strand& strand, const Fallback& fallback) {
        auto slot = boost::asio::get_associated_cancellation_slot(h);
        auto e =
            std::allocate_shared<entry>(recycling_allocator<entry>(),
                                        entry{pending_handler<signature>(std::move(h), fallback)});
        if (slot.is_connected()) {
            slot.assign([weak = std::weak_ptr<entry>(e), strand](boost::asio::cancellation_type) {
                boost::asio::post(strand, [weak] {
                    if (auto e = weak.lock(); e && e->pending) {
                        e->pending.complete(make_error_code(boost::asio::error::operation_aborted),
                                            Args{}...);
                    }
                });
            });
        }
        return waiter(std::move(e));
    }

    /// On the owner's strand: keeps a prepared waiter until complete_all (a waiter cancelled in
    /// between is dropped).
    void add(waiter w) {
        if (w) {
            entries_.push_back(std::move(w.e_));
        }
    }

    /// On the owner's strand: prepare and add in one step.
    template <class Strand, class Fallback>
    void add(handler<signature> h, const Strand& strand, const Fallback& fallback) {
        add(prepare(std::move(h), strand, fallback));
    }

    bool empty() noexcept {
        prune();
        return entries_.empty();
    }

    /// Completes every waiter with the same result.
    template <class... Values>
    void complete_all(error_code ec, const Values&... values) {
        auto entries = std::move(entries_);
        entries_.clear();
        for (auto& e : entries) {
            if (e->pending) {
                e->pending.complete(ec, values...);
            }
        }
    }

  private:
    void prune() {
        entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                      [](const auto& e) { return !e->pending; }),
                       entries_.end());
    }

    /// Mostly one waiter (a lock's release, its loss): kept inline.
    boost::container::small_vector<std::shared_ptr<entry>, 1> entries_;
};

}  // namespace zkr::detail
