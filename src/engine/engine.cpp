#include "idemgate/engine/engine.hpp"

#include "idemgate/engine/classify.hpp"
#include "idemgate/engine/completion.hpp"
#include "idemgate/engine/decision.hpp"
#include "idemgate/engine/fingerprint.hpp"
#include "idemgate/engine/key_rules.hpp"
#include "idemgate/engine/replay.hpp"
#include "idemgate/engine/webhook.hpp"
#include "idemgate/http/error_response.hpp"
#include "idemgate/log/log.hpp"
#include "idemgate/proxy/forward.hpp"

#include <boost/range/iterator_range.hpp>

#include <algorithm>
#include <iterator>
#include <optional>

namespace idemgate::engine {

using std::chrono::steady_clock;

struct engine::claim {
    config::idempotency_config const* policy; // the request's route's
    store::scope_key key;
    store::fingerprint fp{};
    store::owner_token owner;
    std::string idem_key;
    /// The body's plain digest, which records written before fingerprints were keyed hold
    /// (scope_hasher::keyed); empty when no secret keys them.
    std::optional<store::fingerprint> unkeyed;
    bool ledger = false; // a key_from route: any 5xx is released, not stored
};

namespace {

std::chrono::microseconds since(steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - t0);
}

/// Counts a protected request in idemgate_inflight_requests for its lifetime.
class inflight_guard {
public:
    explicit inflight_guard(metrics::metrics& m) : m_(m) { m_.inflight(1); }
    ~inflight_guard() { m_.inflight(-1); }
    inflight_guard(inflight_guard const&) = delete;
    inflight_guard& operator=(inflight_guard const&) = delete;

private:
    metrics::metrics& m_;
};

/// The shortest lock any route holds: the lock keeper ticks for it.
std::chrono::milliseconds shortest_lock_ttl(route_table const& routes) {
    auto shortest = routes.at(0).policy.lock_ttl;
    for (std::size_t i = 1; i < routes.size(); ++i) {
        if (routes.at(i).enabled) shortest = std::min(shortest, routes.at(i).policy.lock_ttl);
    }
    return shortest;
}

classification passthrough_for(passthrough_reason reason) {
    classification c;
    c.reason = reason;
    return c;
}

classification rejected_for(errc e) {
    classification c;
    c.kind = request_class::rejected;
    c.error = e;
    return c;
}

/// The only value of field `name`; nullopt when absent, `several` set when repeated.
std::optional<std::string_view> single_field(request const& req, std::string_view name,
                                             bool& several) {
    auto const range = req.equal_range(name);
    if (range.first == range.second) return std::nullopt;
    if (std::next(range.first) != range.second) several = true;
    return range.first->value();
}

/// A request on a ledger route (docs/webhooks.md), in order: the method (as classify);
/// verify, before anything else is read; the API key (scope api_key only); the key from
/// `key_from`, whose absence follows missing_key.
classification classify_delivery(request const& req, request_view const& view,
                                 config::idempotency_config const& policy,
                                 ledger_policy const& ledger) {
    if (auto by_method = classify_method(view, policy)) return std::move(*by_method);
    if (ledger.verify) {
        bool several = false;
        webhook_headers const h{single_field(req, "webhook-id", several),
                                single_field(req, "webhook-timestamp", several),
                                single_field(req, "webhook-signature", several)};
        auto const now = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch());
        switch (several ? webhook_verdict::signature
                        : verify_webhook(ledger.secrets, h, req.body(), now, ledger.tolerance)) {
        case webhook_verdict::ok:
            break;
        case webhook_verdict::signature:
            return rejected_for(errc::webhook_signature_invalid);
        case webhook_verdict::timestamp:
            return rejected_for(errc::webhook_timestamp_invalid);
        }
    }
    classification c;
    if (ledger.scope == config::route_scope::api_key) {
        std::optional<std::string> api_key;
        if (view.credential) {
            api_key = view.credential_is_header ? credential_of_header(*view.credential)
                                                : api_key_of(*view.credential);
        }
        if (!api_key) return passthrough_for(passthrough_reason::no_api_key);
        c.api_key = std::move(*api_key);
    }
    std::optional<std::string_view> header;
    if (ledger.key_from.from == config::key_source::kind::header) {
        bool several = false;
        header = single_field(req, ledger.key_from.where, several);
        if (several) return rejected_for(errc::key_invalid);
    }
    auto key = delivery_key(ledger.key_from, req.body(), header);
    if (!key) {
        if (policy.missing_key == config::missing_key_mode::reject)
            return rejected_for(errc::key_required);
        return passthrough_for(passthrough_reason::missing_key);
    }
    if (key->size() > policy.max_key_length) return rejected_for(errc::key_invalid);
    c.kind = request_class::protected_request;
    c.key = std::move(*key);
    return c;
}

} // namespace

request_view view_of(request const& req, config::idempotency_config const& cfg) {
    request_view v;
    v.method = req.method_string();
    v.target = req.target();
    if (cfg.credential.starts_with("header:")) {
        v.credential_is_header = true;
        if (auto it = req.find(std::string_view(cfg.credential).substr(7)); it != req.end())
            v.credential = it->value();
    } else if (auto it = req.find(http::field::authorization); it != req.end()) {
        v.credential = it->value();
    }
    for (auto const& f : boost::make_iterator_range(req.equal_range(cfg.key_header)))
        v.idempotency_keys.push_back(f.value());
    if (auto it = req.find(cfg.account_header); it != req.end()) v.account = it->value();
    return v;
}

engine::engine(config::config const& cfg, store::store& st, proxy::upstream_pool& pool,
               scope_hasher const& scopes, metrics::metrics& m, util::monotonic_clock const* clk)
    : cfg_(cfg), store_(st), pool_(pool), scopes_(scopes), metrics_(m), routes_(cfg),
      keeper_(st, shortest_lock_ttl(routes_), clk) {}

task<handled> engine::handle(request req, std::string peer, client_gone gone) {
    // The session normalised the target (http/target.hpp): the route is found on the path
    // the scope and the upstream see.
    auto const route = routes_.find(req.target());
    auto const& policy = routes_.at(route).policy;
    if (!routes_.at(route).enabled) {
        auto h = co_await exchange(std::move(req), peer, nullptr, outcome::passthrough);
        h.unprotected = passthrough_reason::route_disabled;
        h.route = route;
        co_return h;
    }
    auto const view = view_of(req, cfg_.idempotency); // how a request is read is global
    auto const& ledger = routes_.at(route).ledger;
    auto cls = ledger ? classify_delivery(req, view, policy, *ledger) : classify(view, policy);
    if (cls.error == errc::webhook_signature_invalid ||
        cls.error == errc::webhook_timestamp_invalid)
        metrics_.webhook_rejected(cls.error == errc::webhook_timestamp_invalid);
    if (cls.kind == request_class::rejected) {
        handled h{http_errors::make(cls.error, req.version(), req.keep_alive()),
                  outcome::rejected,
                  std::move(cls.key),
                  {}};
        h.route = route;
        co_return h;
    }
    if (cls.kind == request_class::passthrough) {
        auto h = co_await exchange(std::move(req), peer, nullptr, outcome::passthrough);
        h.unprotected = cls.reason;
        h.route = route;
        co_return h;
    }

    // The scope leaves the route out: moving a path between routes never merges two scopes;
    // a `scope: route` ledger's is (route, key) alone (docs/webhooks.md).
    auto scope = ledger && ledger->scope == config::route_scope::route
                     ? scopes_.make_route(routes_.at(route).label, cls.key)
                     : scopes_.make(cls.api_key, view.account, view.method, view.target, cls.key);
    auto const digest = fingerprint_of(req.body(), policy.fingerprint);
    auto const fp = scopes_.keyed(scope, digest);
    claim c{&policy,      std::move(scope),  fp, {}, std::move(cls.key),
            std::nullopt, ledger.has_value()};
    if (scopes_.keys_fingerprints()) c.unkeyed = digest;
    auto h = co_await run_protected(std::move(req), peer, std::move(c), gone);
    h.route = route;
    co_return h;
}

task<proxy::upstream_result> engine::send(request const& req, std::chrono::microseconds& took) {
    auto const t0 = steady_clock::now();
    auto r = co_await pool_.send(req);
    took = since(t0);
    auto const secs = static_cast<double>(took.count()) / 1e6;
    if (r.ok())
        metrics_.upstream(r.res.result_int(), secs);
    else
        metrics_.upstream_failed(r.failure, secs);
    co_return r;
}

task<handled> engine::run_protected(request req, std::string const& peer, claim c,
                                    client_gone const& gone) {
    auto const& icfg = *c.policy;
    inflight_guard const counted(metrics_);
    auto const deadline = steady_clock::now() + icfg.wait_timeout;
    auto backoff = std::chrono::milliseconds(10);
    auto reply = [&](errc e, outcome o) {
        return handled{http_errors::make(e, req.version(), req.keep_alive()), o, c.idem_key, {}};
    };
    for (;;) {
        auto begun = co_await store_.begin(c.key, c.fp, icfg.lock_ttl);
        if (!begun) {
            // store.max_records_per_credential: this client holds too many records (429).
            if (begun.error() == errc::credential_limit)
                co_return reply(errc::credential_limit, outcome::rejected);
            if (cfg_.store.on_unavailable == config::unavailable_mode::fail_closed)
                co_return reply(errc::store_unavailable, outcome::store_unavailable);
            metrics_.fail_open(); // contract §4: forwarded without protection, counted
            co_return co_await exchange(std::move(req), peer, nullptr, outcome::store_unavailable,
                                        std::move(c.idem_key));
        }
        if (begun->kind == store::begin_kind::fingerprint_mismatch && c.unkeyed) {
            // A record written before fingerprints were keyed holds the plain digest: ask
            // once more with it, so that a retry across the upgrade still replays.
            c.fp = *c.unkeyed;
            c.unkeyed.reset();
            continue;
        }
        switch (decide(begun->kind, icfg.concurrent)) {
        case action::forward:
            c.owner = std::move(begun->owner);
            co_return co_await exchange(std::move(req), peer, &c, outcome::executed,
                                        std::move(c.idem_key));
        case action::replay:
            metrics_.replayed(begun->existing->response.body.size());
            co_return handled{replay_response(begun->existing->response, icfg.replay_header,
                                              req.version(), req.keep_alive(),
                                              req.method() == http::verb::head),
                              outcome::replayed,
                              c.idem_key,
                              {}};
        case action::conflict:
            co_return reply(errc::key_in_use, outcome::conflict);
        case action::in_progress:
            co_return reply(errc::request_in_progress, outcome::in_progress);
        case action::wait:
            break;
        }
        // concurrent: wait — poll with capped exponential backoff (works across replicas).
        auto const now = steady_clock::now();
        if (now >= deadline) co_return reply(errc::request_in_progress, outcome::in_progress);
        steady_timer timer(co_await net::this_coro::executor);
        timer.expires_after(std::min<steady_clock::duration>(backoff, deadline - now));
        co_await timer.async_wait();
        // Nobody is left to answer: stop polling the store (the answer goes nowhere).
        if (gone && gone()) co_return reply(errc::request_in_progress, outcome::in_progress);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(250));
    }
}

task<handled> engine::exchange(request req, std::string const& peer, claim const* c, outcome o,
                               std::string key) {
    bool const keep_alive = req.keep_alive();
    bool const head = req.method() == http::verb::head;
    unsigned const version = req.version();
    proxy::prepare_upstream_request(req, peer, pool_.target().base_path);
    std::chrono::microseconds took{0};
    proxy::upstream_result r;
    if (c != nullptr) {
        // contract §2: the in-progress record is renewed while the upstream works.
        auto kept =
            keeper_.keep(co_await net::this_coro::executor, c->key, c->owner, c->policy->lock_ttl);
        r = co_await send(req, took);
        kept.release();
        co_await finish(*c, r);
    } else {
        r = co_await send(req, took);
    }
    if (!r.ok())
        co_return handled{http_errors::make(r.failure, version, keep_alive),
                          outcome::upstream_error, std::move(key), took};
    proxy::prepare_client_response(r.res, 11, keep_alive, head);
    co_return handled{std::move(r.res), o, std::move(key), took};
}

task<void> engine::finish(claim const& c, proxy::upstream_result const& r) {
    auto const& icfg = *c.policy;
    auto const what =
        r.ok() ? on_response(r.res.result_int(), icfg, c.ledger) : on_failure(r.failure);
    if (what == completion::keep) co_return; // contract §3: outcome unknown, keep the lock
    error_code e;
    if (what == completion::release) {
        e = co_await store_.release(c.key, c.owner);
    } else {
        auto stored = to_stored(r.res.result_int(), fields_of(r.res), r.res.body(), icfg);
        if (stored.body_omitted) metrics_.stored_without_body(metrics::body_omitted::too_large);
        e = co_await complete_or_omit_body(c, r, std::move(stored));
    }
    if (e) {
        if (what == completion::store) metrics_.store_write_failure();
        log::error(what == completion::store ? "response not stored" : "lock not released",
                   {{"scope", c.key.hash}, {"error", e.message()}});
    }
}

task<error_code> engine::complete_or_omit_body(claim const& c, proxy::upstream_result const& r,
                                               store::stored_response stored) {
    auto const& icfg = *c.policy;
    bool const omitted = stored.body_omitted;
    auto e = co_await store_.complete(c.key, c.owner, std::move(stored), icfg.ttl);
    if (e != errc::store_full || omitted) co_return e;
    // Status and headers only, built again from the response (the first attempt consumed
    // `stored`; a copy made up front would cost every completion its allocations).
    auto headers_only = to_stored(r.res.result_int(), fields_of(r.res), {}, icfg);
    headers_only.body_omitted = true;
    // Contract §7: the store refused the record for its size (Redis -OOM, memory store full).
    // Left in progress, the claim would expire and a retry would run the operation again;
    // the same record max_stored_body makes (status and headers, no body) prevents that.
    // Redis keeps the refused request's buffer for a cron cycle or two (~100 ms each), so
    // its -OOM may repeat for a moment: retry with backoff while the claim surely holds (a
    // quarter of lock_ttl, at most 2 s). The client's answer waits for it.
    auto const until = steady_clock::now() +
                       std::min<steady_clock::duration>(std::chrono::seconds(2), icfg.lock_ttl / 4);
    auto pause = std::chrono::milliseconds(50);
    for (;;) {
        e = co_await store_.complete(c.key, c.owner, headers_only, icfg.ttl);
        if (e != errc::store_full || steady_clock::now() + pause > until) break;
        steady_timer timer(co_await net::this_coro::executor);
        timer.expires_after(pause);
        co_await timer.async_wait();
        pause *= 2;
    }
    if (!e) metrics_.stored_without_body(metrics::body_omitted::store_full);
    co_return e;
}

} // namespace idemgate::engine
