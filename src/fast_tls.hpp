// Thread-local variables on hot paths.
#pragma once

/// Marks a thread_local for the initial-exec TLS model: each use is a plain %fs-relative load,
/// where a shared library's default (general dynamic) calls __tls_get_addr on every use, which
/// costs more than a malloc. Only for small variables: a library loaded with dlopen takes them
/// from the process's small static TLS reserve.
#define ZKR_FAST_TLS __attribute__((tls_model("initial-exec")))
