#pragma once
// Every metric idemgate exports, in one place. The counters are prometheus-cpp's, whose
// Increment is a lock-free atomic; the registry is built once at startup.
#include "idemgate/engine/outcome.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>
#include <string>

namespace idemgate::metrics {

/// Thread-safe: every method may be called from any thread.
class metrics {
public:
    metrics();
    metrics(metrics const&) = delete;
    metrics& operator=(metrics const&) = delete;

    void request(engine::outcome o) noexcept {
        requests_[static_cast<std::size_t>(o)]->Increment();
    }
    void store_write_failure() noexcept { store_write_failures_->Increment(); }
    void fail_open() noexcept { fail_open_->Increment(); }
    void connection_opened() noexcept {
        accepted_->Increment();
        active_->Increment();
    }
    void connection_closed() noexcept { active_->Decrement(); }
    void connection_rejected() noexcept { rejected_->Increment(); }
    void set_store_up(bool up) noexcept { store_up_->Set(up ? 1.0 : 0.0); }

    /// Prometheus text exposition format 0.0.4.
    std::string serialize() const;

private:
    std::shared_ptr<prometheus::Registry> registry_;
    std::array<prometheus::Counter*, engine::outcome_count> requests_{};
    prometheus::Counter* store_write_failures_ = nullptr;
    prometheus::Counter* fail_open_ = nullptr;
    prometheus::Counter* accepted_ = nullptr;
    prometheus::Counter* rejected_ = nullptr;
    prometheus::Gauge* active_ = nullptr;
    prometheus::Gauge* store_up_ = nullptr;
};

} // namespace idemgate::metrics
