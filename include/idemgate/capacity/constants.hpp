#pragma once
// The measured inputs of capacity planning (docs/capacity.md), in one place: bytes per stored
// record from bench/capacity.sh, CPU per request from bench/run.sh (docs/benchmarks.md).
// The values live in src/capacity/constants.cpp with the date and commit they were measured
// at; docs/capacity.md "Re-measuring" says when and how to update them.
#include <string_view>

namespace idemgate::capacity {

/// One stored record's bytes as a function of its response body: fixed + per_body_byte × body.
struct bytes_model {
    double fixed = 0;
    double per_body_byte = 0;
    [[nodiscard]] double at(double body_bytes) const noexcept {
        return fixed + per_body_byte * body_bytes;
    }
};

/// Microseconds of CPU per request.
struct cpu_costs {
    double new_key = 0;
    double replay = 0;
    double passthrough = 0;
};

struct measured_inputs {
    // Bytes per completed record (bench/capacity.sh).
    /// Redis, INFO used_memory Δ ÷ records: the record's hash and key, its entries in the
    /// keyspace and expiry dictionaries (and their tables), the allocator's size classes.
    /// Without the credential's sorted set.
    bytes_model redis_plain;
    bytes_model redis_sealed; ///< the same with store.encryption on
    /// Per record in the credential's sorted set (store.max_records_per_credential),
    /// standalone and sentinel only: cluster mode keeps no set (docs/redis.md).
    double redis_credential_set = 0;
    /// Memory store: idemgate_store_bytes Δ ÷ records, what store.memory.max_bytes counts.
    bytes_model memory_store;
    std::string_view bytes_measured_on; ///< UTC date
    std::string_view bytes_commit;

    // CPU per request (bench/run.sh, docs/benchmarks.md).
    cpu_costs gateway_us;          ///< the gateway process, kernel time included
    double sealing_new_key_us = 0; ///< added by store.encryption + keyed fingerprints
    double sealing_replay_us = 0;
    double redis_new_key_us = 0; ///< redis-server's CPU per request
    double redis_replay_us = 0;
    double redis_calls_new_key = 0; ///< EVALSHA calls per request (begin, complete)
    double redis_calls_replay = 0;
    std::string_view cpu_measured_on;
    std::string_view cpu_commit;
};

/// The figures measured on this project's machine; see constants.cpp.
measured_inputs const& measured() noexcept;

// Planning margins: choices, not measurements (docs/capacity.md explains each).
/// Redis maxmemory over the records' bytes: allocator fragmentation, a dictionary's table
/// doubling while it rehashes, replication and client buffers, a burst above the mean rate.
inline constexpr double redis_headroom = 1.3;
/// store.memory.max_bytes / max_records over the steady state, for the same bursts.
inline constexpr double memory_store_headroom = 1.3;
/// Gateway cores are planned at 70 % busy: latency grows fast as a core saturates.
inline constexpr double gateway_core_target = 0.7;
/// A Redis primary executes commands on one thread: planned at half of that core.
inline constexpr double redis_core_target = 0.5;
/// Redis Cluster needs three primaries for a majority to fail one over.
inline constexpr unsigned cluster_min_primaries = 3;
/// Redis Cluster's documented upper bound on nodes.
inline constexpr unsigned cluster_max_nodes = 1000;

} // namespace idemgate::capacity
