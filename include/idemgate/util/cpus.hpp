#pragma once
// How many CPUs the gateway may use, for `threads: 0`: the scheduler affinity mask, capped by
// a cgroup CPU quota. In a container limited to 500m on a 64-core node, one thread per
// host core would mean 64 threads sharing half a CPU.

#include <cstdint>
#include <optional>
#include <string_view>

namespace idemgate::util {

/// A cgroup v2 `cpu.max` file ("max 100000" or "150000 100000"): the quota in CPUs, or
/// nullopt when unlimited or unreadable.
std::optional<double> parse_cpu_max(std::string_view content) noexcept;

/// cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1: unlimited).
std::optional<double> cfs_quota(std::int64_t quota_us, std::int64_t period_us) noexcept;

/// The cgroup v2 path of this process from /proc/self/cgroup content ("0::/kubepods/…").
std::optional<std::string_view> cgroup_v2_path(std::string_view proc_self_cgroup) noexcept;

/// `affinity` CPUs, capped by `quota` rounded up; at least 1.
unsigned cpus_from(unsigned affinity, std::optional<double> quota) noexcept;

/// This process's usable CPUs, read from sched_getaffinity and /sys/fs/cgroup (v2, else v1).
unsigned usable_cpus();

} // namespace idemgate::util
