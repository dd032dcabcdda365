// The library's own version, compiled in: what zkr::version() reports at run time.
#include <zkr/version.hpp>

namespace zkr {

const char* version() noexcept {
    return ZKR_VERSION_STRING;
}

}  // namespace zkr
