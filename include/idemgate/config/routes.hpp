#pragma once
// `routes`: per-path policies over the global `idempotency` section (docs/configuration.md
// "Routes"). What a route may set and what its effective policy is; matching a request path
// is the engine's (engine/routes.hpp).
#include "idemgate/config/config.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

/// The labels (normal_match) of the enabled routes whose scope is `route`: the routes a
/// records request may name by route.
std::vector<std::string> route_scoped_matches(config const& cfg);

/// The longest `ttl` any request can get (global or a route's): how long a record may live.
duration longest_ttl(config const& cfg) noexcept;

/// A route's `key_from` (docs/webhooks.md): where a delivery's key is.
struct key_source {
    enum class kind { json_pointer, header };
    kind from = kind::json_pointer;
    std::string where; // the RFC 6901 pointer ("/id", "" for the whole body) or the header name
};

/// "json:<pointer>" (each reference token after a '/', `~` only as `~0` or `~1`) or
/// "header:<field-name>"; nullopt with `why` set otherwise.
std::optional<key_source> parse_key_from(std::string_view text, std::string& why);

/// The longest a `verify.tolerance` may be: a captured delivery replays for this long.
inline constexpr duration max_webhook_tolerance = std::chrono::hours(1);

/// The secrets of a `verify.secret_file`, decoded: one `whsec_<base64>` per line; blank
/// lines (and a trailing newline, a CR before it) ignored. `error` set (naming a line
/// number, never its content) when the file does not read or a line is not such a secret.
struct webhook_secrets {
    std::vector<std::string> secrets;
    std::string error;
};
webhook_secrets read_webhook_secrets(std::string const& path);

/// Standard base64 (padding optional) -> bytes; nullopt when `text` is not base64.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace idemgate::config
