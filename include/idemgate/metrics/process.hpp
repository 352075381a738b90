#pragma once
// The standard process_* metrics, read from /proc at scrape time (Linux).
#include <prometheus/metric_family.h>

#include <vector>

namespace idemgate::metrics {

/// Appends process_cpu_seconds_total, process_resident_memory_bytes,
/// process_virtual_memory_bytes, process_open_fds, process_max_fds and
/// process_start_time_seconds; skips what /proc does not give.
void append_process_metrics(std::vector<prometheus::MetricFamily>& out);

} // namespace idemgate::metrics
