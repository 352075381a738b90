#pragma once
// Keep-alive connections to the upstream, one pool per io_context (no locks).
#include "idemgate/config/config.hpp"
#include "idemgate/error.hpp"
#include "idemgate/http/types.hpp"
#include "idemgate/net.hpp"
#include "idemgate/proxy/upstream.hpp"
#include "idemgate/util/deadlines.hpp"

#include <boost/asio/ssl/context.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace idemgate::proxy {

class upstream_connection;

/// What an exchange with the upstream gave: a response, or how it failed (contract §3).
struct upstream_result {
    /// errc::ok, or how the exchange failed: errc::upstream_unavailable (nothing was sent),
    /// errc::upstream_timeout or errc::upstream_failed (sent, outcome unknown).
    errc failure = errc::ok;
    /// The socket, TLS or parser error behind `failure`.
    error_code cause;
    /// The upstream's response, end-to-end fields only (drop_connection_fields, forward.hpp):
    /// what the client gets and what the store keeps go through that one rule.
    response res;
    /// The connection may carry another exchange (the pool's business: a complete response
    /// with no byte after it, keep-alive framing).
    bool reusable = false;

    bool ok() const noexcept { return failure == errc::ok; }
};

/// Not thread-safe: use from the io_context it was made for.
class upstream_pool {
public:
    /// `tls` may be null (plain http); it must outlive the pool.
    /// `deadlines` bounds connects and exchanges; it must belong to the same io_context.
    upstream_pool(net::any_io_executor ex, upstream_target target,
                  config::upstream_config const& cfg, net::ssl::context* tls,
                  util::deadline_set& deadlines);
    ~upstream_pool();
    upstream_pool(upstream_pool const&) = delete;
    upstream_pool& operator=(upstream_pool const&) = delete;

    /// Sends `req` (already prepared by forward.hpp) on an idle or new connection and reads
    /// the response. Never re-sends a request once a byte of it was written.
    /// `req` must stay alive until the returned task completes.
    task<upstream_result> send(request const& req);

    upstream_target const& target() const noexcept { return target_; }

    /// False after a failed connect until an exchange succeeds, for at most
    /// upstream.connect_timeout (so readiness recovers without traffic). Thread-safe: the
    /// admin listener asks it from its own thread.
    bool usable() const noexcept;

private:
    task<std::unique_ptr<upstream_connection>> connect(error_code& ec);
    std::unique_ptr<upstream_connection> take_idle();

    net::any_io_executor ex_;
    upstream_target target_;
    config::upstream_config const& cfg_;
    net::ssl::context* tls_;
    util::deadline_set& deadlines_;
    std::vector<std::unique_ptr<upstream_connection>> idle_;
    std::atomic<std::int64_t> last_ok_ms_{0};   // steady clock
    std::atomic<std::int64_t> last_down_ms_{0}; // steady clock, a connect failure
};

} // namespace idemgate::proxy
