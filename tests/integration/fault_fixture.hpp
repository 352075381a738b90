#pragma once
// Shared by the fault-injection suite (faults_*_test.cpp, soak_test.cpp): a fault proxy
// (tests/support/fault_proxy.hpp) between the gateway and Redis, and the counts every test of
// the suite asserts: how many times each key's operation ran upstream.
#include "replica_fixture.hpp"
#include "support/fault_proxy.hpp"

#include "idemgate/store/redis_scripts.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>

namespace idemgate::test {

/// Upstream requests that carried `Idempotency-Key: key`: how many times its operation ran.
inline std::size_t executions_of(upstream_stub const& upstream, std::string const& key) {
    std::size_t n = 0;
    for (auto const& r : upstream.requests()) n += r.header("Idempotency-Key") == key ? 1U : 0U;
    return n;
}

/// The largest number of upstream executions of any one key (the suite's invariant: ≤ 1).
inline std::size_t most_executions_of_one_key(upstream_stub const& upstream) {
    std::map<std::string, std::size_t> per_key;
    std::size_t most = 0;
    for (auto const& r : upstream.requests()) {
        auto const key = r.header("Idempotency-Key");
        if (!key.empty()) most = std::max(most, ++per_key[key]);
    }
    return most;
}

/// Holds upstream answers until the test opens it (stub_reply::hold_until), so a fault can be
/// switched on while the upstream works, at a moment the test chooses rather than a delay.
class upstream_gate {
public:
    /// The stub's default reply, held until open() for requests with `Idempotency-Key: key`
    /// (every request when `key` is empty).
    stub_handler handler(std::string key = {}) const {
        auto const open = open_;
        return [open, key](recorded_request const& req, std::size_t n) {
            auto reply = upstream_stub::default_reply(n);
            if (key.empty() || req.header("Idempotency-Key") == key)
                reply.hold_until = [open] { return open->load(); };
            return reply;
        };
    }
    void open() { *open_ = true; }

private:
    std::shared_ptr<std::atomic<bool>> open_ = std::make_shared<std::atomic<bool>>(false);
};

/// Calls `send` every 50 ms until `done(answer)` or `limit`; the last answer.
inline http_response send_until(std::function<http_response()> const& send,
                                std::function<bool(http_response const&)> const& done,
                                std::chrono::milliseconds limit) {
    auto const deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        auto res = send();
        if (done(res) || std::chrono::steady_clock::now() >= deadline) return res;
        std::this_thread::sleep_for(50ms);
    }
}

/// Milliseconds since `t0`.
inline std::chrono::milliseconds ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t0);
}

/// Redis-backed replicas (replica_fixture.hpp) that reach Redis through a fault proxy unless
/// a test starts one directly (start_replica): the proxy opens the window, a direct replica
/// plays "another gateway" that does not see the fault.
class redis_fault_test : public redis_gateways_test {
protected:
    static constexpr auto command_timeout = std::chrono::milliseconds{300};
    /// Scheduling slack on a loaded 2-core machine (and a sanitized gateway).
    static constexpr auto margin = std::chrono::milliseconds{700};

    /// A replica whose Redis is `redis_proxy_`, with short Redis timeouts; returns once its
    /// `connections` Redis connections (threads × pool_size) are set up, so that a fault
    /// meets requests, not the connection setup (whose replies connect_timeout bounds).
    gateway_process& start_via_proxy(gateway_config cfg = {}, std::size_t connections = 4) {
        cfg.set_default("store.redis.url", "redis://" + redis_proxy_.address() + "/0")
            .set_default("store.redis.connect_timeout", "200ms")
            .set_default("store.redis.command_timeout",
                         std::to_string(command_timeout.count()) + "ms");
        // Cached as after a first use: a fresh Redis answers the first EVALSHA of each script
        // with NOSCRIPT, and a fault on that reply would hit the EVAL retry instead.
        auto const& s = store::scripts();
        for (auto const* one : {&s.begin, &s.complete, &s.release, &s.renew})
            redis_.command({"SCRIPT", "LOAD", std::string(one->body)});
        auto& started = start_replica(std::move(cfg));
        // The first connection reads CONFIG GET (docs/redis.md): its replies mean it is set up.
        EXPECT_TRUE(eventually(
            [&] {
                return redis_proxy_.open_connections() >= connections &&
                       redis_proxy_.bytes(flow::to_client) > 0;
            },
            5s));
        return started;
    }

    fault_proxy redis_proxy_{redis_.port()};
};

} // namespace idemgate::test
