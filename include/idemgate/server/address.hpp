#pragma once
// "host:port" and "[v6]:port" listen addresses.
#include "idemgate/net.hpp"

#include <string>
#include <string_view>

namespace idemgate::server {

/// Resolves a listen address (startup only: may block on DNS for a host name).
/// Throws std::runtime_error naming the address on failure.
tcp::endpoint parse_listen(std::string_view address);

/// "127.0.0.1:8080" or "[::1]:8080".
std::string format_endpoint(tcp::endpoint const& ep);

} // namespace idemgate::server
