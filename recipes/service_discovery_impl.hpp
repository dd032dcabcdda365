// What the service discovery recipes (service_discovery, service_cache, service_provider) share
// inside the library.
#pragma once

#include "session_seam.hpp"

#include <zkr/service_instance.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace zkr::detail {

struct service_discovery_impl {
    session_ptr session;
    std::string path;  // the base path
};

/// The instance a node's data holds; empty when it is not one (another layout's node).
std::optional<service_instance> parse_instance(std::string_view data);

/// A service cache's instances now (service_cache::instances()).
struct service_cache_impl;
std::shared_ptr<const std::vector<service_instance>> instances_of(const service_cache_impl& c);

}  // namespace zkr::detail
