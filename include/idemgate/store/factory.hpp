#pragma once
// Builds one store per io_context; memory stores made by one factory share one map.
#include "idemgate/config/config.hpp"
#include "idemgate/metrics/metrics.hpp"
#include "idemgate/store/store.hpp"
#include "idemgate/util/clock.hpp"

#include <cstdint>
#include <memory>
#include <optional>

namespace idemgate::store {

/// What a store holds, for the idemgate_store_records / idemgate_store_bytes gauges.
struct usage {
    std::uint64_t records = 0; // live and expired-not-yet-swept records
    std::uint64_t bytes = 0;   // the estimate store.memory.max_bytes bounds
};

class factory {
public:
    virtual ~factory() = default;
    /// A store for use on `ex`'s io_context. Thread-safe.
    virtual std::unique_ptr<store> make(net::any_io_executor ex) = 0;
    /// Background work on startup (e.g. redis config warnings); optional.
    virtual void start() {}
    /// What the stores hold, when the backend knows it cheaply (memory); thread-safe.
    virtual std::optional<usage> held() const { return std::nullopt; }
    /// The Redis routers' running totals (redis backend); thread-safe.
    virtual std::optional<metrics::store_topology> topology() const { return std::nullopt; }
};

/// `clk` must outlive the factory and its stores. `record_ttl` (idempotency.ttl) is how long a
/// record may count against its credential (store.max_records_per_credential).
std::unique_ptr<factory>
make_factory(config::store_config const& cfg, util::clock const& clk,
             std::chrono::milliseconds record_ttl = std::chrono::hours(24));

} // namespace idemgate::store
