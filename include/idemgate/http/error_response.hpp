#pragma once
// The JSON errors idemgate writes itself (contract §5).
#include "idemgate/error.hpp"
#include "idemgate/http/types.hpp"

namespace idemgate::http_errors {

/// `{"error":{"type":"idempotency_error","code":…,"message":…}}` with the status of
/// info_of(e); 409 in_progress and 503 carry `Retry-After: 1`.
response make(errc e, unsigned version, bool keep_alive);

} // namespace idemgate::http_errors
