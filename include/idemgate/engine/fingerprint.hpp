#pragma once
// Contract §2 "fingerprint": SHA-256 of the body (or of its canonical JSON form).
#include "idemgate/config/config.hpp"
#include "idemgate/store/record.hpp"

#include <string>
#include <string_view>

namespace idemgate::engine {

/// SHA-256 via OpenSSL EVP. canonical_json mode: a body that is not JSON falls back to its
/// bytes. none: the digest of no bytes, whatever the body.
store::fingerprint fingerprint_of(std::string_view body, config::fingerprint_mode mode);

/// SHA-256 of `data` (raw 32 bytes).
store::fingerprint sha256(std::string_view data);

/// Lowercase hex of raw bytes.
std::string to_hex(std::string_view bytes);
std::string to_hex(store::fingerprint const& fp);

} // namespace idemgate::engine
