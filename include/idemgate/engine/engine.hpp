#pragma once
// Drives one request through contract §1–3: classify, claim in the store, forward or
// replay, complete. One engine per io_context; never throws on the data plane.
#include "idemgate/config/config.hpp"
#include "idemgate/engine/classify.hpp"
#include "idemgate/engine/lock_keeper.hpp"
#include "idemgate/engine/request_view.hpp"
#include "idemgate/engine/routes.hpp"
#include "idemgate/engine/scope.hpp"
#include "idemgate/http/types.hpp"
#include "idemgate/metrics/metrics.hpp"
#include "idemgate/net.hpp"
#include "idemgate/outcome.hpp"
#include "idemgate/proxy/upstream_pool.hpp"
#include "idemgate/store/store.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace idemgate::engine {

/// What the session needs besides the response: for metrics and the access log.
struct handled {
    response res;
    idemgate::outcome result = outcome::passthrough;
    std::string key; // the Idempotency-Key when the request was protected
    std::chrono::microseconds upstream_time{0};
    passthrough_reason unprotected = passthrough_reason::none; // outcome passthrough: why
    std::size_t route = 0; // the request's route (route_table index; 0: the global policy)
};

/// Views into `req` for the pure rules (classify, scope): the method, target, credential,
/// idempotency keys and account as idempotency `cfg` names them. Valid while `req` is neither
/// moved nor changed.
request_view view_of(request const& req, config::idempotency_config const& cfg);

/// Whether the client of a request has gone (closed or reset its connection): a waiter of
/// `concurrent: wait` then stops polling the store. Empty: never asked.
using client_gone = std::function<bool()>;

/// Not thread-safe: one per io_context. All references must outlive the engine.
class engine {
public:
    /// `clk` drives the lock keeper's renewals (null: the real steady clock; tests inject one).
    engine(config::config const& cfg, store::store& st, proxy::upstream_pool& pool,
           scope_hasher const& scopes, metrics::metrics& m,
           util::monotonic_clock const* clk = nullptr);

    /// `peer` is the client's address (for X-Forwarded-For).
    task<handled> handle(request req, std::string peer, client_gone gone = {});

    /// The routes the engine resolves requests with (their labels name the metrics').
    route_table const& routes() const noexcept { return routes_; }

private:
    struct claim; // the protected request's scope, fingerprint and owner
    task<handled> run_protected(request req, std::string const& peer, claim c,
                                client_gone const& gone);
    /// The one exchange path: prepare, send (renewing `c`'s claim while the upstream works,
    /// then completing it), answer. `c` null: unprotected (passthrough, fail_open).
    task<handled> exchange(request req, std::string const& peer, claim const* c, outcome o,
                           std::string key = {});
    task<void> finish(claim const& c, proxy::upstream_result const& r);
    /// complete(), and once more without the body when the store refuses it as too big.
    task<error_code> complete_or_omit_body(claim const& c, proxy::upstream_result const& r,
                                           store::stored_response stored);
    task<proxy::upstream_result> send(request const& req, std::chrono::microseconds& took);

    config::config const& cfg_;
    store::store& store_;
    proxy::upstream_pool& pool_;
    scope_hasher const& scopes_;
    metrics::metrics& metrics_;
    route_table routes_;
    lock_keeper keeper_;
};

} // namespace idemgate::engine
