// topology_stats: a failover counted once per process, however many threads' routers see it.
#include "idemgate/redis/router.hpp"

#include <gtest/gtest.h>

namespace idemgate::redis {
namespace {

TEST(topology_stats, a_failover_seen_by_every_thread_counts_once_and_a_fail_back_again) {
    topology_stats s;
    node_address const a{"127.0.0.1", 7000};
    node_address const b{"127.0.0.1", 7001};
    node_address const c{"127.0.0.1", 7002};
    EXPECT_EQ(s.saw_primaries({a, b}), 0U); // the first view: nothing changed yet
    EXPECT_EQ(s.saw_primaries({a, b}), 0U); // a second thread, same map
    EXPECT_EQ(s.saw_primaries({a, c}), 1U); // b failed over to c
    EXPECT_EQ(s.saw_primaries({a, c}), 0U); // the other threads follow
    EXPECT_EQ(s.saw_primaries({a, b}), 1U); // and back
    EXPECT_EQ(s.master_changes.load(), 2U);
}

} // namespace
} // namespace idemgate::redis
