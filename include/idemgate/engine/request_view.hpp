#pragma once
// The parts of a request that contract §1–2 look at, without Beast types, so that the
// classification and scope rules are pure functions.
#include <optional>
#include <string_view>
#include <vector>

namespace idemgate::engine {

/// Views into a request owned by the caller; valid while the request lives.
struct request_view {
    std::string_view method; // as sent, e.g. "POST"
    std::string_view target; // origin-form: path plus optional "?query"
    /// The Authorization field, or the field named by idempotency.credential: header:<Name>
    /// (then `credential_is_header`).
    std::optional<std::string_view> credential;
    bool credential_is_header = false;
    std::vector<std::string_view> idempotency_keys; // every Idempotency-Key field, in order
    std::string_view account; // connected-account header value; empty when absent
};

} // namespace idemgate::engine
