#pragma once
// The Lua scripts behind the redis store (docs/redis.md), called by SHA1 with EVALSHA. Each
// touches one record, passed in KEYS[1]; begin and release may also touch the credential's set
// (KEYS[2], store.max_records_per_credential), which shares the record's slot in cluster mode.
#include <string>
#include <string_view>

namespace idemgate::store {

struct script {
    std::string_view name;
    std::string_view body;
    std::string sha1; // lower-case hex, as SCRIPT LOAD returns it
};

/// The scripts of the store. ARGV and replies:
/// - begin(fp_hex, owner, lock_ttl_ms[, max_per_credential, ttl_ms, scope_hash]) →
///   {"acquired", created_ms} | {"mismatch"} | {"in_progress"} |
///   {"replay", encoded_response, created_ms} | {"limit"} (the credential's bound reached)
/// - complete(owner, encoded_response, ttl_ms) → 1 | 0 (not the owner)
/// - release(owner[, scope_hash]) → 1 | 0
/// - renew(owner, lock_ttl_ms) → 1 | 0
/// - peek() → {"none"} | {st, fp_hex, created_ms, encoded_response or "", now_ms, pttl_ms}
///   (the records API's lookup; reads only)
/// - evict([scope_hash]) → 1 | 0 (deleted whatever its state; the credential's set too)
struct script_set {
    script begin;
    script complete;
    script release;
    script renew;
    script peek;
    script evict;
};

/// Built on first use (thread-safe); immutable afterwards.
script_set const& scripts();

/// Lower-case hex SHA1 of `text` (OpenSSL).
std::string sha1_hex(std::string_view text);

} // namespace idemgate::store
