// A cache's copy as readers see it (children_cache::current(), tree_cache::current()): a map
// the cache's coroutine edits change by change, and readers on any thread take as a shared
// pointer that never changes under them.
//
// Changing the published map in place would change a reader's snapshot, and rebuilding it from
// the cache's state for every change costs O(N) per change. So the map is edited in place while
// no reader holds it, and copied (then edited) only when one does.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <utility>

namespace zkr::detail {

template <class Map>
class published_map {
  public:
    /// The last published map; null before the first publish(). Any thread.
    std::shared_ptr<const Map> get() const {
        std::lock_guard lock(mutex_);
        return handle_;
    }

    /// Applies `edit(Map&)` (the changes since the last publish) and publishes the result. One
    /// thread at a time (the cache's driver strand).
    template <class Edit>
    void publish(Edit&& edit) {
        std::unique_lock lock(mutex_);
        // Readers never get map_ itself: they get handle_, a pointer to it with a control block
        // of its own whose deleter lets go of our reference. Dropping ours first means no
        // weak_ptr a reader kept can revive it; from then on, under the lock (get() cannot hand
        // out a new one), map_.use_count() counts the readers still holding a handle, plus us.
        handle_.reset();
        if (map_.use_count() == 1) {
            // No reader: edit in place. use_count() is a relaxed load: the fence orders our
            // writes after the reads of the last reader, which let go with a release decrement.
            std::atomic_thread_fence(std::memory_order_acquire);
            edit(*map_);
            handle_ = handle_for(map_);
            return;
        }
        // A reader holds it: its map stays as it is. Copy it outside the lock (nobody writes
        // map_ meanwhile: only publish() does), edit the copy, publish that.
        handle_ = handle_for(map_);
        lock.unlock();
        auto next = std::make_shared<Map>(*map_);
        edit(*next);
        lock.lock();
        map_ = std::move(next);
        handle_ = handle_for(map_);
    }

    /// publish() of the entries of `keys`, as `state` now has them (a map of the same keys to
    /// what a cache follows, whose `last` is the value, if any); `keys` is emptied.
    template <class Keys, class State>
    void publish_changes(Keys& keys, const State& state) {
        publish([&](Map& m) {
            for (const auto& k : keys) {
                if (auto it = state.find(k); it != state.end() && it->second.last) {
                    m.insert_or_assign(k, *it->second.last);
                } else {
                    m.erase(k);
                }
            }
        });
        keys.clear();
    }

  private:
    static std::shared_ptr<const Map> handle_for(const std::shared_ptr<Map>& m) {
        // The deleter runs when the last holder of the handle lets go (not when its last weak
        // reference does): it releases the map then.
        return std::shared_ptr<const Map>(m.get(),
                                          [keep = m](const Map*) mutable { keep.reset(); });
    }

    mutable std::mutex mutex_;
    std::shared_ptr<Map> map_ = std::make_shared<Map>();
    std::shared_ptr<const Map> handle_;
};

}  // namespace zkr::detail
