#pragma once
// `routes`: per-path policies over the global `idempotency` section (docs/configuration.md
// "Routes"). What a route may set and what its effective policy is; matching a request path
// is the engine's (engine/routes.hpp).
#include "idemgate/config/config.hpp"

#include <array>
#include <cstddef>
#include <string_view>

namespace idemgate::config {

/// The most entries `routes` may hold (validate()): each one is a label value of two
/// metric families, so the list bounds their series.
inline constexpr std::size_t max_routes = 1000;

/// The keys of `idempotency` a route may not set: they say how a request is read (headers,
/// credential) or how scopes are hashed, which must not depend on where the path falls.
inline constexpr std::array<std::string_view, 7> global_only_keys{
    "account_header", "key_header", "replay_header",    "max_key_length",
    "scope_secret",   "credential", "scope_secret_file"};

/// A route's `match` as compared and labelled: without a trailing '/' ("/v1/payments/" ->
/// "/v1/payments"); "/" stays "/".
std::string_view normal_match(std::string_view match) noexcept;

/// The route's effective policy: `global` with the route's overrides applied.
idempotency_config policy_of(route_config const& route, idempotency_config const& global);

/// The longest `ttl` any request can get (global or a route's): how long a record may live.
duration longest_ttl(config const& cfg) noexcept;

} // namespace idemgate::config
