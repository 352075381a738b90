#include "idemgate/metrics/metrics.hpp"

#include "idemgate/metrics/process.hpp"
#include "idemgate/revision.hpp" // generated at build time

#include <prometheus/text_serializer.h>

namespace idemgate::metrics {

namespace {

using labels = std::map<std::string, std::string>;

prometheus::Family<prometheus::Counter>& counter(prometheus::Registry& r, std::string const& name,
                                                 std::string const& help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

prometheus::Gauge& gauge(prometheus::Registry& r, std::string const& name, std::string const& help,
                         labels const& l = {}) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add(l);
}

/// One family of our own histograms, for the serializer.
struct histogram_family {
    std::string name;
    std::string help;
    std::string label; // "" when unlabelled
};

constexpr std::array<std::string_view, 6> code_classes{"1xx", "2xx", "3xx", "4xx", "5xx", "error"};

// The label values of the error counters, and which errc each counts (docs/operations.md).
constexpr std::array<std::string_view, 3> upstream_error_names{"connect", "timeout", "broken"};
constexpr std::array<std::string_view, 4> store_error_names{"unavailable", "full", "not_owner",
                                                            "unreadable"};
constexpr std::array<std::string_view, 6> http_error_names{
    "header_too_large", "body_too_large", "bad_request", "smuggling", "timeout", "overloaded"};

std::size_t upstream_error_index(errc failure) noexcept {
    if (failure == errc::upstream_unavailable) return 0; // nothing was sent
    if (failure == errc::upstream_timeout) return 1;
    return 2; // sent, connection broken or a malformed answer
}

std::size_t store_error_index(error_code e) noexcept {
    if (e == errc::store_full) return 1;
    if (e == errc::not_owner) return 2;
    if (e == errc::record_unreadable) return 3; // store.encryption: does not open
    return 0;
}

std::size_t http_error_index(errc e) noexcept {
    switch (e) {
    case errc::header_too_large:
        return 0;
    case errc::request_too_large:
        return 1;
    case errc::bad_framing:
    case errc::coding_unsupported:
        return 3;
    case errc::request_timeout:
        return 4;
    case errc::overloaded: // limits.max_inflight or limits.max_buffered_bytes reached
        return 5;
    default:
        return 2;
    }
}

} // namespace

metrics::metrics(std::vector<std::string> const& routes)
    : registry_(std::make_shared<prometheus::Registry>()) {
    auto& r = *registry_;
    auto& req = counter(r, "idemgate_requests_total",
                        "Requests by the decision idemgate took (contract section 6) and the "
                        "route (routes[].match, or default) whose policy applied.");
    routes_.resize(routes.empty() ? 1 : routes.size());
    for (std::size_t n = 0; n < routes_.size(); ++n) {
        auto& route = routes_[n];
        route.label = routes.empty() ? "default" : routes[n];
        for (std::size_t i = 0; i < outcome_count; ++i) {
            route.requests[i] =
                &req.Add({{"outcome", std::string(outcome_names[i])}, {"route", route.label}});
            route.seconds[i] = std::make_unique<histogram>(latency_buckets());
        }
    }
    auto& up = counter(r, "idemgate_upstream_requests_total",
                       "Requests sent to the upstream, by response status class.");
    for (std::size_t i = 0; i < code_classes.size(); ++i)
        upstream_requests_[i] = &up.Add({{"code_class", std::string(code_classes[i])}});
    auto& upe = counter(r, "idemgate_upstream_errors_total",
                        "Upstream exchanges without a response: connect (nothing sent), "
                        "timeout or broken (sent, outcome unknown).");
    for (std::size_t i = 0; i < upstream_error_names.size(); ++i)
        upstream_errors_[i] = &upe.Add({{"kind", std::string(upstream_error_names[i])}});
    upstream_seconds_ = std::make_unique<histogram>(latency_buckets());
    auto& ops = counter(r, "idemgate_store_operations_total", "Store calls by operation.");
    for (std::size_t i = 0; i < store_op_names.size(); ++i) {
        for (std::size_t ok = 0; ok < 2; ++ok)
            store_ops_[i][ok] = &ops.Add(
                {{"op", std::string(store_op_names[i])}, {"result", ok == 0 ? "ok" : "error"}});
        store_seconds_[i] = std::make_unique<histogram>(latency_buckets());
    }
    auto& se = counter(r, "idemgate_store_errors_total", "Store call failures by kind.");
    for (std::size_t i = 0; i < store_error_names.size(); ++i)
        store_errors_[i] = &se.Add({{"kind", std::string(store_error_names[i])}});
    auto& he = counter(r, "idemgate_http_errors_total",
                       "Client requests refused before the engine: limits and framing.");
    for (std::size_t i = 0; i < http_error_names.size(); ++i)
        http_errors_[i] = &he.Add({{"reason", std::string(http_error_names[i])}});
    stored_bytes_ = std::make_unique<histogram>(size_buckets());
    replayed_bytes_ = &counter(r, "idemgate_replayed_body_bytes_total",
                               "Body bytes of stored responses sent as replays.")
                           .Add({});
    store_write_failures_ =
        &counter(r, "idemgate_store_write_failures_total",
                 "Upstream ran but its response could not be stored (page on it).")
             .Add({});
    auto& bo = counter(r, "idemgate_store_body_omitted_total",
                       "Completed records stored without their body: too_large "
                       "(idempotency.max_stored_body) or store_full (the store refused the "
                       "full record; stored again without the body so it never runs twice).");
    for (std::size_t i = 0; i < body_omitted_names.size(); ++i)
        body_omitted_[i] = &bo.Add({{"reason", std::string(body_omitted_names[i])}});
    auto& wr = counter(r, "idemgate_webhook_rejections_total",
                       "Webhook deliveries refused (401) by a route's verify, before the store "
                       "and the upstream: signature or timestamp.");
    webhook_rejections_[0] = &wr.Add({{"reason", "signature"}});
    webhook_rejections_[1] = &wr.Add({{"reason", "timestamp"}});
    fail_open_ = &counter(r, "idemgate_fail_open_requests_total",
                          "Protected requests forwarded unprotected: store down, fail_open.")
                      .Add({});
    auto& admin = counter(r, "idemgate_admin_requests_total",
                          "Calls of the admin records API (POST /admin/v1/records/lookup and "
                          "/evict), by endpoint and result.");
    for (std::size_t e = 0; e < admin_endpoint_names.size(); ++e) {
        for (std::size_t res = 0; res < admin_result_names.size(); ++res) {
            admin_requests_[e][res] =
                &admin.Add({{"endpoint", std::string(admin_endpoint_names[e])},
                            {"result", std::string(admin_result_names[res])}});
        }
    }
    accepted_ =
        &counter(r, "idemgate_connections_accepted_total", "Client connections accepted.").Add({});
    rejected_ = &counter(r, "idemgate_connections_rejected_total",
                         "Client connections closed at once: limits.max_connections reached.")
                     .Add({{"reason", "max_connections"}});
    active_ = &gauge(r, "idemgate_connections_active", "Open client connections.");
    inflight_ = &gauge(r, "idemgate_inflight_requests",
                       "Protected requests being handled (claimed, waiting or forwarded).");
    store_up_ = &gauge(r, "idemgate_store_up", "1 when the idempotency store is usable.");
    gauge(r, "idemgate_build_info", "Build information; always 1.",
          {{"version", IDEMGATE_VERSION}, {"revision", IDEMGATE_REVISION}})
        .Set(1);
}

void metrics::track_store_usage(std::uint64_t max_records, std::uint64_t max_bytes) {
    store_records_ = &gauge(*registry_, "idemgate_store_records",
                            "Records the store holds (in progress and completed).");
    store_bytes_ = &gauge(*registry_, "idemgate_store_bytes",
                          "Estimated memory of the store's records, as store.memory.max_bytes "
                          "counts it.");
    gauge(*registry_, "idemgate_store_max_records",
          "The store's record limit (store.memory.max_records).")
        .Set(static_cast<double>(max_records));
    gauge(*registry_, "idemgate_store_max_bytes",
          "The store's memory limit (store.memory.max_bytes).")
        .Set(static_cast<double>(max_bytes));
}

void metrics::track_store_topology() {
    auto& r = *registry_;
    auto& redirects = counter(r, "idemgate_store_redirects_total",
                              "Redis Cluster redirections followed, by kind (moved, ask).");
    redirects_ = {&redirects.Add({{"kind", "moved"}}), &redirects.Add({{"kind", "ask"}})};
    topology_refreshes_ =
        &counter(r, "idemgate_store_topology_refreshes_total",
                 "Redis topology lookups that succeeded (cluster slot maps, sentinel answers).")
             .Add({});
    master_changes_ = &counter(r, "idemgate_store_master_changes_total",
                               "Redis primaries replaced by another (failovers seen).")
                           .Add({});
    auto& shortfalls =
        counter(r, "idemgate_store_replication_shortfalls_total",
                "Writes fewer replicas acknowledged than store.redis.wait_replicas, by step.");
    shortfalls_ = {&shortfalls.Add({{"step", "claim"}}), &shortfalls.Add({{"step", "complete"}})};
    store_nodes_ = &gauge(r, "idemgate_store_nodes",
                          "Redis primaries the gateway knows (cluster) or masters (1).");
}

void metrics::track_tls() {
    auto& r = *registry_;
    auto& hf = counter(r, "idemgate_tls_handshake_failures_total",
                       "Client TLS handshakes that failed, by reason: error (version, client "
                       "certificate, not TLS) or timeout (timeouts.request_headers).");
    tls_handshake_failures_ = {&hf.Add({{"reason", "error"}}), &hf.Add({{"reason", "timeout"}})};
    auto& rl = counter(r, "idemgate_tls_reloads_total",
                       "Reloads of the listener certificate (SIGHUP or changed files), by "
                       "result: ok, or error (the certificate in use was kept).");
    tls_reloads_ = {&rl.Add({{"result", "ok"}}), &rl.Add({{"result", "error"}})};
    tls_expiry_ = &gauge(r, "idemgate_tls_cert_expiry_timestamp_seconds",
                         "Not-after time of the listener certificate in use (Unix seconds).");
}

namespace {

/// A counter that mirrors a running total kept elsewhere.
void catch_up(prometheus::Counter* c, std::uint64_t total) noexcept {
    if (c == nullptr) return;
    auto const now = static_cast<double>(total);
    if (now > c->Value()) c->Increment(now - c->Value());
}

} // namespace

void metrics::set_store_topology(store_topology const& t) noexcept {
    if (store_nodes_ == nullptr) return;
    catch_up(redirects_[0], t.moved);
    catch_up(redirects_[1], t.ask);
    catch_up(topology_refreshes_, t.refreshes);
    catch_up(master_changes_, t.master_changes);
    catch_up(shortfalls_[0], t.shortfall_claim);
    catch_up(shortfalls_[1], t.shortfall_complete);
    store_nodes_->Set(static_cast<double>(t.nodes));
}

void metrics::upstream(unsigned status, double seconds) noexcept {
    auto const cls = status >= 100 && status < 600 ? status / 100 - 1 : 5;
    upstream_requests_[cls]->Increment();
    upstream_seconds_->observe(seconds);
}

void metrics::upstream_failed(errc failure, double seconds) noexcept {
    upstream_requests_[5]->Increment();
    upstream_errors_[upstream_error_index(failure)]->Increment();
    upstream_seconds_->observe(seconds);
}

void metrics::store_failed(error_code e) noexcept {
    store_errors_[store_error_index(e)]->Increment();
}

void metrics::http_failure(errc e) noexcept {
    http_errors_[http_error_index(e)]->Increment();
}

void metrics::store(store_op op, double seconds, bool ok) noexcept {
    auto const i = static_cast<std::size_t>(op);
    store_ops_[i][ok ? 0 : 1]->Increment();
    store_seconds_[i]->observe(seconds);
}

std::string metrics::serialize() const {
    auto families = registry_->Collect();
    auto add = [&families](std::string name, std::string help) -> prometheus::MetricFamily& {
        families.push_back(
            {std::move(name), std::move(help), prometheus::MetricType::Histogram, {}});
        return families.back();
    };
    auto& rd = add("idemgate_request_duration_seconds",
                   "Time from a complete request head to the response, by outcome and route.");
    for (auto const& route : routes_) {
        for (std::size_t i = 0; i < outcome_count; ++i)
            rd.metric.push_back(route.seconds[i]->collect(
                {{"outcome", std::string(outcome_names[i])}, {"route", route.label}}));
    }
    add("idemgate_upstream_request_duration_seconds", "Upstream exchanges, connect included.")
        .metric.push_back(upstream_seconds_->collect({}));
    auto& sd = add("idemgate_store_operation_duration_seconds", "Store calls by operation.");
    for (std::size_t i = 0; i < store_op_names.size(); ++i)
        sd.metric.push_back(store_seconds_[i]->collect({{"op", std::string(store_op_names[i])}}));
    add("idemgate_stored_response_bytes", "Body sizes of responses stored for replay.")
        .metric.push_back(stored_bytes_->collect({}));
    append_process_metrics(families);
    return prometheus::TextSerializer().Serialize(families);
}

} // namespace idemgate::metrics
