// The gateway with store.redis.mode: sentinel in front of a real Sentinel set (one primary,
// one replica, three sentinels; issue 12): it serves through the master the sentinels name,
// /readyz says whether one is confirmed, and after the primary is SIGKILLed it answers 503
// (fail_closed) until the failover, then serves the new master without a restart; a record
// completed with wait_replicas: 1 replays after it. The failover times are printed.
#include "integration/gateway_fixture.hpp"

#include "support/redis_sentinel.hpp"

#include "idemgate/net.hpp"

#include <boost/asio/io_context.hpp>

#include <iostream>
#include <optional>
#include <thread>

namespace idemgate::test {
namespace {

using sentinel_clock = std::chrono::steady_clock;

long long ms_of(sentinel_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

/// Calls `pred` every 20 ms until it is true; false when `limit` passes first.
bool eventually(std::function<bool()> const& pred, std::chrono::milliseconds limit) {
    auto const deadline = sentinel_clock::now() + limit;
    for (;;) {
        if (pred()) return true;
        if (sentinel_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(20ms);
    }
}

/// `store.redis.nodes` as a YAML flow sequence.
std::string nodes_yaml(std::vector<redis::node_address> const& nodes) {
    std::string out = "[";
    for (auto const& n : nodes) out += (out.size() > 1 ? ", \"" : "\"") + n.to_string() + "\"";
    return out + "]";
}

class sentinel_gateway_test : public ::testing::Test {
protected:
    sentinel_gateway_test() : set_(shared_redis_sentinel()) { set_.restore_killed(); }

    /// A gateway in sentinel mode on set_, `in_front` listed before the real sentinels.
    gateway_process& start_gateway(gateway_config cfg,
                                   std::vector<redis::node_address> in_front = {}) {
        auto nodes = std::move(in_front);
        for (auto const& s : set_.sentinel_addresses()) nodes.push_back(s);
        with_test_defaults(cfg, upstream_.url())
            .set_default("store.backend", "redis")
            .set_default("store.redis.mode", "sentinel")
            .set_default("store.redis.nodes", nodes_yaml(nodes))
            .set_default("store.redis.sentinel_master", set_.master_name())
            .set_default("store.redis.key_prefix", "\"" + key_prefix_ + "\"");
        gateways_.push_back(std::make_unique<gateway_process>(cfg));
        return *gateways_.back();
    }

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

    http_response send_to(std::size_t i, http_request const& req) const {
        return send_request(gateways_.at(i)->port(), req);
    }
    unsigned readyz(std::size_t i) const {
        return send_request(gateways_.at(i)->admin_port(), {"GET", "/readyz", {}, {}}).status;
    }
    double metric(std::size_t i, std::string const& series) const {
        auto const text =
            send_request(gateways_.at(i)->admin_port(), {"GET", "/metrics", {}, {}}).body;
        return metric_value(text, series);
    }

    // Declaration order is teardown order reversed: gateways stop before the stub.
    redis_sentinel& set_;
    upstream_stub upstream_;
    std::string key_prefix_ = "sentinel-it:";
    std::vector<std::unique_ptr<gateway_process>> gateways_;
};

TEST_F(sentinel_gateway_test, serves_through_the_confirmed_master_past_dead_sentinels) {
    // A closed port and a sentinel that accepts and never answers, listed first.
    boost::asio::io_context ioc;
    idemgate::tcp::acceptor silent(
        ioc, idemgate::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    std::vector<redis::node_address> const dead{{"127.0.0.1", unused_port()},
                                                {"127.0.0.1", silent.local_endpoint().port()}};
    auto const started = sentinel_clock::now();
    start_gateway(gateway_config{}, dead);
    ASSERT_TRUE(eventually([&] { return readyz(0) == 200; }, 5s)) << "not ready within 5 s";
    auto const ready_after = sentinel_clock::now() - started;
    std::cout << "[ sentinel ] gateway ready " << ms_of(ready_after)
              << " ms after start, past a closed and a silent sentinel\n";

    auto const first = send_to(0, protected_post("st-serve"));
    ASSERT_EQ(first.status, 201U) << first.error << first.body;
    expect_replay_of(first, send_to(0, protected_post("st-serve")));
    EXPECT_EQ(upstream_.calls(), 1U);
    // The record is on the master the sentinels name.
    auto const keys = set_.primary().command({"KEYS", key_prefix_ + "*"});
    EXPECT_FALSE(keys.elements.empty());

    EXPECT_GT(metric(0, "idemgate_store_topology_refreshes_total"), 0.0);
    EXPECT_EQ(metric(0, "idemgate_store_nodes"), 1.0);
    EXPECT_EQ(metric(0, "idemgate_store_master_changes_total"), 0.0);

    // A name the sentinels do not monitor: no master, never ready, 503 without the upstream.
    start_gateway(gateway_config{}.set("store.redis.sentinel_master", "st-no-such-master"));
    auto const never_until = sentinel_clock::now() + 1500ms;
    while (sentinel_clock::now() < never_until) {
        ASSERT_EQ(readyz(1), 503U);
        std::this_thread::sleep_for(100ms);
    }
    expect_error(send_to(1, protected_post("st-none")), 503, "idempotency_store_unavailable");
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(sentinel_gateway_test, a_killed_primary_answers_503_then_the_new_master_serves) {
    // Gateway 0 measures (no WAIT); gateway 1 writes the record that must survive (WAIT 1).
    start_gateway(gateway_config{});
    start_gateway(gateway_config{}
                      .set("store.redis.wait_replicas", "1")
                      .set("store.redis.wait_timeout", "1s"));
    ASSERT_TRUE(eventually([&] { return readyz(0) == 200 && readyz(1) == 200; }, 5s));
    auto const kept = send_to(1, protected_post("st-kept"));
    ASSERT_EQ(kept.status, 201U) << kept.error << kept.body;
    auto const calls_before = upstream_.calls();

    auto const killed_at = sentinel_clock::now();
    auto const old_port = set_.kill_primary();
    std::optional<sentinel_clock::time_point> first_503;
    std::optional<sentinel_clock::time_point> switched_at;
    std::optional<sentinel_clock::time_point> first_success;
    bool unready_seen = false;
    auto const limit = killed_at + 30s;
    for (int i = 0; sentinel_clock::now() < limit; ++i) {
        if (!switched_at) {
            auto const seen = set_.master_seen_by(0);
            if (seen && seen->port != old_port) switched_at = sentinel_clock::now();
        }
        auto const res = send_to(0, protected_post("st-fo-" + std::to_string(i)));
        auto const now = sentinel_clock::now();
        if (res.status == 503) {
            expect_error(res, 503, "idempotency_store_unavailable");
            if (!first_503) first_503 = now;
            if (!switched_at && !unready_seen) unready_seen = readyz(0) == 503;
        } else if (res.status == 201 && first_503 && switched_at) {
            first_success = now;
            break;
        } else {
            // Before the gateway noticed, or after it switched but before the test saw it.
            EXPECT_EQ(res.status, 201U) << res.error << res.body;
        }
        std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(first_503.has_value()) << "no 503 after the kill";
    ASSERT_TRUE(switched_at.has_value()) << "the sentinels did not switch within 30 s";
    ASSERT_TRUE(first_success.has_value()) << "no success after the switch";
    std::cout << "[ sentinel ] gateway: kill -> first 503 " << ms_of(*first_503 - killed_at)
              << " ms; kill -> +switch-master " << ms_of(*switched_at - killed_at)
              << " ms; switch -> first success " << ms_of(*first_success - *switched_at) << " ms\n";
    EXPECT_LT(*first_success - *switched_at, 5s);
    EXPECT_TRUE(unready_seen) << "/readyz was never 503 without a master";
    ASSERT_TRUE(set_.wait_for_switch(old_port, sentinel_clock::now() + 10s).has_value());

    // Both gateways follow without a restart; the record completed with WAIT 1 replays.
    EXPECT_TRUE(eventually([&] { return readyz(0) == 200 && readyz(1) == 200; }, 5s));
    auto const calls_after = upstream_.calls();
    for (std::size_t g = 0; g < 2; ++g) {
        auto const again = send_to(g, protected_post("st-kept"));
        expect_replay_of(kept, again);
        EXPECT_EQ(again.header("X-Upstream-Call"), kept.header("X-Upstream-Call"));
    }
    EXPECT_EQ(upstream_.calls(), calls_after);
    EXPECT_GT(calls_after, calls_before); // gateway 0 served new keys on the new master

    // The new master has no replica until the old node is back: WAIT 1 claims answer 503.
    expect_error(send_to(1, protected_post("st-no-replica")), 503, "idempotency_store_unavailable");
    EXPECT_EQ(upstream_.calls(), calls_after);

    for (std::size_t g = 0; g < 2; ++g) {
        EXPECT_GE(metric(g, "idemgate_store_master_changes_total"), 1.0) << "gateway " << g;
        EXPECT_GT(metric(g, "idemgate_store_topology_refreshes_total"), 0.0) << "gateway " << g;
        EXPECT_EQ(metric(g, "idemgate_store_nodes"), 1.0) << "gateway " << g;
    }

    set_.restore_killed(); // a replica again: WAIT 1 is met
    http_response later;
    EXPECT_TRUE(eventually(
        [&] {
            later = send_to(1, protected_post("st-replica-back"));
            return later.status != 503;
        },
        10s));
    EXPECT_EQ(later.status, 201U) << later.error << later.body;
}

} // namespace
} // namespace idemgate::test
