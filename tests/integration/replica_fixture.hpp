#pragma once
// Fixture for the Redis-backed gateway: a redis-server of the test's own (so a test may stop,
// pause or inspect it), an upstream stub, and any number of gateway replicas that share that
// Redis and one key prefix, as a deployment of several sidecars does.
#include "gateway_fixture.hpp"
#include "support/redis_server.hpp"

#include <csignal>
#include <functional>
#include <set>
#include <thread>

namespace idemgate::test {

class redis_gateways_test : public ::testing::Test {
protected:
    /// Starts one more replica with `cfg` plus loopback defaults, on redis_ with key_prefix_.
    gateway_process& start_replica(gateway_config cfg = {}) {
        with_test_defaults(cfg, upstream_.url())
            .set_default("store.backend", "redis")
            .set_default("store.redis.url", redis_.url())
            .set_default("store.redis.key_prefix", "\"" + key_prefix_ + "\"");
        replicas_.push_back(std::make_unique<gateway_process>(cfg));
        return *replicas_.back();
    }

    gateway_process& replica(std::size_t i) const { return *replicas_.at(i); }

    /// SIGKILL replica `i` (a crash: no drain, no release); TearDown then expects no exit 0.
    void kill_replica(std::size_t i) {
        replica(i).signal(SIGKILL);
        killed_.insert(i);
    }

    /// Every replica that was not killed must stop cleanly: SIGTERM -> exit 0. A sanitizer
    /// report or a crash of the gateway shows up here with its last lines.
    void TearDown() override {
        for (std::size_t i = 0; i < replicas_.size(); ++i) {
            if (killed_.count(i) != 0) continue;
            int const code = replicas_[i]->terminate();
            auto const lines = replicas_[i]->lines();
            std::string tail;
            for (auto k = lines.size() > 40 ? lines.size() - 40 : 0; k < lines.size(); ++k)
                tail += lines[k] + "\n";
            EXPECT_EQ(code, 0) << "replica " << i << " did not exit 0 on SIGTERM:\n" << tail;
        }
    }

    /// One request on a fresh connection to replica `i`.
    http_response send_to(std::size_t i, http_request const& req) const {
        return send_request(replica(i).port(), req);
    }

    /// GET `path` on the admin listener of replica `i`.
    http_response admin_get(std::size_t i, std::string path) const {
        return send_request(replica(i).admin_port(), {"GET", std::move(path), {}, {}});
    }

    /// Value of one exposed series (`name{labels}`) of replica `i`; -1 when absent.
    double metric(std::size_t i, std::string const& series) const {
        return metric_value(admin_get(i, "/metrics").body, series);
    }

    /// idemgate_requests_total{outcome="..."} of replica `i`.
    double outcome_count(std::size_t i, std::string const& outcome) const {
        return metric(i, requests_series(outcome));
    }

    /// The stub answers its default reply after `d`.
    void slow_upstream(std::chrono::milliseconds d) {
        upstream_.set_handler([d](recorded_request const&, std::size_t n) {
            auto reply = upstream_stub::default_reply(n);
            reply.delay = d;
            return reply;
        });
    }

    /// Calls `pred` every 50 ms until it is true; false when `limit` passes first.
    static bool eventually(std::function<bool()> const& pred, std::chrono::milliseconds limit) {
        auto const deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            if (pred()) return true;
            if (std::chrono::steady_clock::now() >= deadline) return false;
            std::this_thread::sleep_for(50ms);
        }
    }

    /// `n` clients send `req` at once, client k to replica `k % replicas`; their answers.
    std::vector<http_response> burst(http_request const& req, std::size_t n) const {
        return all_at_once(n, [&](std::size_t k) { return send_to(k % replicas_.size(), req); });
    }

    // Declaration order is teardown order reversed: replicas stop before Redis and the stub.
    upstream_stub upstream_;
    redis_server redis_;
    std::string key_prefix_ = "idemgate-it:";
    std::vector<std::unique_ptr<gateway_process>> replicas_;
    std::set<std::size_t> killed_;
};

} // namespace idemgate::test
