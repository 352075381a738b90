// threads: 0 follows the CPUs the process may use: affinity, capped by a cgroup quota.
#include "idemgate/util/cpus.hpp"

#include <gtest/gtest.h>

#include <sched.h>

namespace idemgate::util {
namespace {

TEST(cpus, cgroup_v2_cpu_max_gives_the_quota_in_cpus) {
    EXPECT_EQ(parse_cpu_max("max 100000\n"), std::nullopt);
    EXPECT_DOUBLE_EQ(*parse_cpu_max("150000 100000\n"), 1.5);
    EXPECT_DOUBLE_EQ(*parse_cpu_max("50000 100000"), 0.5);
    EXPECT_EQ(parse_cpu_max(""), std::nullopt);
    EXPECT_EQ(parse_cpu_max("garbage"), std::nullopt);
    EXPECT_EQ(parse_cpu_max("0 100000"), std::nullopt);
    EXPECT_EQ(parse_cpu_max("100000 x"), std::nullopt);
}

TEST(cpus, cgroup_v1_quota_minus_one_is_unlimited) {
    EXPECT_EQ(cfs_quota(-1, 100000), std::nullopt);
    EXPECT_DOUBLE_EQ(*cfs_quota(200000, 100000), 2.0);
    EXPECT_EQ(cfs_quota(100000, 0), std::nullopt);
}

TEST(cpus, the_v2_path_is_the_line_of_hierarchy_0) {
    EXPECT_EQ(cgroup_v2_path("0::/\n"), "/");
    EXPECT_EQ(cgroup_v2_path("12:cpu,cpuacct:/docker/abc\n0::/kubepods/pod1/c1\n"),
              "/kubepods/pod1/c1");
    EXPECT_EQ(cgroup_v2_path("4:cpu,cpuacct:/docker/abc\n"), std::nullopt);
}

TEST(cpus, the_quota_caps_the_affinity_rounded_up_and_never_below_one) {
    EXPECT_EQ(cpus_from(64, 0.5), 1u);
    EXPECT_EQ(cpus_from(64, 1.5), 2u);
    EXPECT_EQ(cpus_from(2, 4.0), 2u);
    EXPECT_EQ(cpus_from(8, std::nullopt), 8u);
    EXPECT_EQ(cpus_from(0, std::nullopt), 1u);
}

TEST(cpus, this_process_can_use_at_least_one_cpu_and_no_more_than_it_is_allowed) {
    auto const n = usable_cpus();
    EXPECT_GE(n, 1u);
    cpu_set_t set;
    CPU_ZERO(&set);
    ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
    EXPECT_LE(n, static_cast<unsigned>(CPU_COUNT(&set)));
}

} // namespace
} // namespace idemgate::util
