#include "recycling.hpp"

#include <array>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ZKR_RECYCLING_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ZKR_RECYCLING_OFF 1
#endif
#endif

namespace zkr::detail {
namespace {

#ifndef ZKR_RECYCLING_OFF

/// Size classes of 16 bytes up to 1 KiB: a block is made with its class's full size, so that
/// any object of the class may take it later, and wastes at most 15 bytes (an object that sits
/// in a queue of 10,000 waiters should not grow by half).
constexpr std::size_t granule = 16;
constexpr std::size_t largest_recycled = 1024;
constexpr std::size_t class_count = largest_recycled / granule;
/// Blocks kept per class and thread: enough for the objects of a few operations in flight.
constexpr std::size_t kept_per_class = 32;

/// The class of a block of `bytes`, or class_count for blocks made by plain new.
constexpr std::size_t class_of(std::size_t bytes) noexcept {
    return bytes == 0 || bytes > largest_recycled ? class_count : (bytes - 1) / granule;
}
constexpr std::size_t class_bytes(std::size_t c) noexcept {
    return (c + 1) * granule;
}

struct thread_cache {
    std::array<std::array<void*, kept_per_class>, class_count> blocks{};
    std::array<std::size_t, class_count> kept{};

    ~thread_cache() {
        for (std::size_t c = 0; c < class_count; ++c) {
            for (std::size_t i = 0; i < kept[c]; ++i) {
                ::operator delete(blocks[c][i]);
            }
        }
    }
};

// This thread's cache, reached in the initial-exec model: a plain %fs-relative load, where the
// general model calls __tls_get_addr on every use (which cost more than malloc). Only a pointer
// and a flag, so that loading the library with dlopen needs little of the static TLS reserve.
#define ZKR_FAST_TLS __attribute__((tls_model("initial-exec")))
ZKR_FAST_TLS thread_local thread_cache* cache_here = nullptr;
/// Set once this thread's cache is gone (thread exit): blocks freed later go to the heap.
ZKR_FAST_TLS thread_local bool cache_gone = false;

/// Frees the thread's cache when the thread ends. Touched only when the cache is made.
struct cache_owner {
    thread_cache* cache = nullptr;
    ~cache_owner() {
        cache_gone = true;
        cache_here = nullptr;
        delete cache;
    }
};
thread_local cache_owner owner;

thread_cache* this_threads_cache() {
    if (cache_here != nullptr || cache_gone) {
        return cache_here;
    }
    owner.cache = new thread_cache;
    cache_here = owner.cache;
    return cache_here;
}

#endif

}  // namespace

#ifndef ZKR_RECYCLING_OFF

bool recycling_on() noexcept {
    return true;
}

void* recycled_allocate(std::size_t bytes) {
    const auto c = class_of(bytes);
    if (c == class_count) {
        return ::operator new(bytes);
    }
    if (auto* cache = this_threads_cache(); cache != nullptr && cache->kept[c] != 0) {
        return cache->blocks[c][--cache->kept[c]];
    }
    return ::operator new(class_bytes(c));
}

void recycled_deallocate(void* block, std::size_t bytes) noexcept {
    if (block == nullptr) {
        return;
    }
    const auto c = class_of(bytes);
    auto* cache = c == class_count ? nullptr : cache_here;
    if (cache == nullptr || cache->kept[c] == kept_per_class) {
        ::operator delete(block);
        return;
    }
    cache->blocks[c][cache->kept[c]++] = block;
}

#else

bool recycling_on() noexcept {
    return false;
}

void* recycled_allocate(std::size_t bytes) {
    return ::operator new(bytes);
}

void recycled_deallocate(void* block, std::size_t) noexcept {
    ::operator delete(block);
}

#endif

}  // namespace zkr::detail
