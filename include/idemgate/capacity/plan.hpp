#pragma once
// `idemgate capacity`: records held, Redis memory and primaries, gateway cores, from a rate,
// a body size and a ttl, and the measured inputs (constants.hpp). Pure arithmetic: no I/O
// but the streams run_command is given.
#include "idemgate/capacity/constants.hpp"

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <variant>
#include <vector>

namespace idemgate::capacity {

enum class store_kind { redis, memory };

struct plan_input {
    std::uint64_t new_keys_per_s = 0;
    std::uint64_t body_bytes = 0;
    std::chrono::milliseconds ttl{std::chrono::hours{24}};
    bool encryption = false;
    store_kind store = store_kind::redis;
    std::uint64_t replays_per_s = 0;
    std::uint64_t passthrough_per_s = 0;
    std::uint64_t primary_memory = std::uint64_t{25} << 30; ///< usable bytes per primary
    unsigned replica_cores = 2;
};

// Bounds of every input (docs/capacity.md); the command refuses anything outside them.
inline constexpr std::uint64_t max_rate = 10'000'000;               // requests/s
inline constexpr std::uint64_t max_body = std::uint64_t{512} << 20; // a Redis string's limit
inline constexpr std::chrono::milliseconds min_ttl{1000};
inline constexpr std::chrono::milliseconds max_ttl{std::chrono::hours{24 * 30}}; // config's
inline constexpr std::uint64_t min_primary_memory = std::uint64_t{256} << 20;
inline constexpr std::uint64_t max_primary_memory = std::uint64_t{4} << 40;
inline constexpr unsigned max_replica_cores = 256;
/// store.memory.max_bytes's upper bound (config validation).
inline constexpr std::uint64_t memory_store_max_bytes = std::uint64_t{1} << 40;

struct plan {
    double records = 0;              ///< completed records held at steady state: rate × ttl
    double record_bytes = 0;         ///< per record, credential set included when kept
    double credential_set_bytes = 0; ///< the part of record_bytes that is the set
    double data_bytes = 0;           ///< records × record_bytes
    double limit_bytes = 0;          ///< Redis maxmemory (all primaries) or store.memory.max_bytes
    double limit_records = 0;        ///< memory store: store.memory.max_records
    // Redis
    bool cluster = false; ///< more than one primary: Redis Cluster, no credential set
    std::uint64_t primaries_for_memory = 0;
    std::uint64_t primaries_for_cpu = 0;
    std::uint64_t primaries = 0;
    double redis_calls_per_s = 0;
    double redis_cores = 0; ///< redis-server CPU, all primaries, fully busy
    // gateway
    double gateway_cores = 0;         ///< fully busy
    double gateway_cores_planned = 0; ///< at gateway_core_target
    std::uint64_t replicas = 0;   ///< of replica_cores each, at least 2 (1 with the memory store)
    double new_keys_per_core = 0; ///< one core at gateway_core_target, only new keys
    double replays_per_core = 0;
    std::vector<std::string> notes; ///< warnings: limits passed, choices forced
};

plan compute(plan_input const& in, measured_inputs const& m);

/// The parsed command line, or why it is refused.
using parsed_options = std::variant<plan_input, std::string>;

/// `args`: everything after `capacity`. Sizes and durations use the config's units
/// ("2KiB", "24h").
parsed_options parse_options(std::vector<std::string> const& args);

/// The report `idemgate capacity` prints.
std::string format(plan_input const& in, plan const& p, measured_inputs const& m);

/// `idemgate capacity ...`: 0 and the report on `out`, or 2 and the problem and the usage on
/// `err`.
int run_command(std::vector<std::string> const& args, std::ostream& out, std::ostream& err);

} // namespace idemgate::capacity
