#include "idemgate/metrics/process.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>

namespace idemgate::metrics {

namespace {

void add(std::vector<prometheus::MetricFamily>& out, std::string name, std::string help,
         prometheus::MetricType type, double value) {
    prometheus::ClientMetric m;
    if (type == prometheus::MetricType::Counter)
        m.counter.value = value;
    else
        m.gauge.value = value;
    out.push_back({std::move(name), std::move(help), type, {m}});
}

double boot_time_seconds() {
    std::ifstream in("/proc/stat");
    std::string key;
    double value = 0;
    while (in >> key) {
        if (key == "btime" && in >> value) return value;
        in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    }
    return 0;
}

} // namespace

void append_process_metrics(std::vector<prometheus::MetricFamily>& out) {
    std::ifstream stat("/proc/self/stat");
    std::string line;
    if (!std::getline(stat, line)) return;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(fields), {}};
    if (f.size() < 22) return;
    double const tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    double const page = static_cast<double>(::sysconf(_SC_PAGESIZE));
    // proc(5): utime=14, stime=15, starttime=22, vsize=23, rss=24 (1-based, so index-3 here).
    add(out, "process_cpu_seconds_total", "User and system CPU time spent in seconds.",
        prometheus::MetricType::Counter, (std::stod(f[11]) + std::stod(f[12])) / tick);
    add(out, "process_start_time_seconds", "Start time of the process since the Unix epoch.",
        prometheus::MetricType::Gauge, boot_time_seconds() + std::stod(f[19]) / tick);
    add(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
        prometheus::MetricType::Gauge, std::stod(f[20]));
    add(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
        prometheus::MetricType::Gauge, std::stod(f[21]) * page);
    std::error_code ec;
    double fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++fds;
    add(out, "process_open_fds", "Number of open file descriptors.", prometheus::MetricType::Gauge,
        fds);
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0)
        add(out, "process_max_fds", "Maximum number of open file descriptors.",
            prometheus::MetricType::Gauge, static_cast<double>(lim.rlim_cur));
}

} // namespace idemgate::metrics
