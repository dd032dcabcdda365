// Per-thread recycling of zkr's per-operation blocks.
//
// Every lock cycle makes the same short-lived objects: a request context per ZooKeeper call, the
// acquisition, the lock's state, the handlers zkr gives its own requests. Made through this
// allocator, a block freed on a thread is kept there (a few dozen per size class) and handed to
// the next object of its size: a steady cycle takes nothing from malloc for them. Asio's own
// recycling allocator keeps two blocks per purpose, too few for the objects one cycle has alive
// at once.
//
// Blocks may be freed on another thread than the one that made them (they then join that
// thread's cache). Under AddressSanitizer and ThreadSanitizer every block goes to malloc, so
// that the sanitizers see each object's life.
#pragma once

#include <boost/asio/bind_allocator.hpp>

#include <cstddef>
#include <new>
#include <utility>

namespace zkr::detail {

/// A block of at least `bytes` (aligned as operator new aligns), from this thread's cache if it
/// has one of that size class.
void* recycled_allocate(std::size_t bytes);
/// Gives back a block of `bytes` (the size it was asked with).
void recycled_deallocate(void* block, std::size_t bytes) noexcept;

/// False in sanitizer builds, where every block goes to the heap.
bool recycling_on() noexcept;

template <class T>
class recycling_allocator {
  public:
    using value_type = T;

    recycling_allocator() noexcept = default;
    template <class U>
    recycling_allocator(const recycling_allocator<U>&) noexcept {}  // NOLINT: rebinding

    T* allocate(std::size_t n) {
        if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
            return static_cast<T*>(::operator new (n * sizeof(T), std::align_val_t{alignof(T)}));
        } else {
            return static_cast<T*>(recycled_allocate(n * sizeof(T)));
        }
    }
    void deallocate(T* p, std::size_t n) noexcept {
        if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
            ::operator delete (p, std::align_val_t{alignof(T)});
        } else {
            recycled_deallocate(p, n * sizeof(T));
        }
    }

    template <class U>
    friend bool operator==(const recycling_allocator&, const recycling_allocator<U>&) noexcept {
        return true;
    }
};

/// A base that makes `new` and `delete` of the derived class (a polymorphic one too: its sized
/// delete gets the dynamic size) go through the cache.
struct recycled_object {
    static void* operator new(std::size_t bytes) { return recycled_allocate(bytes); }
    static void operator delete(void* block, std::size_t bytes) noexcept {
        recycled_deallocate(block, bytes);
    }
};

/// `h`, its type-erased copy (an any_completion_handler) made in a recycled block: for the
/// handlers zkr gives its own requests.
template <class Handler>
auto recycled(Handler&& h) {
    return boost::asio::bind_allocator(recycling_allocator<void>(), std::forward<Handler>(h));
}

}  // namespace zkr::detail
