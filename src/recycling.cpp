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

/// Size classes: a block is made with its class's full size, so that any object of the class
/// may take it later.
constexpr std::array<std::size_t, 5> class_bytes{64, 128, 256, 512, 1024};
/// Blocks kept per class and thread: enough for the objects of a few operations in flight.
constexpr std::size_t kept_per_class = 32;

/// The class of a block of `bytes`, or class_bytes.size() for blocks made by plain new.
constexpr std::size_t class_of(std::size_t bytes) noexcept {
    std::size_t c = 0;
    while (c < class_bytes.size() && bytes > class_bytes[c]) {
        ++c;
    }
    return c;
}

struct thread_cache {
    std::array<std::array<void*, kept_per_class>, class_bytes.size()> blocks{};
    std::array<std::size_t, class_bytes.size()> kept{};

    ~thread_cache() {
        for (std::size_t c = 0; c < class_bytes.size(); ++c) {
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

void* recycled_allocate(std::size_t bytes) {
    const auto c = class_of(bytes);
    if (c == class_bytes.size()) {
        return ::operator new(bytes);
    }
    if (auto* cache = this_threads_cache(); cache != nullptr && cache->kept[c] != 0) {
        return cache->blocks[c][--cache->kept[c]];
    }
    return ::operator new(class_bytes[c]);
}

void recycled_deallocate(void* block, std::size_t bytes) noexcept {
    if (block == nullptr) {
        return;
    }
    const auto c = class_of(bytes);
    auto* cache = c == class_bytes.size() ? nullptr : cache_here;
    if (cache == nullptr || cache->kept[c] == kept_per_class) {
        ::operator delete(block);
        return;
    }
    cache->blocks[c][cache->kept[c]++] = block;
}

#else

void* recycled_allocate(std::size_t bytes) {
    return ::operator new(bytes);
}

void recycled_deallocate(void* block, std::size_t) noexcept {
    ::operator delete(block);
}

#endif

}  // namespace zkr::detail
