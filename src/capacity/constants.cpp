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
        // docs/benchmarks.md "What issues 10 and 11 cost": the latest code's run (with the
        // per-credential bound), medians of 4 rounds at 64 connections on 2 shared cores,
        // kernel time included. Higher than the quiet 2026-11-28 run (43.3/21.5/21.4 µs,
        // before the bound), so the plan errs on the side of more cores.
        .gateway_us = {.new_key = 64.4, .replay = 26.7, .passthrough = 37.2},
        // In-process cost of sealing and keyed fingerprints (the same page): the load runs
        // with encryption on were too noisy to read a difference from.
        .sealing_new_key_us = 8,
        .sealing_replay_us = 5,
        .redis_new_key_us = 39.1,
        .redis_replay_us = 8.5,
        // EVALSHA begin + complete per new key, begin per replay (MONITOR-checked).
        .redis_calls_new_key = 2,
        .redis_calls_replay = 1,
        .cpu_measured_on = "2026-12-01",
        .cpu_commit = "9532288",
    };
    return m;
}

} // namespace idemgate::capacity
