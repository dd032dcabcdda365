#include "client_gate.hpp"

#include "fast_tls.hpp"

namespace zkr::detail {
namespace {

std::mutex& gate_mutex() {
    static std::mutex mutex;
    return mutex;
}

/// Gates this thread holds now, nested.
ZKR_FAST_TLS thread_local int held_here = 0;

}  // namespace

client_gate::client_gate() : outermost_(held_here == 0) {
    if (outermost_) {
        gate_mutex().lock();
    }
    ++held_here;
}

client_gate::~client_gate() {
    --held_here;
    if (outermost_) {
        gate_mutex().unlock();
    }
}

}  // namespace zkr::detail
