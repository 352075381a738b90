#pragma once
// Canonical form of a JSON text: object keys sorted, no insignificant whitespace.
#include <optional>
#include <string>
#include <string_view>

namespace idemgate::engine {

/// Compact form, object keys sorted by bytes, strings as UTF-8 with nlohmann's escapes.
/// nullopt when `text` is not a single valid JSON value (trailing bytes, a NUL byte, invalid
/// UTF-8), and also when its canonical form would not be faithful, so that two different
/// bodies never share one: duplicate object keys, a number a double cannot hold exactly
/// (more than 15 significant digits, overflow, underflow), nesting deeper than 256 levels.
/// A number of more than 15 digits written as this form writes its double is kept, so that a
/// form is its own form (canonical_json(*canonical_json(x)) == canonical_json(x)).
/// Callers then hash the bytes (contract §2). Throws only std::bad_alloc.
std::optional<std::string> canonical_json(std::string_view text);

} // namespace idemgate::engine
