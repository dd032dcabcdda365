#include "client_gate.hpp"

namespace zkr::detail {
namespace {

std::recursive_mutex& gate_mutex() {
    static std::recursive_mutex mutex;
    return mutex;
}

thread_local int depth = 0;

}  // namespace

client_gate::client_gate() : lock_(gate_mutex()) {
    ++depth;
}

client_gate::~client_gate() {
    --depth;
}

bool client_gate::held() noexcept {
    return depth > 0;
}

}  // namespace zkr::detail
