// cluster_router against the shared three-node cluster: routing, MOVED and ASK followed.
#include "idemgate/error.hpp"
#include "idemgate/redis/cluster_router.hpp"
#include "idemgate/redis/key_slot.hpp"

#include "support/redis_cluster.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace idemgate::redis {
namespace {

using namespace std::chrono_literals;

class cluster_router_test : public ::testing::Test {
protected:
    cluster_router_test() : cluster_(test::shared_redis_cluster()) {
        auto cfg = std::make_shared<connection_config>();
        cfg->url.host = "unused";
        router_ = std::make_shared<cluster_router>(ioc_.get_executor(), cfg,
                                                   std::vector{cluster_.addresses().front()});
    }
    ~cluster_router_test() override {
        router_->stop();
        ioc_.restart();
        ioc_.run_for(100ms); // lets the stopped connections' coroutines end
    }

    bool refresh() {
        return test::run_task(ioc_, router_->refresh(std::chrono::steady_clock::now() + 2s));
    }

    result<reply> run(std::string const& key, std::vector<std::string> args) {
        auto body = [](cluster_router& r, std::string k,
                       std::vector<std::string> a) -> task<result<reply>> {
            std::vector<std::string_view> const views(a.begin(), a.end());
            co_return (co_await r.execute(k, views, std::chrono::steady_clock::now() + 2s)).r;
        };
        return test::run_task(ioc_, body(*router_, key, std::move(args)), 5s);
    }

    /// The node that owns `key`'s slot, by the cluster's own account.
    test::redis_server& owner_of(std::string const& key) {
        std::string error;
        auto const m =
            slot_map::parse(cluster_.node(0).command({"CLUSTER", "SLOTS"}), "127.0.0.1", error);
        return *cluster_.node_on(m->primary_for(slot_of(key))->port);
    }

    test::redis_cluster& cluster_;
    net::io_context ioc_;
    std::shared_ptr<cluster_router> router_;
};

TEST_F(cluster_router_test, a_refresh_from_one_seed_learns_the_whole_map) {
    ASSERT_TRUE(refresh());
    EXPECT_TRUE(router_->map().covers_all());
    EXPECT_EQ(router_->map().primaries().size(), cluster_.size());
}

TEST_F(cluster_router_test, commands_land_on_the_owner_of_their_slot_without_redirects) {
    ASSERT_TRUE(refresh());
    for (int i = 0; i < 30; ++i) {
        auto const key = "cluster_router_test:route:" + std::to_string(i);
        auto const set = run(key, {"SET", key, "v" + std::to_string(i)});
        ASSERT_TRUE(set.has_value());
        EXPECT_EQ(set->str, "OK");
        EXPECT_EQ(owner_of(key).command({"GET", key}).str, "v" + std::to_string(i));
        run(key, {"DEL", key});
    }
    EXPECT_EQ(router_->redirects(redirect_kind::moved), 0U);
}

TEST_F(cluster_router_test, the_first_command_refreshes_an_empty_map) {
    auto const key = std::string("cluster_router_test:lazy");
    auto const set = run(key, {"SET", key, "1"});
    ASSERT_TRUE(set.has_value());
    EXPECT_EQ(set->str, "OK");
    EXPECT_TRUE(router_->map().covers_all());
    run(key, {"DEL", key});
}

TEST_F(cluster_router_test, a_stale_map_is_corrected_by_moved_one_slot_at_a_time) {
    std::string error;
    auto const wrong = cluster_.addresses().front();
    auto stale = slot_map::from_ranges({slot_range{0, cluster_slots - 1, wrong, {}}}, error);
    ASSERT_TRUE(stale.has_value()) << error;
    router_->adopt(*stale);
    int moved_keys = 0;
    for (int i = 0; i < 20; ++i) {
        auto const key = "cluster_router_test:moved:" + std::to_string(i);
        auto const set = run(key, {"SET", key, "x"});
        ASSERT_TRUE(set.has_value());
        EXPECT_EQ(set->str, "OK") << key;
        auto const owner = owner_of(key).port();
        EXPECT_EQ(router_->map().primary_for(slot_of(key))->port, owner) << key;
        if (owner != wrong.port) ++moved_keys;
        run(key, {"DEL", key});
    }
    EXPECT_GT(moved_keys, 0);
    EXPECT_EQ(router_->redirects(redirect_kind::moved), static_cast<std::uint64_t>(moved_keys));
}

TEST_F(cluster_router_test, a_slot_being_migrated_is_followed_by_ask_without_changing_the_map) {
    ASSERT_TRUE(refresh());
    auto const key = std::string("cluster_router_test:ask");
    auto const slot = std::to_string(slot_of(key));
    auto& source = owner_of(key);
    auto& target = cluster_.node(0).port() == source.port() ? cluster_.node(1) : cluster_.node(0);
    auto const source_id = source.command({"CLUSTER", "MYID"}).str;
    auto const target_id = target.command({"CLUSTER", "MYID"}).str;
    ASSERT_EQ(target.command({"CLUSTER", "SETSLOT", slot, "IMPORTING", source_id}).str, "OK");
    ASSERT_EQ(source.command({"CLUSTER", "SETSLOT", slot, "MIGRATING", target_id}).str, "OK");
    // The key is not on the source, so the source answers -ASK for it.
    auto const set = run(key, {"SET", key, "asked"});
    ASSERT_TRUE(set.has_value());
    EXPECT_EQ(set->str, "OK");
    EXPECT_EQ(router_->redirects(redirect_kind::ask), 1U);
    EXPECT_EQ(router_->map().primary_for(slot_of(key))->port, source.port());
    auto const get = run(key, {"GET", key});
    ASSERT_TRUE(get.has_value());
    EXPECT_EQ(get->str, "asked");
    // Clean up through the same path, then end the migration where it began.
    run(key, {"DEL", key});
    EXPECT_EQ(target.command({"CLUSTER", "SETSLOT", slot, "STABLE"}).str, "OK");
    EXPECT_EQ(source.command({"CLUSTER", "SETSLOT", slot, "STABLE"}).str, "OK");
}

TEST(cluster_router, without_any_reachable_seed_a_command_is_unavailable) {
    net::io_context ioc;
    auto cfg = std::make_shared<connection_config>();
    cfg->connect_timeout = 200ms;
    // Port 1 on loopback: refused at once. No cluster needed.
    auto router = std::make_shared<cluster_router>(ioc.get_executor(), cfg,
                                                   std::vector<node_address>{{"127.0.0.1", 1}});
    auto body = [](cluster_router& r) -> task<result<reply>> {
        std::vector<std::string_view> const args{"GET", "k"};
        co_return (co_await r.execute("k", args, std::chrono::steady_clock::now() + 1s)).r;
    };
    auto const r = test::run_task(ioc, body(*router), 5s);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), make_error_code(errc::store_unavailable));
    EXPECT_FALSE(router->map().covers_all());
    EXPECT_FALSE(router->ready());
    router->stop();
}

} // namespace
} // namespace idemgate::redis
