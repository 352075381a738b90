#pragma once
// Loading the TLS files a config names. The one loader both --check-config and the running
// gateway (at start and on every reload) use, so that what validates is what runs.
#include "idemgate/config/config.hpp"
#include "idemgate/net.hpp"

#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace idemgate::config {

/// A server context built from `tls`, or why it could not be.
struct server_tls {
    std::shared_ptr<net::ssl::context> ctx; // null on error
    std::string error_key;                  // "tls.cert_file", "tls.key_file", ...
    std::string error;                      // empty when ctx is set
    std::int64_t not_after = 0;             // the leaf's expiry, seconds since the epoch
    std::string serial;                     // the leaf's serial number, hex (logged on reload)
};

/// Reads the certificate chain, the key (which must match it) and the client CA bundle,
/// and makes a server context: at least min_version, ALPN http/1.1, client certificates
/// required and verified when client_ca_file is set. An expired leaf is an error (the
/// gateway refuses to start with it, and a reload keeps the old one). Never throws.
server_tls load_server_tls(listener_tls_config const& tls);

/// Why a TLS client's cert_file/key_file pair (of the section at `at`, e.g. "upstream.tls")
/// is unusable, as {key, message}; {"", ""} when it is fine or unset.
std::pair<std::string, std::string> check_client_pair(tls_config const& tls, std::string const& at);

/// Loads the client certificate pair into a client context (no-op when unset). Throws
/// std::invalid_argument naming `at` when the files cannot be used (startup only).
void use_client_pair(net::ssl::context& ctx, tls_config const& tls, std::string const& at);

} // namespace idemgate::config
