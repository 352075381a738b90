#pragma once
// Proxy hygiene in one place (architecture.md item 11): what crosses the proxy and what not.
#include "idemgate/http/types.hpp"
#include "idemgate/store/record.hpp"

#include <string_view>

namespace idemgate::proxy {

/// Rewrites a client request for the upstream in place: drops hop-by-hop fields and every
/// field the Connection header names (RFC 9110 §7.6.1) and `Expect` (the body is already
/// read), appends the peer to X-Forwarded-For, sets X-Forwarded-Proto when absent, and
/// re-frames the body with a single Content-Length. A non-empty `base_path` (upstream.url's
/// path) is prefixed to the target.
void prepare_upstream_request(request& req, std::string_view peer_address,
                              std::string_view base_path);

/// Every field of a response, in order; engine::to_stored keeps the end-to-end ones.
store::header_list fields_of(response const& res);

/// Rewrites an upstream response for the client in place: drops hop-by-hop fields and
/// Connection-named ones, and frames it for `keep_alive` and `head_request`.
void prepare_client_response(response& res, bool keep_alive, bool head_request);

/// A client response rebuilt from a stored record (replay): stored status, headers and body
/// byte for byte, plus the replay header.
response replay_response(store::stored_response const& stored, std::string_view replay_header,
                         unsigned version, bool keep_alive, bool head_request);

} // namespace idemgate::proxy
