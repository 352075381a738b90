#pragma once
// A fixed-bucket histogram whose observe() is a few relaxed atomic adds: no lock on the
// request path (prometheus-cpp's Histogram takes a mutex per observation).
#include <prometheus/client_metric.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace idemgate::metrics {

/// Thread-safe. `bounds` are the upper bounds of the buckets, increasing; +Inf is implied.
class histogram {
public:
    explicit histogram(std::vector<double> bounds);

    void observe(double value) noexcept;

    /// A consistent-enough snapshot for exposition (counts read with relaxed loads).
    prometheus::ClientMetric collect(std::vector<prometheus::ClientMetric::Label> labels) const;

private:
    std::vector<double> bounds_;
    std::unique_ptr<std::atomic<std::uint64_t>[]> counts_; // bounds_.size() + 1 (the +Inf)
    std::atomic<double> sum_{0.0};
};

/// Request-scale latencies in seconds: 100 µs .. 30 s.
std::vector<double> latency_buckets();
/// Body sizes in bytes: 256 B .. 64 MiB.
std::vector<double> size_buckets();

} // namespace idemgate::metrics
