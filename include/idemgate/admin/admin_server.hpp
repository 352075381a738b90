#pragma once
// The operators' listener: GET /metrics, /livez, /healthz (alias of /livez), /readyz, and
// the records API (POST /admin/v1/records/lookup|evict, issue 13) when a token is configured.
#include "idemgate/metrics/metrics.hpp"
#include "idemgate/net.hpp"

#include <functional>
#include <string>

namespace idemgate::admin {

/// What the records handler answers: the status and JSON body to send, and the scope hash for
/// the log line ("" when the request named none). Never the API key.
struct records_reply {
    unsigned status = 500;
    std::string body;
    std::string scope;
};

/// Runs one authorised records call with the request's JSON body. Injected by the server:
/// the store and the scope hasher are floors above this one.
using records_handler =
    std::function<task<records_reply>(metrics::admin_endpoint endpoint, std::string body)>;

struct admin_context {
    metrics::metrics& stats;
    std::function<bool()> ready;         // listening, not draining, store usable or fail_open
    std::function<void()> before_scrape; // refreshes gauges read at scrape time
    std::string token;                   // admin.token; empty: the records API answers 404
    records_handler records;             // null: the records API answers 404
};

/// Accepts until `acceptor` is closed; one short-lived session per connection.
task<void> run_admin(tcp_acceptor& acceptor, admin_context& ctx);

} // namespace idemgate::admin
