#pragma once
// Binary encoding of a record, for stores that keep bytes (redis). Pure; no I/O.
#include "idemgate/store/record.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace idemgate::store {

/// Versioned, length-prefixed little-endian layout; see record_codec.cpp.
/// Preconditions: response.status <= 0xFFFF, every string and the header count < 4 GiB.
std::string encode(record const& r);

/// nullopt on truncated, corrupt or unknown-version input (never throws, never reads past
/// `bytes`).
std::optional<record> decode(std::string_view bytes);

} // namespace idemgate::store
