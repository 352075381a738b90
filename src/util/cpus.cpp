#include "idemgate/util/cpus.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace idemgate::util {

namespace {

std::optional<std::int64_t> to_int(std::string_view s) noexcept {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
    std::int64_t v = 0;
    auto const [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::optional<std::string> read_file(std::string const& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

unsigned affinity_cpus() noexcept {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        auto const n = CPU_COUNT(&set);
        if (n > 0) return static_cast<unsigned>(n);
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

std::optional<double> cgroup_quota() {
    if (auto self = read_file("/proc/self/cgroup")) {
        if (auto path = cgroup_v2_path(*self)) {
            // Inside a container the cgroup namespace usually makes our own cgroup the root.
            for (auto const& dir :
                 {"/sys/fs/cgroup" + std::string(*path), std::string("/sys/fs/cgroup")}) {
                if (auto max = read_file(dir + "/cpu.max")) return parse_cpu_max(*max);
            }
        }
    }
    for (std::string dir : {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"}) {
        auto q = read_file(dir + "/cpu.cfs_quota_us");
        auto p = read_file(dir + "/cpu.cfs_period_us");
        if (!q || !p) continue;
        auto qi = to_int(*q);
        auto pi = to_int(*p);
        if (qi && pi) return cfs_quota(*qi, *pi);
    }
    return std::nullopt;
}

} // namespace

std::optional<double> parse_cpu_max(std::string_view content) noexcept {
    auto const sp = content.find(' ');
    if (sp == std::string_view::npos) return std::nullopt;
    auto const quota = content.substr(0, sp);
    if (quota == "max") return std::nullopt;
    auto const q = to_int(quota);
    auto const p = to_int(content.substr(sp + 1));
    if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;
    return static_cast<double>(*q) / static_cast<double>(*p);
}

std::optional<double> cfs_quota(std::int64_t quota_us, std::int64_t period_us) noexcept {
    if (quota_us <= 0 || period_us <= 0) return std::nullopt;
    return static_cast<double>(quota_us) / static_cast<double>(period_us);
}

std::optional<std::string_view> cgroup_v2_path(std::string_view proc_self_cgroup) noexcept {
    while (!proc_self_cgroup.empty()) {
        auto const nl = proc_self_cgroup.find('\n');
        auto line = proc_self_cgroup.substr(0, nl);
        if (line.starts_with("0::")) return line.substr(3);
        if (nl == std::string_view::npos) break;
        proc_self_cgroup.remove_prefix(nl + 1);
    }
    return std::nullopt;
}

unsigned cpus_from(unsigned affinity, std::optional<double> quota) noexcept {
    auto n = std::max(1u, affinity);
    if (quota && *quota > 0) n = std::min(n, static_cast<unsigned>(std::ceil(*quota)));
    return std::max(1u, n);
}

unsigned usable_cpus() {
    return cpus_from(affinity_cpus(), cgroup_quota());
}

} // namespace idemgate::util
