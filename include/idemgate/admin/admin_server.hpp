#pragma once
// The operators' listener: GET /metrics, /livez, /healthz (alias of /livez), /readyz.
#include "idemgate/metrics/metrics.hpp"
#include "idemgate/net.hpp"

#include <functional>

namespace idemgate::admin {

struct admin_context {
    metrics::metrics& stats;
    std::function<bool()> ready;         // listening, not draining, store usable or fail_open
    std::function<void()> before_scrape; // refreshes gauges read at scrape time
};

/// Accepts until `acceptor` is closed; one short-lived session per connection.
task<void> run_admin(tcp_acceptor& acceptor, admin_context& ctx);

} // namespace idemgate::admin
