#include "client_gate.hpp"

namespace zkr::detail {
namespace {

std::recursive_mutex& gate_mutex() {
    static std::recursive_mutex mutex;
    return mutex;
}

}  // namespace

client_gate::client_gate() : lock_(gate_mutex()) {}

client_gate::~client_gate() = default;

}  // namespace zkr::detail
