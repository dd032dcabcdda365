// The registry of everything the C client may still call back: requests in flight and armed
// watches. zookeeper_close completes outstanding requests itself but frees armed watchers without
// calling them; after it returns, whatever is left here is completed with errc::session_closed.
//
// Used on the driver strand only; the count may be read from any thread (a diagnostic).
#pragma once

#include "recycling.hpp"
#include "spare_node.hpp"

#include <boost/container/small_vector.hpp>

#include <zkr/error.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace zkr::detail {

/// Base of every context handed to the C client as its `data` / `watcherCtx` pointer.
/// Recycled (recycling.hpp): a request context lives for one round trip.
class pending_callback : public recycled_object {
  public:
    virtual ~pending_callback() = default;
    /// Completes the operation with `ec` because the C client will never call it.
    virtual void abandon(error_code ec) = 0;

  private:
    friend class callback_registry;
    pending_callback* prev_ = nullptr;
    pending_callback* next_ = nullptr;
    bool registered_ = false;
};

class callback_registry {
  public:
    callback_registry() = default;
    callback_registry(const callback_registry&) = delete;
    callback_registry& operator=(const callback_registry&) = delete;

    void add(pending_callback* op) noexcept {
        op->next_ = head_;
        op->prev_ = nullptr;
        if (head_ != nullptr) {
            head_->prev_ = op;
        }
        head_ = op;
        op->registered_ = true;
        size_.fetch_add(1, std::memory_order_relaxed);
    }

    /// Unlinks `op`; false if it was not registered (already drained).
    bool remove(pending_callback* op) noexcept {
        if (!op->registered_) {
            return false;
        }
        unlink(op);
        return true;
    }

    /// Takes every registered operation out (after zookeeper_close).
    std::vector<pending_callback*> drain() {
        std::vector<pending_callback*> out;
        out.reserve(size());
        while (head_ != nullptr) {
            out.push_back(head_);
            unlink(head_);
        }
        return out;
    }

    std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

    /// What the session's watches weigh in the packet that re-arms them after a reconnect
    /// (each path with its length prefix), counted from the watching read until the watch is
    /// gone. Any thread.
    std::size_t watch_bytes() const noexcept {
        return watch_bytes_.load(std::memory_order_relaxed);
    }
    void add_watch_bytes(std::size_t n) noexcept {
        watch_bytes_.fetch_add(n, std::memory_order_relaxed);
    }
    void remove_watch_bytes(std::size_t n) noexcept {
        watch_bytes_.fetch_sub(n, std::memory_order_relaxed);
    }

    /// Armed watches of ours per path and kind (data/exists, or children), each the context
    /// the C client holds: the server keeps one watch per session, path and kind, so it may
    /// only be removed there when the last of ours on that path and kind goes, and its removal
    /// takes all of ours there. Looked up by path, so that dropping each of many watches costs
    /// no scan of them all. `path` must live while the watch is armed (its watch_state's): the
    /// map's key views the path of one of the watches on it, rather than copying it once more
    /// per watched path (a queue of 10,000 waiters watches 10,000 paths). Driver strand.
    void arm(const std::string& path, bool child, pending_callback* watch) {
        find_or_insert(armed_[child], spare_[child], std::string_view(path))
            ->second.push_back(armed_watch{watch, &path});
    }
    /// Returns how many of ours remain on that path and kind.
    std::size_t disarm(const std::string& path, bool child, pending_callback* watch) {
        auto& m = armed_[child];
        auto it = m.find(path);
        if (it == m.end()) {
            return 0;
        }
        auto& watches = it->second;
        const auto gone = std::find_if(watches.begin(), watches.end(),
                                       [&](const armed_watch& w) { return w.callback == watch; });
        if (gone == watches.end()) {
            return watches.size();
        }
        const bool held_the_key = gone->path->data() == it->first.data();
        watches.erase(gone);
        if (watches.empty()) {
            erase_keeping(m, spare_[child], it);
            return 0;
        }
        if (held_the_key) {
            // The key viewed the path of the watch that went: it views another's now.
            auto node = m.extract(it);
            node.key() = *node.mapped().front().path;
            m.insert(std::move(node));
        }
        return watches.size();
    }
    /// Ours on that path and kind (copied: the caller may disarm them as it goes).
    std::vector<pending_callback*> armed_on(const std::string& path, bool child) const {
        const auto& m = armed_[child];
        auto it = m.find(path);
        std::vector<pending_callback*> watches;
        if (it != m.end()) {
            watches.reserve(it->second.size());
            for (const auto& w : it->second) {
                watches.push_back(w.callback);
            }
        }
        return watches;
    }
    std::size_t armed_count(const std::string& path, bool child) const {
        const auto& m = armed_[child];
        auto it = m.find(path);
        return it == m.end() ? 0 : it->second.size();
    }

    /// Why the handle is being closed: what requests the C client completes with ZCLOSING report
    /// (the session's end has one error, however it reaches a request).
    void set_closing_reason(error_code ec) noexcept { closing_reason_ = ec; }
    error_code closing_reason() const noexcept {
        return closing_reason_ ? closing_reason_ : make_error_code(errc::session_closed);
    }

    /// From now on completions are dropped, not delivered: the handle is being freed after its
    /// io_context is gone, and no handler may run or be posted any more.
    void discard_from_now_on() noexcept { discarding_ = true; }
    bool discarding() const noexcept { return discarding_; }

  private:
    void unlink(pending_callback* op) noexcept {
        if (op->prev_ != nullptr) {
            op->prev_->next_ = op->next_;
        } else {
            head_ = op->next_;
        }
        if (op->next_ != nullptr) {
            op->next_->prev_ = op->prev_;
        }
        op->prev_ = op->next_ = nullptr;
        op->registered_ = false;
        size_.fetch_sub(1, std::memory_order_relaxed);
    }

    pending_callback* head_ = nullptr;
    std::atomic<std::size_t> size_{0};
    std::atomic<std::size_t> watch_bytes_{0};
    bool discarding_ = false;
    error_code closing_reason_;
    struct armed_watch {
        pending_callback* callback;
        const std::string* path;  ///< arm's, alive while armed
    };
    /// Mostly one watch of ours per path: kept inline.
    using armed_map =
        std::unordered_map<std::string_view, boost::container::small_vector<armed_watch, 1>>;
    armed_map armed_[2];
    armed_map::node_type spare_[2];  ///< the last entry let go, per kind (spare_node.hpp)
};

}  // namespace zkr::detail
