#pragma once
// The webhook-receipt ledger (docs/webhooks.md): a delivery's key from its body or a header,
// and the Standard Webhooks signature check. Pure.
#include "idemgate/config/routes.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace idemgate::engine {

/// The Standard Webhooks headers of a delivery; nullopt: absent.
struct webhook_headers {
    std::optional<std::string_view> id;        // webhook-id
    std::optional<std::string_view> timestamp; // webhook-timestamp: seconds since the epoch
    std::optional<std::string_view> signature; // webhook-signature: "v1,<base64>" ...
};

enum class webhook_verdict {
    ok,
    signature, // no webhook-id, no webhook-signature, or no v1 signature that matches
    timestamp, // no webhook-timestamp, not a number, or further than tolerance from now
};

/// The signature field of a delivery for one secret (raw bytes): "v1," then the base64 of
/// HMAC-SHA-256(secret, id "." timestamp "." body).
std::string sign_webhook(std::string_view secret, std::string_view id, std::string_view timestamp,
                         std::string_view body);

/// Accepted when the timestamp is within `tolerance` of `now` (either way) and any `v1,`
/// signature of the space-separated list matches any secret (compared in constant time).
/// The timestamp is checked first: a stale delivery is refused without an HMAC.
webhook_verdict verify_webhook(std::vector<std::string> const& secrets, webhook_headers const& h,
                               std::string_view body, std::chrono::seconds now,
                               std::chrono::seconds tolerance);

/// The key of a delivery for `key_from`: a JSON pointer's string (as is) or integer/number
/// (its JSON text) in `body`, or the header value given (trimmed). nullopt when there is none:
/// body not JSON, pointer missing, another type, or empty.
std::optional<std::string> delivery_key(config::key_source const& from, std::string_view body,
                                        std::optional<std::string_view> header_value);

} // namespace idemgate::engine
