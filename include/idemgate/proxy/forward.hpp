#pragma once
// Proxy hygiene in one place (architecture.md item 11): what crosses the proxy and what not.
#include "idemgate/http/types.hpp"

#include <string_view>

namespace idemgate::proxy {

/// Rewrites a client request for the upstream in place: drops hop-by-hop fields and every
/// field the Connection header names (RFC 9110 §7.6.1) and `Expect` (the body is already
/// read), appends the peer to X-Forwarded-For, sets X-Forwarded-Proto when absent, and
/// re-frames the body with a single Content-Length. A non-empty `base_path` (upstream.url's
/// path) is prefixed to the target.
void prepare_upstream_request(request& req, std::string_view peer_address,
                              std::string_view base_path);

/// Removes hop-by-hop fields and those a Connection field names (RFC 9110 §7.6.1), keeping
/// the others in their order. The pool applies it to every upstream response as it is read,
/// so that the live answer and the stored record hold the same fields.
void drop_connection_fields(http::fields& fields);

/// Frames a response for the client in place (its fields already end-to-end): `version`,
/// `keep_alive`, and a Content-Length from the body except where a response has none (HEAD,
/// 1xx, 204, 304).
void prepare_client_response(response& res, unsigned version, bool keep_alive, bool head_request);

} // namespace idemgate::proxy
