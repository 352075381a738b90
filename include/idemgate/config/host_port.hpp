#pragma once
// The one host:port syntax: `listen`, `admin.listen`, and the host and port of every URL the
// configuration holds (upstream.url, store.redis.url; see url.hpp). Parsed with Boost.URL's
// authority grammar (RFC 3986 §3.2), then held to the rules below. Pure: no DNS.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace idemgate::config {

/// A host and a port, as `listen` and `admin.listen` write them.
struct host_port {
    std::string host; // IPv4 text, IPv6 text without brackets, or a DNS name
    std::uint16_t port = 0;
    bool ipv6 = false;
};

/// Accepts "1.2.3.4:80", "[::1]:80", "localhost:80": an IPv4 address, an IPv6 address in
/// brackets, or an RFC 1123 host name (plus '_', which container runtimes use in service
/// names), then a port 0..65535 (0: the kernel picks one). On failure returns nullopt and
/// sets `why` to one line naming the problem (validate() adds the text it refused).
std::optional<host_port> parse_host_port(std::string_view text, std::string& why);
std::optional<host_port> parse_host_port(std::string_view text);

} // namespace idemgate::config
