#include "idemgate/metrics/metrics.hpp"

#include <prometheus/text_serializer.h>

namespace idemgate::metrics {

metrics::metrics() : registry_(std::make_shared<prometheus::Registry>()) {
    auto& requests = prometheus::BuildCounter()
                         .Name("idemgate_requests_total")
                         .Help("Requests by the decision idemgate took (contract section 6).")
                         .Register(*registry_);
    for (std::size_t i = 0; i < engine::outcome_count; ++i)
        requests_[i] = &requests.Add({{"outcome", std::string(engine::outcome_names[i])}});
    store_write_failures_ =
        &prometheus::BuildCounter()
             .Name("idemgate_store_write_failures_total")
             .Help("Upstream ran but its response could not be stored (page on it).")
             .Register(*registry_)
             .Add({});
    fail_open_ = &prometheus::BuildCounter()
                      .Name("idemgate_fail_open_requests_total")
                      .Help("Protected requests forwarded unprotected: store down, fail_open.")
                      .Register(*registry_)
                      .Add({});
    accepted_ = &prometheus::BuildCounter()
                     .Name("idemgate_connections_accepted_total")
                     .Help("Client connections accepted.")
                     .Register(*registry_)
                     .Add({});
    rejected_ = &prometheus::BuildCounter()
                     .Name("idemgate_connections_rejected_total")
                     .Help("Client connections closed at once: limits.max_connections reached.")
                     .Register(*registry_)
                     .Add({{"reason", "max_connections"}});
    active_ = &prometheus::BuildGauge()
                   .Name("idemgate_connections_active")
                   .Help("Open client connections.")
                   .Register(*registry_)
                   .Add({});
    store_up_ = &prometheus::BuildGauge()
                     .Name("idemgate_store_up")
                     .Help("1 when the idempotency store is usable.")
                     .Register(*registry_)
                     .Add({});
    prometheus::BuildGauge()
        .Name("idemgate_build_info")
        .Help("Build information; always 1.")
        .Register(*registry_)
        .Add({{"version", IDEMGATE_VERSION}, {"revision", IDEMGATE_REVISION}})
        .Set(1);
}

std::string metrics::serialize() const {
    return prometheus::TextSerializer().Serialize(registry_->Collect());
}

} // namespace idemgate::metrics
