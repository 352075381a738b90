#pragma once
// Fixture of the cluster suite: the gateway binary in `store.redis.mode: cluster` on the
// shared replicated cluster (3 primaries + 3 replicas, tests/support/redis_cluster), an
// upstream stub, and any number of gateways sharing one key prefix per test.
#include "../integration/gateway_fixture.hpp"
#include "support/redis_cluster.hpp"

#include "idemgate/engine/scope.hpp"
#include "idemgate/redis/key_slot.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace idemgate::test {

/// Runs `f` when the scope ends, also when an assertion or exception leaves it: threads of
/// a test are stopped and joined whatever happens.
template <class F>
struct at_scope_exit {
    F f;
    ~at_scope_exit() { f(); }
};
template <class F>
at_scope_exit(F) -> at_scope_exit<F>;

class cluster_gateways_test : public ::testing::Test {
protected:
    cluster_gateways_test() : cluster_(shared_replicated_cluster()) {
        static int test_number = 0;
        key_prefix_ = "ct" + std::to_string(++test_number) + ":";
    }

    /// A test that failed half way through a failover may leave a node down: bring it back,
    /// so that the next test starts on a whole cluster (the layout may differ; tests ask the
    /// cluster who serves what).
    void SetUp() override {
        for (std::size_t i = 0; i < cluster_.size(); ++i) {
            if (!cluster_.node(i).running()) cluster_.node(i).start();
        }
        cluster_.wait_until_stable(std::chrono::seconds(30));
    }

    /// Every gateway must stop cleanly: SIGTERM -> exit 0 (a sanitizer report or a crash of
    /// the gateway shows up here with its last lines).
    void TearDown() override {
        for (std::size_t i = 0; i < gateways_.size(); ++i) {
            int const code = gateways_[i]->terminate();
            auto const lines = gateways_[i]->lines();
            std::string tail;
            for (auto k = lines.size() > 40 ? lines.size() - 40 : 0; k < lines.size(); ++k)
                tail += lines[k] + "\n";
            EXPECT_EQ(code, 0) << "gateway " << i << " did not exit 0 on SIGTERM:\n" << tail;
        }
    }

    /// One more gateway in cluster mode with every node as a seed, `cfg` winning.
    gateway_process& start_gateway(gateway_config cfg = {}) {
        with_test_defaults(cfg, upstream_.url())
            .set_default("store.backend", "redis")
            .set_default("store.on_unavailable", "fail_closed")
            .set_default("store.redis.mode", "cluster")
            .set_default("store.redis.nodes", cluster_.nodes_yaml())
            .set_default("store.redis.key_prefix", "\"" + key_prefix_ + "\"");
        gateways_.push_back(std::make_unique<gateway_process>(cfg));
        return *gateways_.back();
    }

    gateway_process& gateway(std::size_t i) const { return *gateways_.at(i); }

    http_response send_to(std::size_t i, http_request const& req) const {
        return send_request(gateway(i).port(), req);
    }
    http_response admin_get(std::size_t i, std::string path) const {
        return send_request(gateway(i).admin_port(), {"GET", std::move(path), {}, {}});
    }
    /// One exposed series (`name{labels}`) of gateway `i`; -1 when absent.
    double metric(std::size_t i, std::string const& series) const {
        return metric_value(admin_get(i, "/metrics").body, series);
    }
    /// A series summed over every gateway (absent counts 0).
    double metric_sum(std::string const& series) const {
        double sum = 0;
        for (std::size_t i = 0; i < gateways_.size(); ++i) sum += std::max(0.0, metric(i, series));
        return sum;
    }

    /// Calls `pred` every 20 ms until it is true; false when `limit` passes first.
    static bool eventually(std::function<bool()> const& pred, std::chrono::milliseconds limit) {
        auto const deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            if (pred()) return true;
            if (std::chrono::steady_clock::now() >= deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    /// Which client sends a request: its API key and its Idempotency-Key.
    struct client_key {
        std::string api_key;
        std::string key;
    };
    /// POST /v1/charges as `who`.
    static http_request post_as(client_key const& who, std::string body = default_body) {
        return with_header(
            without_header(protected_post(who.key, std::move(body)), "Authorization"),
            "Authorization", "Bearer " + who.api_key);
    }

    /// How the store names records in cluster mode: by scope (`<prefix>{<scope hash>}`, a
    /// slot per key, the per-credential bound not counted there: docs/redis.md).
    enum class record_layout { unknown, per_key };

    /// Sends one request through gateway 0 and finds its record by that name; fails the test
    /// when it is named otherwise (the predictions below would be wrong).
    void learn_layout() {
        client_key const who{"layout-probe-" + key_prefix_, "layout-probe"};
        auto const res = send_to(0, post_as(who));
        ASSERT_EQ(res.status, 201U) << res.error << res.body;
        auto const scope = hasher().make(who.api_key, "", "POST", "/v1/charges", who.key);
        std::string seen;
        for (std::size_t i = 0; i < cluster_.size(); ++i) {
            if (!cluster_.node(i).running()) continue;
            for (auto const& k : cluster_.keys(i, key_prefix_ + "*")) {
                seen += k + " ";
                if (k == key_prefix_ + "{" + scope.hash + "}") layout_ = record_layout::per_key;
            }
        }
        ASSERT_NE(layout_, record_layout::unknown) << "record of the probe not found: " << seen;
    }

    /// The name of the record post_as(`who`) writes (after learn_layout).
    std::string record_key(client_key const& who) const {
        auto const scope = hasher().make(who.api_key, "", "POST", "/v1/charges", who.key);
        return key_prefix_ + "{" + scope.hash + "}";
    }
    /// Its slot: the prefix is outside the hash tag, so the slot does not depend on it.
    std::uint16_t record_slot(client_key const& who) const {
        return redis::slot_of(record_key(who));
    }

    /// `n` clients "<tag>-<i>" (API key and key both) whose records `pred` accepts by slot;
    /// each has its own API key.
    std::vector<client_key> clients_where(std::string const& tag, std::size_t n,
                                          std::function<bool(std::uint16_t)> const& pred) const {
        std::vector<client_key> out;
        for (std::size_t i = 0; out.size() < n; ++i) {
            if (i > 2'000'000) {
                ADD_FAILURE() << "no " << n << " clients found for " << tag;
                break;
            }
            client_key who{tag + "-" + std::to_string(i), tag + "-" + std::to_string(i)};
            if (pred(record_slot(who))) out.push_back(std::move(who));
        }
        return out;
    }
    /// `n` clients whose records land on node `node` (as the cluster is now).
    std::vector<client_key> clients_served_by(std::size_t node, std::string const& tag,
                                              std::size_t n) const {
        auto const owners = cluster_.slot_owners();
        return clients_where(tag, n, [&](std::uint16_t s) { return owners[s] == node; });
    }

    /// The records of this test on node `i` (not the per-credential sets).
    std::vector<std::string> records_on(std::size_t i) const {
        std::vector<std::string> out;
        for (auto& k : cluster_.keys(i, key_prefix_ + "{*")) {
            if (!k.ends_with("}cred")) out.push_back(std::move(k));
        }
        return out;
    }

    static engine::scope_hasher const& hasher() {
        static engine::scope_hasher const h{std::string{}};
        return h;
    }

    upstream_stub upstream_; // declared first: outlives the gateways that talk to it
    redis_cluster& cluster_;
    std::string key_prefix_;
    std::vector<std::unique_ptr<gateway_process>> gateways_;
    record_layout layout_ = record_layout::unknown;
};

} // namespace idemgate::test
