#pragma once
// The request target in the one normal form that is both scoped and forwarded (contract §7).
// Pure: no sockets; Boost.URL checks the RFC 3986 grammar.
#include <optional>
#include <string>
#include <string_view>

namespace idemgate::http_server {

/// The origin-form target (`/path?query`) that idemgate scopes and forwards, or nullopt when
/// the request must be refused with 400:
/// - origin-form (RFC 9112 §3.2.1) is required; an absolute-form target is accepted when its
///   authority equals `host` (case-insensitive) and becomes its path and query; authority-
///   and asterisk-form, a `#`, or a byte outside RFC 3986 are refused;
/// - percent-encoded unreserved characters are decoded (`%7E` → `~`), other escapes are upper
///   cased (`%2f` → `%2F`), runs of `/` become one, and dot segments are removed (RFC 3986
///   §5.2.4), so that two spellings of one path are one scope and the upstream sees that
///   same form;
/// - a target whose dot segments would climb above `/` (`/../x`, `/%2e%2e/x`), or a segment
///   that hides a dot segment behind an encoded slash (`/..%2Fx`, `/..%5Cx`), is refused:
///   prefixed with upstream.url's base path it could leave that path.
/// The query is kept as sent (it is not part of the scope).
std::optional<std::string> normalise_target(std::string_view target, std::string_view host);

enum class target_check { keep, rewritten, refused };

/// The same rules without a copy when the target is already in normal form (the common
/// case): `keep`, or `rewritten` with the normal form in `normal`, or `refused` (400).
target_check check_target(std::string_view target, std::string_view host, std::string& normal);

} // namespace idemgate::http_server
