// The capacity arithmetic row by row, on round inputs of its own (not the measured ones, so
// that a re-measurement does not change what these rows check).
#include "idemgate/capacity/plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

namespace idemgate::capacity {
namespace {

using namespace std::chrono_literals;

measured_inputs const inputs{
    .redis_plain = {.fixed = 1000, .per_body_byte = 1.0},
    .redis_sealed = {.fixed = 1056, .per_body_byte = 1.0},
    .redis_credential_set = 200,
    .memory_store = {.fixed = 800, .per_body_byte = 1.0},
    .bytes_measured_on = "2000-01-01",
    .bytes_commit = "test",
    .gateway_us = {.new_key = 50, .replay = 25, .passthrough = 20},
    .sealing_new_key_us = 10,
    .sealing_replay_us = 5,
    .redis_new_key_us = 40,
    .redis_replay_us = 10,
    .redis_calls_new_key = 2,
    .redis_calls_replay = 1,
    .cpu_measured_on = "2000-01-01",
    .cpu_commit = "test",
};

constexpr std::uint64_t gib = std::uint64_t{1} << 30;

struct row {
    std::string name;
    plan_input in;
    double records;
    double record_bytes;
    double limit_bytes;
    bool cluster;
    std::uint64_t primaries_for_memory;
    std::uint64_t primaries_for_cpu;
    std::uint64_t primaries;
    double redis_calls_per_s;
    double gateway_cores;
    std::uint64_t replicas;
    std::optional<std::string> note; // a substring of one of the notes; none: no notes
};

void PrintTo(row const& r, std::ostream* os) {
    *os << r.name;
}

plan_input input(std::uint64_t rate, std::uint64_t body, std::chrono::milliseconds ttl,
                 store_kind store = store_kind::redis, bool encryption = false) {
    plan_input in;
    in.new_keys_per_s = rate;
    in.body_bytes = body;
    in.ttl = ttl;
    in.store = store;
    in.encryption = encryption;
    return in;
}

plan_input with_traffic(plan_input in, std::uint64_t replays, std::uint64_t passthrough,
                        unsigned cores) {
    in.replays_per_s = replays;
    in.passthrough_per_s = passthrough;
    in.replica_cores = cores;
    return in;
}

class compute_table : public testing::TestWithParam<row> {};

TEST_P(compute_table, gives_the_expected_plan) {
    auto const& r = GetParam();
    auto const p = compute(r.in, inputs);
    EXPECT_DOUBLE_EQ(p.records, r.records);
    EXPECT_DOUBLE_EQ(p.record_bytes, r.record_bytes);
    EXPECT_DOUBLE_EQ(p.data_bytes, r.records * r.record_bytes);
    EXPECT_NEAR(p.limit_bytes, r.limit_bytes, r.limit_bytes * 1e-12);
    EXPECT_EQ(p.cluster, r.cluster);
    EXPECT_EQ(p.primaries_for_memory, r.primaries_for_memory);
    EXPECT_EQ(p.primaries_for_cpu, r.primaries_for_cpu);
    EXPECT_EQ(p.primaries, r.primaries);
    EXPECT_DOUBLE_EQ(p.redis_calls_per_s, r.redis_calls_per_s);
    EXPECT_NEAR(p.gateway_cores, r.gateway_cores, 1e-12);
    EXPECT_NEAR(p.gateway_cores_planned, r.gateway_cores / gateway_core_target, 1e-12);
    EXPECT_EQ(p.replicas, r.replicas);
    if (r.note) {
        EXPECT_TRUE(
            std::any_of(p.notes.begin(), p.notes.end(),
                        [&](std::string const& n) { return n.find(*r.note) != std::string::npos; }))
            << "no note with \"" << *r.note << "\"";
    } else {
        EXPECT_TRUE(p.notes.empty()) << p.notes.front();
    }
}

INSTANTIATE_TEST_SUITE_P(
    rows, compute_table,
    testing::Values(
        // 36 000 records of 1000 + 200 body + 200 set = 1400 B: one primary keeps the set.
        row{"small_rate_fits_one_primary_with_the_credential_set", input(10, 200, 1h), 36'000, 1400,
            36'000 * 1400 * 1.3, false, 1, 1, 1, 20, 10 * 50 / 1e6, 2, std::nullopt},
        // 86.4 M records × 2000 B × 1.3 = 224.6 GB over 25 GiB primaries: 8.37 -> 9, and a
        // cluster keeps no credential set (2000 B, not 2200).
        row{"a_day_at_1000_per_second_needs_a_cluster", input(1000, 1000, 24h), 86'400'000, 2000,
            86'400'000.0 * 2000 * 1.3, true, 9, 1, 9, 2000, 0.05, 2, std::nullopt},
        // Fits one primary by memory, but 20 000 × 40 µs = 0.8 Redis cores: 2 primaries at
        // 50 %, so a cluster, and then at least 3.
        row{"redis_cpu_forces_a_cluster_of_at_least_three", input(20'000, 0, 1s), 20'000, 1000,
            20'000 * 1000 * 1.3, true, 1, 2, 3, 40'000, 1.0, 2, std::nullopt},
        // Sealed: 1056 fixed; the gateway pays 10 µs more per new key.
        row{"encryption_adds_the_sealed_bytes_and_cpu", input(10, 0, 1h, store_kind::redis, true),
            36'000, 1256, 36'000 * 1256 * 1.3, false, 1, 1, 1, 20, 10 * 60 / 1e6, 2, std::nullopt},
        // 1000 × 50 + 10 000 × 25 + 5000 × 20 µs = 0.4 cores; calls 2 × 1000 + 10 000.
        row{"replays_and_passthrough_add_cpu_and_calls",
            with_traffic(input(1000, 0, 1s), 10'000, 5000, 1), 1000, 1200, 1000 * 1200 * 1.3, false,
            1, 1, 1, 12'000, 0.4, 2, std::nullopt},
        // 5 cores busy, 7.14 planned at 70 %: 4 replicas of 2 cores; Redis 4 cores -> 8.
        row{"many_replicas_and_cpu_bound_primaries", input(100'000, 0, 1s), 100'000, 1000,
            100'000 * 1000 * 1.3, true, 1, 8, 8, 200'000, 5.0, 4, std::nullopt},
        // The memory store: 800 + 1000 B, one process, no Redis.
        row{"memory_store_is_one_process", input(100, 1000, 1h, store_kind::memory), 360'000, 1800,
            360'000 * 1800 * 1.3, false, 0, 0, 0, 0, 100 * 50 / 1e6, 1, std::nullopt},
        row{"memory_store_ignores_encryption", input(100, 0, 1h, store_kind::memory, true), 360'000,
            800, 360'000 * 800 * 1.3, false, 0, 0, 0, 0, 100 * 50 / 1e6, 1, "does not seal"},
        // 86.4 G records: far past store.memory.max_bytes, and 50 cores on one process.
        row{"memory_store_past_its_bounds", input(1'000'000, 1 << 20, 24h, store_kind::memory),
            86'400'000'000, 800 + 1048576.0, 86'400'000'000 * (800 + 1048576.0) * 1.3, false, 0, 0,
            0, 0, 50.0, 1, "cannot exceed 1TiB"},
        // 10 M/s × 30 d × 512 MiB: more primaries than a cluster may have.
        row{"past_redis_clusters_node_bound", input(10'000'000, 512 << 20, 720h),
            25'920'000'000'000, 1000 + 536870912.0, 25'920'000'000'000 * (1000 + 536870912.0) * 1.3,
            true,
            static_cast<std::uint64_t>(std::ceil(25'920'000'000'000 * (1000 + 536870912.0) * 1.3 /
                                                 (25.0 * gib))),
            800,
            static_cast<std::uint64_t>(std::ceil(25'920'000'000'000 * (1000 + 536870912.0) * 1.3 /
                                                 (25.0 * gib))),
            20'000'000, 500.0, 358, "1000-node"}),
    [](auto const& row_info) { return row_info.param.name; });

TEST(compute, the_primary_memory_decides_the_primaries) {
    auto in = input(1000, 1000, 24h);
    in.primary_memory = 100 * gib; // 224.6 GB / 107.4 GB = 2.09 -> 3, the cluster minimum
    auto p = compute(in, inputs);
    EXPECT_EQ(p.primaries_for_memory, 3U);
    in.primary_memory = 50 * gib; // 4.18 -> 5
    p = compute(in, inputs);
    EXPECT_EQ(p.primaries_for_memory, 5U);
    EXPECT_EQ(p.primaries, 5U);
}

TEST(compute, one_core_carries_the_target_share_of_a_second) {
    auto const p = compute(input(1, 0, 1s), inputs);
    EXPECT_DOUBLE_EQ(p.new_keys_per_core, 0.7e6 / 50);
    EXPECT_DOUBLE_EQ(p.replays_per_core, 0.7e6 / 25);
    auto const sealed = compute(input(1, 0, 1s, store_kind::redis, true), inputs);
    EXPECT_DOUBLE_EQ(sealed.new_keys_per_core, 0.7e6 / 60);
    EXPECT_DOUBLE_EQ(sealed.replays_per_core, 0.7e6 / 30);
}

TEST(compute, the_measured_inputs_are_filled_in) {
    auto const& m = measured();
    EXPECT_GT(m.redis_plain.fixed, 0);
    EXPECT_GE(m.redis_plain.per_body_byte, 1.0); // a body is stored whole
    EXPECT_GE(m.redis_sealed.fixed, m.redis_plain.fixed * 0.9);
    EXPECT_GE(m.redis_sealed.per_body_byte, 1.0);
    EXPECT_GT(m.redis_credential_set, 0);
    EXPECT_GT(m.memory_store.fixed, 0);
    EXPECT_GT(m.memory_store.per_body_byte, 0.99); // a fitted slope: 1, give or take
    EXPECT_GT(m.gateway_us.new_key, m.gateway_us.replay);
    EXPECT_GT(m.redis_new_key_us, m.redis_replay_us);
    EXPECT_EQ(m.bytes_measured_on.size(), 10U);
    EXPECT_EQ(m.cpu_measured_on.size(), 10U);
    EXPECT_FALSE(m.bytes_commit.empty());
    EXPECT_FALSE(m.cpu_commit.empty());
}

TEST(format, names_every_figure_and_the_inputs_provenance) {
    auto const in = input(1000, 2048, 24h);
    auto const text = format(in, compute(in, inputs), inputs);
    for (char const* s : {"records held", "86,400,000", "Redis maxmemory", "primaries",
                          "Redis Cluster", "noeviction", "Redis calls", "2,000/s",
                          "gateway replicas", "2000-01-01 (test)", "docs/capacity.md"}) {
        EXPECT_NE(text.find(s), std::string::npos) << s << " not in:\n" << text;
    }
}

TEST(format, a_memory_store_plan_gives_its_limits) {
    auto const in = input(10, 200, 1h, store_kind::memory);
    auto const text = format(in, compute(in, inputs), inputs);
    EXPECT_NE(text.find("store.memory.max_bytes"), std::string::npos) << text;
    EXPECT_NE(text.find("store.memory.max_records"), std::string::npos) << text;
    EXPECT_NE(text.find("46,800"), std::string::npos) << text; // 36 000 × 1.3
    EXPECT_EQ(text.find("primaries"), std::string::npos) << text;
}

} // namespace
} // namespace idemgate::capacity
