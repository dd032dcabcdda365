#include "options.hpp"

#include <unistd.h>

namespace zkr::cli {

bool options::show_progress() const {
    return !quiet && (progress || ::isatty(STDERR_FILENO) == 1);
}

bool options::uses_tls() const {
    return !tls_ca.empty() || !tls_cert.empty() || !tls_key.empty() ||
           !tls_key_password_file.empty() || tls_no_verify_host;
}

}  // namespace zkr::cli
