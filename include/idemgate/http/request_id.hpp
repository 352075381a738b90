#pragma once
// X-Request-Id: kept when the client sent one, otherwise generated and forwarded.
#include "idemgate/http/types.hpp"

#include <string>

namespace idemgate::http_server {

/// Returns the request's id, setting a new random one (32 hex chars) when absent or
/// unusable (empty, longer than 200 chars, or with non-visible characters).
std::string ensure_request_id(request& req);

} // namespace idemgate::http_server
