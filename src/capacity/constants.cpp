// The measured inputs of `idemgate capacity` (docs/capacity.md "Measured inputs"). Update
// them when the record layout, the record codec or the request path changes:
//   bytes: bench/capacity.sh prints capacity.json; its "models" give fixed and per_body_byte
//          (redis_encryption_off/on: used_memory; memory_encryption_off: store bytes) and
//          the credential set's bytes per record (zset_per_record).
//   CPU:   bench/run.sh's new-key, replay and passthrough rows at 64 connections (CPU
//          µs/req of idemgate and of Redis), docs/benchmarks.md.
// Then set the date and commit of the run, and the table in docs/capacity.md.
#include "idemgate/capacity/constants.hpp"

namespace idemgate::capacity {

measured_inputs const& measured() noexcept {
    static measured_inputs const m{
        // bench/capacity-results/20261201T114807Z/capacity.json "models": Redis 7.0.15
        // (jemalloc), 20 000 records of 200 B and 2 KiB, 4000 of 32 KiB, one API key, the
        // record one string (issue 14). The slope is 1.25 rather than 1: a 32 KiB body plus
        // its headers lands in jemalloc's 40 KiB size class, the worst rounding (classes are
        // up to 25 % apart).
        .redis_plain = {.fixed = 571.5, .per_body_byte = 1.2469},
        .redis_sealed = {.fixed = 631.2, .per_body_byte = 1.2459},
        // A skiplist set (one credential with more than 128 records, the worst case).
        .redis_credential_set = 176.8,
        .memory_store = {.fixed = 824.0, .per_body_byte = 0.9999},
        .bytes_measured_on = "2026-12-01",
        .bytes_commit = "bf59217",
        // bench/results/20261201T115623Z (docs/benchmarks.md "Where it stands"): medians of
        // 3 rounds at 64 connections, unpinned on 2 cores shared with wrk, the upstream and
        // Redis (load 1.6–3.1), kernel time included; jemalloc, the string record, the
        // per-credential bound on (so a claim is still the Lua script).
        .gateway_us = {.new_key = 59.1, .replay = 29.8, .passthrough = 32.6},
        // idemgate_sealed − idemgate in the same rounds (store.encryption + scope_secret).
        .sealing_new_key_us = 8.9,
        .sealing_replay_us = 7.1,
        .redis_new_key_us = 35.1,
        .redis_replay_us = 7.4,
        // EVALSHA begin + complete per new key, begin per replay (MONITOR-checked).
        .redis_calls_new_key = 2,
        .redis_calls_replay = 1,
        .cpu_measured_on = "2026-12-01",
        .cpu_commit = "bf59217",
    };
    return m;
}

} // namespace idemgate::capacity
