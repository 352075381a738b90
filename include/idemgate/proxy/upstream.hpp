#pragma once
// The upstream's address (from upstream.url) and its TLS client context.
#include "idemgate/config/config.hpp"
#include "idemgate/net.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace idemgate::proxy {

struct upstream_target {
    bool tls = false;
    std::string host;      // DNS name or IP literal (without brackets); also the SNI name
    std::string port;      // "80" / "443" when the URL has none
    std::string base_path; // the URL's path without trailing '/', prefixed to every target
};

/// http:// or https:// with a host (config::parse_http_url). nullopt when invalid.
std::optional<upstream_target> parse_upstream_url(std::string_view url);

/// A verifying TLS client context (system CAs, or tls.ca_file), with the client certificate
/// when tls.cert_file is set; nullptr for plain http.
/// Throws on an unreadable CA file (startup only).
std::unique_ptr<net::ssl::context> make_tls_context(upstream_target const& target,
                                                    config::tls_config const& tls);

} // namespace idemgate::proxy
