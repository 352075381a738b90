#pragma once
// The engine in-process (Envoy's cache_filter_test.cc is the model): a real memory store
// behind a faulty_store and the metrics' instrumented_store (as the gateway stacks them), a
// real upstream_pool and deadline_set against a loopback upstream_stub, and injected clocks,
// all on one io_context that the test runs. It reaches what the integration tests cannot from
// outside: one store call failing at one precise step, a renewal failing while the upstream
// works, time passing when the test says so.
#include "idemgate/config/config.hpp"
#include "idemgate/engine/engine.hpp"
#include "idemgate/engine/scope.hpp"
#include "idemgate/metrics/metrics.hpp"
#include "idemgate/proxy/upstream.hpp"
#include "idemgate/proxy/upstream_pool.hpp"
#include "idemgate/store/instrumented_store.hpp"
#include "idemgate/store/memory_store.hpp"
#include "idemgate/util/clock.hpp"
#include "idemgate/util/deadlines.hpp"
#include "support/faulty_store.hpp"
#include "support/prometheus_text.hpp"
#include "support/upstream_stub.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace idemgate::test {

/// One run of engine::handle, started on the fixture's io_context; `done` once it returned.
struct engine_call {
    std::optional<engine::handled> result;
    std::exception_ptr error;
    bool done = false;
};

/// Owns everything the engine references. Tests set `cfg_` (and the stub's handler), call
/// start_engine(), then drive requests with handle() or start() + run_until() + finish().
/// Time: `wall_` is the memory store's clock (record TTLs, lock expiry); `steady_` is the lock
/// keeper's and the deadline set's (renewals due, upstream timeouts). Both move only when a
/// test advances them; the keeper's and the deadline set's ticks are real timers (5–50 ms).
class engine_test : public ::testing::Test {
protected:
    using ms = std::chrono::milliseconds;

    engine_test() {
        cfg_.upstream.url = upstream_.url();
        cfg_.idempotency.lock_ttl = ms(300); // renewals due every 100 ms, ticks every 50 ms
        cfg_.idempotency.ttl = std::chrono::hours(1);
        cfg_.idempotency.wait_timeout = std::chrono::seconds(5);
        cfg_.upstream.timeout = std::chrono::seconds(2); // on steady_: fires when advanced
        cfg_.upstream.connect_timeout = std::chrono::seconds(2);
    }

    /// Builds the store stack, the pool and the engine from `cfg_` as the test left it.
    void start_engine() {
        db_ = std::make_shared<idemgate::store::memory_db>(cfg_.store.memory, wall_);
        auto faulty = std::make_unique<faulty_store>(
            std::make_unique<idemgate::store::memory_store>(db_), fault_plan{});
        store_ = faulty.get();
        instrumented_ = std::make_unique<store::instrumented_store>(std::move(faulty), metrics_);
        auto const target = proxy::parse_upstream_url(cfg_.upstream.url);
        if (!target) throw std::invalid_argument("engine_test: bad upstream.url");
        deadlines_ = std::make_unique<util::deadline_set>(ioc_.get_executor(), ms(5), &steady_);
        pool_ = std::make_unique<proxy::upstream_pool>(ioc_.get_executor(), *target, cfg_.upstream,
                                                       nullptr, *deadlines_);
        engine_ = std::make_unique<engine::engine>(cfg_, *instrumented_, *pool_, scopes_, metrics_,
                                                   &steady_);
    }

    /// A protected POST (Bearer credential, `key` as Idempotency-Key unless empty).
    static request post(std::string const& key, std::string body = R"({"amount":100})") {
        request req{http::verb::post, "/v1/charges", 11};
        req.set(http::field::host, "api.example");
        req.set(http::field::authorization, "Bearer sk_test_engine");
        req.set(http::field::content_type, "application/json");
        if (!key.empty()) req.set("Idempotency-Key", key);
        req.body() = std::move(body);
        req.prepare_payload();
        return req;
    }

    /// Starts `req` on the io_context; nothing runs until run_until() or finish().
    std::shared_ptr<engine_call> start(request req, engine::client_gone gone = {}) {
        auto call = std::make_shared<engine_call>();
        auto handler = [call](std::exception_ptr e, engine::handled h) {
            call->error = e;
            if (!e) call->result.emplace(std::move(h));
            call->done = true;
        };
        net::co_spawn(ioc_, engine_->handle(std::move(req), "127.0.0.1", std::move(gone)),
                      std::move(handler));
        return call;
    }

    /// Runs the io_context until `done()` holds, for at most `limit`; returns done().
    bool run_until(std::function<bool()> const& done, ms limit = ms(5000)) {
        auto const end = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= end) return false;
            if (ioc_.stopped()) ioc_.restart();
            ioc_.run_one_for(ms(2));
        }
        return true;
    }

    /// Runs until `call` returned (at most `limit`, else throws) and gives its result.
    engine::handled finish(std::shared_ptr<engine_call> const& call, ms limit = ms(5000)) {
        if (!run_until([&] { return call->done; }, limit))
            throw std::runtime_error("engine_test: the request did not finish in time");
        if (call->error) std::rethrow_exception(call->error);
        return std::move(*call->result);
    }

    /// One request from start to end.
    engine::handled handle(request req, engine::client_gone gone = {}) {
        return finish(start(std::move(req), std::move(gone)));
    }

    /// Store calls of one kind as the engine (and its keeper) made them.
    std::size_t store_calls(store_op op) const { return store_->calls(op); }

    /// A series of the engine's metrics, read through the Prometheus text (-1: absent).
    double metric(std::string_view name, prometheus_text::label_set const& labels = {}) const {
        return prometheus_text::parse(metrics_.serialize()).value(name, labels).value_or(-1);
    }
    double upstream_errors(std::string const& kind) const {
        return metric("idemgate_upstream_errors_total", {{"kind", kind}});
    }
    double store_ops(std::string const& op, std::string const& result) const {
        return metric("idemgate_store_operations_total", {{"op", op}, {"result", result}});
    }

    /// A stub reply that waits for `open_` before answering (the request stays mid-upstream).
    stub_reply held_reply(std::size_t call) {
        auto reply = upstream_stub::default_reply(call);
        reply.hold_until = [this] { return open_.load(); };
        return reply;
    }

    // Declared before the stub and the io_context, destroyed after them: the stub's thread
    // reads open_, and frames the io_context destroys may still touch the metrics.
    std::atomic<bool> open_{false};
    util::manual_clock wall_;
    util::manual_monotonic_clock steady_;
    config::config cfg_;
    metrics::metrics metrics_;
    engine::scope_hasher scopes_{""};
    upstream_stub upstream_;
    net::io_context ioc_;
    // Built by start_engine(); destroyed before the io_context they use.
    std::shared_ptr<idemgate::store::memory_db> db_;
    std::unique_ptr<store::instrumented_store> instrumented_;
    faulty_store* store_ = nullptr; // inside instrumented_
    std::unique_ptr<util::deadline_set> deadlines_;
    std::unique_ptr<proxy::upstream_pool> pool_;
    std::unique_ptr<engine::engine> engine_;
};

} // namespace idemgate::test
