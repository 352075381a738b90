#pragma once
// Every metric idemgate exports, in one place (names and labels: docs/operations.md).
// Counters and gauges are prometheus-cpp's (lock-free atomic updates); histograms are our
// own lock-free ones (histogram.hpp). The registry is built once at startup; recording never
// allocates or locks.
#include "idemgate/error.hpp"
#include "idemgate/metrics/histogram.hpp"
#include "idemgate/outcome.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace idemgate::metrics {

enum class store_op : std::size_t { begin, complete, release, renew };
inline constexpr std::array<std::string_view, 4> store_op_names{"begin", "complete", "release",
                                                                "renew"};
/// Running totals of the Redis routers of a process (redis::topology_stats, read at scrape).
struct store_topology {
    std::uint64_t moved = 0;
    std::uint64_t ask = 0;
    std::uint64_t refreshes = 0;
    std::uint64_t master_changes = 0;
    std::uint64_t shortfall_claim = 0;
    std::uint64_t shortfall_complete = 0;
    std::int64_t nodes = 0;
};

/// Why a completed record was stored without its body (the client still got it in full).
enum class body_omitted : std::size_t { too_large, store_full };
inline constexpr std::array<std::string_view, 2> body_omitted_names{"too_large", "store_full"};

/// The records API's calls (issue 13), by endpoint and result.
enum class admin_endpoint : std::size_t { lookup, evict };
inline constexpr std::array<std::string_view, 2> admin_endpoint_names{"lookup", "evict"};
enum class admin_result : std::size_t { ok, not_found, unauthorized, error };
inline constexpr std::array<std::string_view, 4> admin_result_names{"ok", "not_found",
                                                                    "unauthorized", "error"};

/// Thread-safe: every method may be called from any thread.
class metrics {
public:
    /// `routes`: the `route` label values of the request series, by route index (0: the
    /// requests no route matches, "default"); every series of each is created here, so
    /// that the config bounds them (never a request path).
    explicit metrics(std::vector<std::string> const& routes = {"default"});
    metrics(metrics const&) = delete;
    metrics& operator=(metrics const&) = delete;

    /// A request answered with outcome `o` on route `route` (an index of the constructor's
    /// list; out of range counts as 0).
    void request(std::size_t route, outcome o, double seconds) noexcept {
        auto& r = routes_[route < routes_.size() ? route : 0];
        auto const i = static_cast<std::size_t>(o);
        r.requests[i]->Increment();
        r.seconds[i]->observe(seconds);
    }
    /// An upstream response with this status.
    void upstream(unsigned status, double seconds) noexcept;
    /// An exchange without a response; `failure` as proxy::upstream_result gives it.
    void upstream_failed(errc failure, double seconds) noexcept;
    void store(store_op op, double seconds, bool ok) noexcept;
    /// A store call that failed with `e` (errc::store_full, errc::not_owner, or any other
    /// error: unavailable).
    void store_failed(error_code e) noexcept;
    void store_write_failure() noexcept { store_write_failures_->Increment(); }
    void stored_without_body(body_omitted reason) noexcept {
        body_omitted_[static_cast<std::size_t>(reason)]->Increment();
    }
    void stored_response(std::size_t bytes) noexcept {
        stored_bytes_->observe(static_cast<double>(bytes));
    }
    void replayed(std::size_t body_bytes) noexcept {
        replayed_bytes_->Increment(static_cast<double>(body_bytes));
    }
    /// A client request refused before the engine with `e` (a limit or a framing rule).
    void http_failure(errc e) noexcept;
    void fail_open() noexcept { fail_open_->Increment(); }
    /// A webhook delivery refused by its route's verify: bad signature or bad timestamp.
    void webhook_rejected(bool timestamp) noexcept {
        webhook_rejections_[timestamp ? 1 : 0]->Increment();
    }
    /// A call of the records API answered with `r`.
    void admin_request(admin_endpoint e, admin_result r) noexcept {
        admin_requests_[static_cast<std::size_t>(e)][static_cast<std::size_t>(r)]->Increment();
    }
    void inflight(int delta) noexcept { inflight_->Increment(delta); }
    void connection_opened() noexcept {
        accepted_->Increment();
        active_->Increment();
    }
    void connection_closed() noexcept { active_->Decrement(); }
    void connection_rejected() noexcept { rejected_->Increment(); }
    void set_store_up(bool up) noexcept { store_up_->Set(up ? 1.0 : 0.0); }
    /// Registers idemgate_store_records and idemgate_store_bytes, and their limits
    /// idemgate_store_max_records and idemgate_store_max_bytes (set here, once: a "near full"
    /// alert divides by them); at startup, for a backend that can tell (memory). Without it
    /// none of them is exported.
    void track_store_usage(std::uint64_t max_records, std::uint64_t max_bytes);
    /// Before a scrape; a no-op unless track_store_usage() was called.
    void set_store_usage(std::uint64_t records, std::uint64_t bytes) noexcept {
        if (store_records_) store_records_->Set(static_cast<double>(records));
        if (store_bytes_) store_bytes_->Set(static_cast<double>(bytes));
    }

    /// Registers the Redis topology series (redirects, refreshes, nodes, master changes,
    /// replication shortfalls); at startup, for the redis backend.
    void track_store_topology();
    /// Before a scrape: the running totals of the store's routers (counters move by the
    /// difference); a no-op unless track_store_topology() was called.
    void set_store_topology(store_topology const& t) noexcept;

    /// Registers the listener's TLS series (idemgate_tls_*); at startup, when `tls` is set.
    void track_tls();
    /// A client TLS handshake that failed: timed out (timeouts.request_headers) or refused
    /// (protocol version, no or bad client certificate, not TLS at all).
    void tls_handshake_failed(bool timeout) noexcept {
        if (tls_handshake_failures_[0]) tls_handshake_failures_[timeout ? 1 : 0]->Increment();
    }
    /// A reload of the listener's certificate: in use, or refused (the old one kept).
    void tls_reload(bool ok) noexcept {
        if (tls_reloads_[0]) tls_reloads_[ok ? 0 : 1]->Increment();
    }
    /// The not-after time of the certificate in use, seconds since the epoch.
    void set_tls_cert_expiry(std::int64_t not_after) noexcept {
        if (tls_expiry_) tls_expiry_->Set(static_cast<double>(not_after));
    }

    /// Prometheus text exposition format 0.0.4, with process_* metrics read from /proc.
    std::string serialize() const;

private:
    void register_histograms();

    /// The request series of one route.
    struct route_series {
        std::string label;
        std::array<prometheus::Counter*, outcome_count> requests{};
        std::array<std::unique_ptr<histogram>, outcome_count> seconds;
    };

    std::shared_ptr<prometheus::Registry> registry_;
    std::vector<route_series> routes_;
    std::array<prometheus::Counter*, 6> upstream_requests_{}; // 1xx..5xx, error
    std::array<prometheus::Counter*, 3> upstream_errors_{};
    std::unique_ptr<histogram> upstream_seconds_;
    std::array<std::array<prometheus::Counter*, 2>, 4> store_ops_{}; // [op][ok, error]
    std::array<std::unique_ptr<histogram>, 4> store_seconds_;
    std::array<prometheus::Counter*, 4> store_errors_{};
    std::array<prometheus::Counter*, 6> http_errors_{};
    std::unique_ptr<histogram> stored_bytes_;
    prometheus::Counter* replayed_bytes_ = nullptr;
    prometheus::Counter* store_write_failures_ = nullptr;
    std::array<prometheus::Counter*, 2> body_omitted_{};
    prometheus::Counter* fail_open_ = nullptr;
    std::array<prometheus::Counter*, 2> webhook_rejections_{};            // signature, timestamp
    std::array<std::array<prometheus::Counter*, 4>, 2> admin_requests_{}; // [endpoint][result]
    prometheus::Counter* accepted_ = nullptr;
    prometheus::Counter* rejected_ = nullptr;
    prometheus::Gauge* active_ = nullptr;
    prometheus::Gauge* inflight_ = nullptr;
    prometheus::Gauge* store_up_ = nullptr;
    prometheus::Gauge* store_records_ = nullptr;
    prometheus::Gauge* store_bytes_ = nullptr;
    std::array<prometheus::Counter*, 2> redirects_{}; // moved, ask
    prometheus::Counter* topology_refreshes_ = nullptr;
    prometheus::Counter* master_changes_ = nullptr;
    std::array<prometheus::Counter*, 2> shortfalls_{}; // claim, complete
    prometheus::Gauge* store_nodes_ = nullptr;
    std::array<prometheus::Counter*, 2> tls_handshake_failures_{}; // error, timeout
    std::array<prometheus::Counter*, 2> tls_reloads_{};            // ok, error
    prometheus::Gauge* tls_expiry_ = nullptr;
};

} // namespace idemgate::metrics
