#pragma once
// The upstream's address (from upstream.url) and its TLS client context.
#include "idemgate/config/config.hpp"
#include "idemgate/net.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace idemgate::proxy {

struct upstream_target {
    bool tls = false;
    std::string host; // DNS name or IP literal (without brackets); also the SNI name
    std::string port; // "80" / "443" when the URL has none
};

/// http:// or https:// with a host; a path or query in the URL is refused (the gateway
/// forwards the client's target as is). Error text names the problem.
result<upstream_target> parse_upstream_url(std::string_view url, std::string& problem);

/// A verifying TLS client context (system CAs, or tls.ca_file); nullptr for plain http.
/// Throws on an unreadable CA file (startup only).
std::unique_ptr<net::ssl::context> make_tls_context(upstream_target const& target,
                                                    config::tls_config const& tls);

} // namespace idemgate::proxy
