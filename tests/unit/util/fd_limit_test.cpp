#include "idemgate/util/fd_limit.hpp"

#include <gtest/gtest.h>

namespace idemgate::util {
namespace {

TEST(fd_limit, reserves_each_threads_pools_and_a_fixed_share) {
    config::config cfg;
    cfg.upstream.pool_size = 10;
    cfg.store.redis.pool_size = 2;
    EXPECT_EQ(reserved_fds(cfg, 2), 64u + 2 * (3 + 10));
    cfg.store.backend = config::store_backend::redis;
    EXPECT_EQ(reserved_fds(cfg, 2), 64u + 2 * (3 + 10 + 2));
}

TEST(fd_limit, a_connection_counts_twice_for_its_upstream_connection) {
    config::config cfg; // upstream.pool_size 64, memory store
    // 256 descriptors, 2 threads: 64 + 2 * 67 = 198 reserved, (256 - 198) / 2 = 29.
    EXPECT_EQ(connections_for_fds(256, cfg, 2), 29u);
}

TEST(fd_limit, never_raises_max_connections_and_never_goes_below_one) {
    config::config cfg;
    cfg.limits.max_connections = 100;
    EXPECT_EQ(connections_for_fds(1'000'000, cfg, 4), 100u);
    EXPECT_EQ(connections_for_fds(10, cfg, 4), 1u);
    EXPECT_EQ(connections_for_fds(UINT64_MAX, cfg, 1024), 100u); // RLIM_INFINITY
}

TEST(fd_limit, raising_to_the_hard_limit_gives_a_usable_soft_limit) {
    EXPECT_GT(raise_fd_limit(), 0u);
}

} // namespace
} // namespace idemgate::util
