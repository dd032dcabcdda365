// Must NOT compile: each line discards an operation started with the default completion token
// (deferred), which does nothing until awaited or invoked. tests/CMakeLists.txt checks that the
// compiler names every one of them.
#include <zkr/zkr.hpp>

void discard_each(zkr::session& s, zkr::mutex& m, zkr::lock& lk) {
    lk.async_release();
    s.async_close();
    m.async_lock();
}
