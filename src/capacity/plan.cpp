#include "idemgate/capacity/plan.hpp"
#include "idemgate/config/units.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace idemgate::capacity {

namespace {

/// ceil for the non-negative, bounded quotients of this file (at most ~1e14 by the input
/// bounds), as a count.
std::uint64_t ceil_count(double x) noexcept {
    return x <= 0 ? 0 : static_cast<std::uint64_t>(std::ceil(x));
}

std::string bytes_text(double bytes) {
    static constexpr char const* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    std::size_t u = 0;
    while (bytes >= 1024 && u + 1 < std::size(units)) {
        bytes /= 1024;
        ++u;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
    return buf;
}

/// 86400000 -> "86,400,000": records and rates are read at a glance.
std::string count_text(double n) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.0f", std::round(n));
    std::string digits = buf;
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string fixed_text(double x, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
    return buf;
}

} // namespace

plan compute(plan_input const& in, measured_inputs const& m) {
    plan p;
    auto const body = static_cast<double>(in.body_bytes);
    auto const new_keys = static_cast<double>(in.new_keys_per_s);
    auto const replays = static_cast<double>(in.replays_per_s);
    auto const passthrough = static_cast<double>(in.passthrough_per_s);
    // A completed record lives ttl after its first request (docs/redis.md), so at a steady
    // rate the store holds rate × ttl of them; claims in flight are rate × latency, noise.
    p.records = new_keys * static_cast<double>(in.ttl.count()) / 1000.0;
    // The memory store does not seal (docs/operations.md "Encryption at rest").
    bool const sealing = in.encryption && in.store == store_kind::redis;
    if (in.encryption && !sealing)
        p.notes.emplace_back("the memory store does not seal records: --encryption ignored");

    if (in.store == store_kind::memory) {
        p.record_bytes = m.memory_store.at(body);
        p.data_bytes = p.records * p.record_bytes;
        p.limit_bytes = p.data_bytes * memory_store_headroom;
        p.limit_records = std::ceil(p.records * memory_store_headroom);
        if (p.limit_bytes > static_cast<double>(memory_store_max_bytes))
            p.notes.emplace_back("store.memory.max_bytes cannot exceed 1TiB: use the Redis store");
        if (p.limit_records > 1e9)
            p.notes.emplace_back(
                "store.memory.max_records cannot exceed 1000000000: use the Redis store");
    } else {
        auto const& model = sealing ? m.redis_sealed : m.redis_plain;
        double const record = model.at(body);
        p.redis_calls_per_s = new_keys * m.redis_calls_new_key + replays * m.redis_calls_replay;
        p.redis_cores = (new_keys * m.redis_new_key_us + replays * m.redis_replay_us) / 1e6;
        p.primaries_for_cpu =
            std::max<std::uint64_t>(1, ceil_count(p.redis_cores / redis_core_target));
        auto const primary = static_cast<double>(in.primary_memory);
        // One primary (standalone or sentinel) keeps the credential's set; more than one is
        // a cluster, which does not (docs/redis.md "Record layout").
        double const with_set = record + m.redis_credential_set;
        double const standalone_limit = p.records * with_set * redis_headroom;
        if (standalone_limit <= primary && p.primaries_for_cpu == 1) {
            p.record_bytes = with_set;
            p.credential_set_bytes = m.redis_credential_set;
            p.primaries_for_memory = 1;
            p.primaries = 1;
        } else {
            p.cluster = true;
            p.record_bytes = record;
            p.primaries_for_memory = std::max<std::uint64_t>(
                1, ceil_count(p.records * record * redis_headroom / primary));
            p.primaries = std::max<std::uint64_t>(
                {cluster_min_primaries, p.primaries_for_memory, p.primaries_for_cpu});
            if (p.primaries > cluster_max_nodes)
                p.notes.emplace_back("more primaries than Redis Cluster's 1000-node bound: "
                                     "shorten the ttl, or shard by API across clusters");
        }
        p.data_bytes = p.records * p.record_bytes;
        p.limit_bytes = p.data_bytes * redis_headroom;
    }

    double const new_key_us = m.gateway_us.new_key + (sealing ? m.sealing_new_key_us : 0);
    double const replay_us = m.gateway_us.replay + (sealing ? m.sealing_replay_us : 0);
    p.gateway_cores =
        (new_keys * new_key_us + replays * replay_us + passthrough * m.gateway_us.passthrough) /
        1e6;
    p.gateway_cores_planned = p.gateway_cores / gateway_core_target;
    auto const needed = std::max<std::uint64_t>(
        1, ceil_count(p.gateway_cores_planned / static_cast<double>(in.replica_cores)));
    if (in.store == store_kind::memory) {
        // One process holds the records: a second replica would not see them.
        p.replicas = 1;
        if (needed > 1)
            p.notes.emplace_back("the load needs more than one replica's " +
                                 std::to_string(in.replica_cores) +
                                 " cores, and the memory store cannot be shared: use Redis");
    } else {
        p.replicas = std::max<std::uint64_t>(2, needed); // two, so that one can fail or roll
    }
    p.new_keys_per_core = gateway_core_target * 1e6 / new_key_us;
    p.replays_per_core = gateway_core_target * 1e6 / replay_us;
    return p;
}

std::string format(plan_input const& in, plan const& p, measured_inputs const& m) {
    std::string s;
    auto line = [&s](std::string const& label, std::string const& value) {
        s += label;
        s.append(label.size() < 26 ? 26 - label.size() : 1, ' ');
        s += value;
        s += '\n';
    };
    bool const redis = in.store == store_kind::redis;
    s += "idemgate capacity: " + count_text(static_cast<double>(in.new_keys_per_s)) +
         " new keys/s, body " + config::format_byte_size({in.body_bytes}) + ", ttl " +
         config::format_duration(in.ttl) + ", " + (redis ? "redis" : "memory") +
         " store, encryption " + (in.encryption ? "on" : "off") + ", " +
         count_text(static_cast<double>(in.replays_per_s)) + " replays/s, " +
         count_text(static_cast<double>(in.passthrough_per_s)) + " passthrough/s\n";
    s += "measured inputs: bytes " + std::string(m.bytes_measured_on) + " (" +
         std::string(m.bytes_commit) + "), CPU " + std::string(m.cpu_measured_on) + " (" +
         std::string(m.cpu_commit) + "); docs/capacity.md\n\n";
    line("records held", count_text(p.records) + " (rate × ttl)");
    if (p.credential_set_bytes > 0) {
        line("bytes per record", count_text(p.record_bytes) + " (record " +
                                     count_text(p.record_bytes - p.credential_set_bytes) +
                                     " + credential set " + count_text(p.credential_set_bytes) +
                                     ")");
    } else {
        line("bytes per record", count_text(p.record_bytes));
    }
    line("records' memory", bytes_text(p.data_bytes));
    if (redis) {
        line("Redis maxmemory", bytes_text(p.limit_bytes) + " (records × " +
                                    fixed_text(redis_headroom, 1) + " headroom, all primaries)");
        std::string const shape =
            p.cluster ? "Redis Cluster primaries of " +
                            bytes_text(static_cast<double>(in.primary_memory)) +
                            " (memory: " + count_text(static_cast<double>(p.primaries_for_memory)) +
                            ", CPU: " + count_text(static_cast<double>(p.primaries_for_cpu)) +
                            ", at least " + std::to_string(cluster_min_primaries) + ")"
                      : "primary (standalone or sentinel; fits " +
                            bytes_text(static_cast<double>(in.primary_memory)) + ")";
        line("primaries", count_text(static_cast<double>(p.primaries)) + " " + shape);
        line("maxmemory per primary", bytes_text(p.limit_bytes / static_cast<double>(p.primaries)) +
                                          ", maxmemory-policy noeviction");
        line("Redis calls", count_text(p.redis_calls_per_s) + "/s (" +
                                count_text(p.redis_calls_per_s / static_cast<double>(p.primaries)) +
                                "/s per primary)");
        line("Redis CPU", fixed_text(p.redis_cores, 2) + " cores busy (planned at " +
                              fixed_text(redis_core_target * 100, 0) + " % of one per primary)");
    } else {
        line("store.memory.max_bytes", "≥ " + bytes_text(p.limit_bytes) + " (records × " +
                                           fixed_text(memory_store_headroom, 1) + ")");
        line("store.memory.max_records", "≥ " + count_text(p.limit_records));
    }
    line("gateway CPU", fixed_text(p.gateway_cores, 2) + " cores busy, " +
                            fixed_text(p.gateway_cores_planned, 2) + " planned at " +
                            fixed_text(gateway_core_target * 100, 0) + " %");
    line("gateway replicas", count_text(static_cast<double>(p.replicas)) + " of " +
                                 std::to_string(in.replica_cores) + " cores" +
                                 (redis ? " (at least 2)" : " (the memory store: one process)"));
    line("one core at " + fixed_text(gateway_core_target * 100, 0) + " %",
         count_text(p.new_keys_per_core) + " new keys/s or " + count_text(p.replays_per_core) +
             " replays/s");
    for (auto const& n : p.notes) s += "note: " + n + '\n';
    return s;
}

} // namespace idemgate::capacity
