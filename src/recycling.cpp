#include "recycling.hpp"

#include "block_cache.hpp"
#include "fast_tls.hpp"

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

// This thread's cache: a pointer and a flag in fast TLS, the cache itself on the heap.
ZKR_FAST_TLS thread_local block_cache* cache_here = nullptr;
/// Set once this thread's cache is gone (thread exit): blocks freed later go to the heap.
ZKR_FAST_TLS thread_local bool cache_gone = false;

/// Frees the thread's cache when the thread ends. Touched only when the cache is made.
struct cache_owner {
    block_cache* cache = nullptr;
    ~cache_owner() {
        cache_gone = true;
        cache_here = nullptr;
        delete cache;
    }
};
thread_local cache_owner owner;

block_cache* this_threads_cache() {
    if (cache_here != nullptr || cache_gone) {
        return cache_here;
    }
    owner.cache = new block_cache;
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
    auto* cache = this_threads_cache();
    return cache != nullptr ? cache->allocate(bytes) : ::operator new(bytes);
}

void recycled_deallocate(void* block, std::size_t bytes) noexcept {
    if (cache_here != nullptr) {
        cache_here->deallocate(block, bytes);
    } else {
        ::operator delete(block);
    }
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
