// The Sentinel fixture itself (tests/support/redis_sentinel): agreement, and a real failover.
#include "support/redis_sentinel.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

namespace idemgate::test {
namespace {

using namespace std::chrono_literals;
using fixture_clock = std::chrono::steady_clock;

long long ms_since(fixture_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(fixture_clock::now() - t).count();
}

TEST(redis_sentinel, every_sentinel_names_the_primary_and_it_answers_role_master) {
    auto const started = fixture_clock::now();
    auto& set = shared_redis_sentinel();
    std::cout << "[ sentinel ] set ready after " << ms_since(started) << " ms\n";
    ASSERT_EQ(set.sentinel_count(), 3U);
    for (std::size_t i = 0; i < set.sentinel_count(); ++i) {
        EXPECT_EQ(set.master_seen_by(i), set.primary_address()) << "sentinel " << i;
    }
    EXPECT_EQ(set.primary().command({"ROLE"}).elements.at(0).str, "master");
    EXPECT_EQ(set.replica().command({"ROLE"}).elements.at(0).str, "slave");
}

TEST(redis_sentinel, a_killed_primary_is_replaced_by_its_replica_within_seconds) {
    auto& set = shared_redis_sentinel();
    set.restore_killed(); // a test that failed half-way may have left a node down
    auto const replica_port = set.replica().port();
    set.primary().command({"SET", "redis_sentinel_test:k", "v"});
    set.primary().command({"WAIT", "1", "2000"});

    auto const killed_at = fixture_clock::now();
    auto const old_port = set.kill_primary();
    auto const now_master = set.wait_for_switch(old_port, killed_at + 30s);
    ASSERT_TRUE(now_master.has_value()) << "no switch within 30 s";
    std::cout << "[ sentinel ] kill -> switch " << ms_since(killed_at) << " ms\n";
    EXPECT_EQ(now_master->port, replica_port);
    EXPECT_EQ(set.primary().port(), replica_port);
    EXPECT_EQ(set.primary().command({"ROLE"}).elements.at(0).str, "master");
    EXPECT_EQ(set.primary().command({"GET", "redis_sentinel_test:k"}).str, "v");

    auto const restoring = fixture_clock::now();
    set.restore_killed();
    std::cout << "[ sentinel ] restored in " << ms_since(restoring) << " ms\n";
    EXPECT_EQ(set.replica().port(), old_port);
    EXPECT_EQ(set.replica().command({"ROLE"}).elements.at(0).str, "slave");
    set.primary().command({"DEL", "redis_sentinel_test:k"});
}

} // namespace
} // namespace idemgate::test
