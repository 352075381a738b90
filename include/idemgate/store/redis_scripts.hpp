#pragma once
// The Lua scripts behind the redis store (docs/redis.md), called by SHA1 with EVALSHA. Each
// touches one record, passed in KEYS[1]; begin and release may also touch the credential's set
// (KEYS[2], store.max_records_per_credential; never in cluster mode).
#include <string>
#include <string_view>

namespace idemgate::store {

struct script {
    std::string_view name;
    std::string_view body;
    std::string sha1; // lower-case hex, as SCRIPT LOAD returns it
};

/// The scripts of the store (the record is one string, redis_record.hpp; a hash is a record of
/// the previous layout and is read too). ARGV and replies:
/// - begin(claim_prefix, fp_hex, lock_ttl_ms[, max_per_credential, ttl_ms, scope_hash]) →
///   {"acquired"} | {"value", the record} | {"limit"} (the credential's bound reached), or
///   for a legacy hash {"mismatch"} | {"in_progress"} | {"replay", encoded_response, created_ms}.
///   Without a bound on Redis >= 7 the store claims with a plain SET NX GET instead.
/// - complete(owner, encoded_response, ttl_ms) → 1 | 0 (not the owner)
/// - release(owner[, scope_hash]) → 1 | 0
/// - renew(owner, lock_ttl_ms) → 1 | 0
/// - peek() → {"none"} | {"s", value, now_ms, pttl_ms, pexpiretime_ms or 0} |
///   {st, fp_hex, created_ms, encoded_response or "", now_ms, pttl_ms} (a legacy hash)
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
