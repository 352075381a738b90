#pragma once
// Listen addresses as sockets want them: config::parse_host_port, then the resolver.
#include "idemgate/net.hpp"

#include <string>
#include <string_view>

namespace idemgate::util {

/// The endpoint to bind for `listen` or `admin.listen`, parsed by config::parse_host_port
/// (what --check-config accepts); a host name is resolved (startup only: may block on DNS).
/// Throws std::runtime_error naming the address on failure.
tcp::endpoint listen_endpoint(std::string_view address);

/// "127.0.0.1:8080" or "[::1]:8080".
std::string format_endpoint(tcp::endpoint const& ep);

} // namespace idemgate::util
