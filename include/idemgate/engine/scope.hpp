#pragma once
// Contract §2 "scope": the store key of (API key, account, method, path, key).
#include "idemgate/store/record.hpp"
#include "idemgate/util/hmac.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace idemgate::engine {

/// Thread-safe (immutable after construction).
class scope_hasher {
public:
    /// Empty secret: API keys are hashed with SHA-256; otherwise HMAC-SHA-256(secret, key).
    explicit scope_hasher(std::string_view secret);

    /// `target` may carry a query string; it is cut at the first '?'. Each field is
    /// length-prefixed before hashing, so no two different tuples collide by concatenation.
    /// The result is lowercase hex SHA-256 (64 chars) and contains no API key.
    store::scope_key make(std::string_view api_key, std::string_view account,
                          std::string_view method, std::string_view target,
                          std::string_view idempotency_key) const;

    /// The scope of a `scope: route` ledger route (docs/webhooks.md): (route match, key),
    /// with no API key, account, method or path. Its own domain prefix: it never equals a
    /// make() scope. The credential field (what max_records_per_credential counts) is the
    /// route's, keyed like an API key's hash and domain-separated from them.
    store::scope_key make_route(std::string_view route_match, std::string_view key) const;

    /// Hash of the API key alone (hex), as used inside the scope.
    std::string api_key_hash(std::string_view api_key) const;

    /// The fingerprint a store keeps for `digest` (the body's SHA-256) in `scope`: with a
    /// secret, HMAC-SHA-256(secret, domain, scope hash, digest), so that a store dump gives
    /// nothing to brute-force a low-entropy body with; without one, `digest` itself.
    store::fingerprint keyed(store::scope_key const& scope, store::fingerprint const& digest) const;

    /// Whether keyed() changes a digest (a secret is set).
    bool keys_fingerprints() const noexcept { return mac_.has_value(); }

private:
    std::optional<util::hmac_sha256> mac_; // set when a secret is
    std::string hmac_hex(std::string_view data) const;
};

} // namespace idemgate::engine
