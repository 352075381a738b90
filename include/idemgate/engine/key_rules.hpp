#pragma once
// Contract §1 "Key rules" and §2 "API key": parsing of the two header values.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace idemgate::engine {

/// The key of one Idempotency-Key field value: 1..max_len visible ASCII (0x21–0x7E). The
/// RFC 8941 sf-string form (`"abc"`, with `\"` and `\\` escapes) means the unquoted key, which
/// must obey the same rules. Surrounding optional whitespace (SP/HTAB) is ignored.
/// nullopt: invalid.
std::optional<std::string> parse_idempotency_key(std::string_view field_value, std::size_t max_len);

/// The API key of an Authorization value: the token of `Bearer <token>`, or the whole decoded
/// credential of `Basic base64(user:password)`, user and password (a replay is not
/// authenticated by the upstream, so a wrong password must be another scope). Scheme names
/// are case-insensitive; the token is taken as sent, trimmed (the upstream judges it).
/// nullopt when there is no usable API key (other scheme, empty token, bad base64, empty
/// user).
std::optional<std::string> api_key_of(std::string_view authorization);

/// The API key of the header named by `idempotency.credential: header:<Name>`: its value,
/// trimmed; nullopt when blank.
std::optional<std::string> credential_of_header(std::string_view value);

} // namespace idemgate::engine
