#include "options.hpp"

#include <unistd.h>

namespace zkr::cli {

bool options::show_progress() const {
    return !quiet && (progress || ::isatty(STDERR_FILENO) == 1);
}

}  // namespace zkr::cli
