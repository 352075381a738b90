#pragma once
// The redis store's record as ONE string value (docs/redis.md "Record layout"). Pure; no I/O.
// A claim is one `SET key value NX PX lock_ttl GET` on Redis >= 7, and a replay reads the
// whole record from that command's reply, so the layout is one string rather than a hash.
//
//   in progress  "p" fingerprint(32 raw bytes) owner(32 bytes) "L" lock_ms
//                "p" fingerprint owner "C" created_ms
//   completed    "c" fingerprint created_ms ":" response (record_codec, sealed when on)
//
// "L": written by the plain SET; the created time is Redis's own clock, PEXPIRETIME − lock_ms
// (the expiry the SET set), so no gateway clock enters the record. The first renewal turns it
// into "C" (a renewal moves the expiry). "C": written by the Lua claim from Redis TIME.
// Numbers are decimal digits only. The scripts in redis_scripts.cpp write the same bytes.
#include "idemgate/store/record.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace idemgate::store::redis_record {

/// Bytes of an owner token in a record (make_owner_token's 32 hex characters).
inline constexpr std::size_t owner_size = 32;
/// Offsets into an in-progress value, as the scripts read them (1-based in Lua: +1).
inline constexpr std::size_t fp_at = 1;
inline constexpr std::size_t owner_at = fp_at + 32;
inline constexpr std::size_t clock_at = owner_at + owner_size;

/// Which clock field an in-progress record carries.
enum class clock_kind : std::uint8_t {
    lock_ms,    // "L": created = PEXPIRETIME − lock_ms
    created_ms, // "C": created directly
};

struct in_progress {
    fingerprint fp{};
    std::string_view owner;
    clock_kind clock = clock_kind::created_ms;
    std::int64_t value = 0; // lock_ms or created_ms, by `clock`
};

struct completed {
    fingerprint fp{};
    std::int64_t created_ms = 0;
    std::string_view response; // record_codec bytes, maybe sealed
};

struct decoded {
    bool done = false; // completed: `c` is set; else `p`
    in_progress p;
    completed c;
};

/// "p" + fp + owner: the part every in-progress value starts with. nullopt when the owner is
/// not owner_size bytes.
std::optional<std::string> claim_prefix(fingerprint const& fp, std::string_view owner);

/// Whole in-progress values ("L" or "C"). nullopt like claim_prefix, or a negative number.
std::optional<std::string> encode_claim(fingerprint const& fp, std::string_view owner,
                                        clock_kind clock, std::int64_t value);

/// A completed value (what the complete script writes). nullopt when created_ms < 0.
std::optional<std::string> encode_completed(fingerprint const& fp, std::int64_t created_ms,
                                            std::string_view response);

/// nullopt for anything else than the layouts above: empty, unknown state, truncated, a
/// number that is empty, not all digits or longer than 18 digits. Never reads past `value`;
/// the views point into it.
std::optional<decoded> decode(std::string_view value);

} // namespace idemgate::store::redis_record
