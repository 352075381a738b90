// The redis store in cluster mode against a real three-primary cluster: records spread over
// the primaries (a credential bound is not counted there), scripts reloaded per node,
// readiness and the topology counters.
#include "idemgate/error.hpp"
#include "idemgate/redis/router.hpp"
#include "idemgate/store/redis_factory.hpp"
#include "idemgate/store/redis_store.hpp"
#include "support/digest.hpp"
#include "support/redis_cluster.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>

namespace idemgate::store {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

class redis_store_cluster_test : public ::testing::Test {
protected:
    redis_store_cluster_test() : cluster_(test::shared_redis_cluster()) {}

    redis_store& open(credential_bound bound = {}, std::string prefix = "ct:") {
        config::redis_store_config cfg;
        cfg.mode = config::redis_mode::cluster;
        cfg.url = "redis://unused:1/0";
        cfg.key_prefix = std::move(prefix);
        for (auto const& a : cluster_.addresses()) cfg.nodes.push_back(a.to_string());
        cfg.nodes.resize(1); // one seed is enough to learn the map
        cfg.command_timeout = 1s;
        stores_.push_back(std::make_unique<redis_store>(ioc_.get_executor(), cfg,
                                                        make_redis_connection_config(cfg), bound,
                                                        record_sealing{}, stats_));
        return *stores_.back();
    }

    result<begin_result> begin(redis_store& s, scope_key const& k) {
        return test::run_task(ioc_, s.begin(k, fingerprint{}, 60s), 5s);
    }

    error_code complete(redis_store& s, scope_key const& k, owner_token const& o) {
        stored_response r;
        r.status = 201;
        r.body = "done " + k.hash;
        return test::run_task(ioc_, s.complete(k, o, std::move(r), 1h), 5s);
    }

    bool run_until(std::function<bool()> const& done, std::chrono::milliseconds limit) {
        auto const deadline = steady::now() + limit;
        ioc_.restart();
        while (!done() && steady::now() < deadline) ioc_.run_for(5ms);
        return done();
    }

    void TearDown() override {
        stores_.clear();
        ioc_.restart();
        ioc_.run_for(50ms);
        for (std::size_t i = 0; i < cluster_.size(); ++i) cluster_.node(i).command({"FLUSHALL"});
    }

    test::redis_cluster& cluster_;
    net::io_context ioc_;
    std::shared_ptr<redis::topology_stats> stats_ = std::make_shared<redis::topology_stats>();
    std::vector<std::unique_ptr<redis_store>> stores_; // destroyed before ioc_
};

TEST_F(redis_store_cluster_test, is_ready_once_the_map_covers_every_slot) {
    auto& s = open();
    ASSERT_TRUE(run_until([&] { return s.state() == store_state::up; }, 5s));
    EXPECT_EQ(stats_->nodes.load(), 3);
    EXPECT_GE(stats_->refreshes.load(), 1U);
}

TEST_F(redis_store_cluster_test, records_spread_over_every_primary_and_replay_from_another_store) {
    auto& a = open();
    auto& b = open();
    for (int i = 0; i < 60; ++i) {
        scope_key const k{test::sha256_hex("spread/" + std::to_string(i))};
        auto const claim = begin(a, k);
        ASSERT_TRUE(claim) << claim.error().message();
        ASSERT_EQ(claim->kind, begin_kind::acquired);
        ASSERT_FALSE(complete(a, k, claim->owner));
        auto const again = begin(b, k);
        ASSERT_TRUE(again) << again.error().message();
        ASSERT_EQ(again->kind, begin_kind::replay);
        ASSERT_TRUE(again->existing);
        EXPECT_EQ(again->existing->response.body, "done " + k.hash);
    }
    for (std::size_t i = 0; i < cluster_.size(); ++i) {
        auto const keys = cluster_.node(i).command({"DBSIZE"}).integer;
        EXPECT_GT(keys, 5) << "node " << i << " holds too few of 60 records";
    }
    EXPECT_EQ(stats_->moved.load(), 0U);
}

TEST_F(redis_store_cluster_test, a_credential_bound_is_not_counted_so_records_still_spread) {
    auto& s = open(credential_bound{3, 1h});
    auto const cred = test::sha256_hex("api key");
    for (int i = 0; i < 30; ++i) {
        scope_key const k{test::sha256_hex("bounded/" + std::to_string(i)), cred};
        auto const claim = begin(s, k);
        ASSERT_TRUE(claim) << claim.error().message(); // neither CROSSSLOT nor the limit
        EXPECT_EQ(claim->kind, begin_kind::acquired);
        EXPECT_EQ(s.key_of(k), "ct:{" + k.hash + "}");
    }
    EXPECT_EQ(s.credential_key_of(scope_key{"h", cred}), "");
    for (std::size_t i = 0; i < cluster_.size(); ++i)
        EXPECT_GT(cluster_.node(i).command({"DBSIZE"}).integer, 2) << "node " << i;
}

TEST_F(redis_store_cluster_test, each_node_reloads_the_scripts_it_lost) {
    auto& s = open();
    scope_key const first{test::sha256_hex("noscript/warm")};
    ASSERT_TRUE(begin(s, first));
    for (std::size_t i = 0; i < cluster_.size(); ++i) cluster_.node(i).command({"SCRIPT", "FLUSH"});
    for (int i = 0; i < 12; ++i) {
        scope_key const k{test::sha256_hex("noscript/" + std::to_string(i))};
        auto const claim = begin(s, k);
        ASSERT_TRUE(claim) << claim.error().message();
        EXPECT_EQ(claim->kind, begin_kind::acquired);
    }
}

} // namespace
} // namespace idemgate::store
