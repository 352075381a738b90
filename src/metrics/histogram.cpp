#include "idemgate/metrics/histogram.hpp"

#include <algorithm>
#include <limits>

namespace idemgate::metrics {

histogram::histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void histogram::observe(double value) noexcept {
    auto const i = static_cast<std::size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

prometheus::ClientMetric
histogram::collect(std::vector<prometheus::ClientMetric::Label> labels) const {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        cumulative += counts_[i].load(std::memory_order_relaxed);
        prometheus::ClientMetric::Bucket b;
        b.cumulative_count = cumulative;
        b.upper_bound = i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity();
        m.histogram.bucket.push_back(b);
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = sum_.load(std::memory_order_relaxed);
    return m;
}

std::vector<double> latency_buckets() {
    return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
            0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30};
}

std::vector<double> size_buckets() {
    std::vector<double> b;
    for (double v = 256; v <= 64.0 * 1024 * 1024; v *= 4) b.push_back(v);
    return b;
}

} // namespace idemgate::metrics
