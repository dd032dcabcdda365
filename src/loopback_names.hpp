// The real servers behind the TLS tunnels' loopback ports, for what the C client logs: it knows
// only the tunnel it connects to (127.0.0.1:<port>), and a log line should name the server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zkr::detail {

/// From now on, "127.0.0.1:<port>" in the C client's records reads `server` (TLS).
void name_loopback_port(std::uint16_t port, std::string server);
void forget_loopback_port(std::uint16_t port);

/// `text` with every named loopback address replaced by its server. Any thread.
std::string with_real_servers(std::string_view text);

}  // namespace zkr::detail
