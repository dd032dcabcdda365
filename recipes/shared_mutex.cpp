#include <zkr/session.hpp>
#include <zkr/shared_mutex.hpp>

namespace zkr {

shared_mutex::shared_mutex(session& s, std::string path, mutex_options options)
    : writer_(s.impl(), path, "-__WRIT__", options),
      reader_(s.impl(), std::move(path), "-__READ__", std::move(options)) {}

}  // namespace zkr
