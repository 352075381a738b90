#pragma once
// Internal: the host and port rules shared by parse_host_port and the URL parsers, applied
// to what Boost.URL's authority grammar split.
#include "idemgate/config/host_port.hpp"

#include <boost/url/authority_view.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace idemgate::config::detail {

/// What an authority's port may be.
struct port_rule {
    std::optional<std::uint16_t> default_port; // nullopt: the port is required
    std::uint16_t min = 1;                     // 0 only for listen addresses
};

/// The host and port of `a` (its user info is not looked at): an IPv4 address, an IPv6
/// address (not IPvFuture) or a host name, and a port by `rule`. Nullopt and `why` otherwise.
std::optional<host_port> checked_host_port(boost::urls::authority_view const& a, port_rule rule,
                                           std::string& why);

/// Why Boost.URL refused `text` ("host[:port]", no user info) as an authority: the message
/// for the first fault found. `min_port` is the lowest port the caller accepts.
std::string why_not_host_port(std::string_view text, std::uint16_t min_port);

} // namespace idemgate::config::detail
