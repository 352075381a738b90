// The slot map and slot_of against a real three-node cluster (tests/support/redis_cluster).
#include "idemgate/redis/cluster_redirect.hpp"
#include "idemgate/redis/cluster_slot_map.hpp"
#include "idemgate/redis/key_slot.hpp"

#include "support/redis_cluster.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace idemgate::redis {
namespace {

slot_map slots_seen_by(test::redis_server const& node) {
    std::string error;
    auto m = slot_map::parse(node.command({"CLUSTER", "SLOTS"}), "127.0.0.1", error);
    EXPECT_TRUE(m.has_value()) << error;
    return m.value_or(slot_map{});
}

TEST(redis_cluster, every_node_reports_the_same_map_covering_all_slots_over_its_three_primaries) {
    auto& cluster = test::shared_redis_cluster();
    auto const map = slots_seen_by(cluster.node(0));
    EXPECT_TRUE(map.covers_all());
    auto expected = cluster.addresses();
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(map.primaries(), expected);
    for (std::size_t i = 1; i < cluster.size(); ++i) {
        EXPECT_EQ(slots_seen_by(cluster.node(i)).ranges().size(), map.ranges().size());
        EXPECT_EQ(slots_seen_by(cluster.node(i)).primaries(), map.primaries());
    }
}

TEST(redis_cluster, the_primary_of_a_keys_slot_accepts_it_and_the_others_redirect_there) {
    auto& cluster = test::shared_redis_cluster();
    auto const map = slots_seen_by(cluster.node(0));
    for (int i = 0; i < 60; ++i) {
        auto const key = "redis_cluster_test:" + std::to_string(i);
        auto const slot = slot_of(key);
        auto const* owner = map.primary_for(slot);
        ASSERT_NE(owner, nullptr) << key;
        auto* node = cluster.node_on(owner->port);
        ASSERT_NE(node, nullptr) << owner->to_string();
        auto const set = node->command({"SET", key, "v"});
        EXPECT_EQ(set.str, "OK") << key << " on " << owner->to_string();
        for (std::size_t n = 0; n < cluster.size(); ++n) {
            if (cluster.node(n).port() == owner->port) continue;
            auto const get = cluster.node(n).command({"GET", key});
            ASSERT_TRUE(get.is_error()) << key;
            auto const moved = parse_redirect(get.str);
            ASSERT_TRUE(moved.has_value()) << get.str;
            EXPECT_EQ(moved->kind, redirect_kind::moved);
            EXPECT_EQ(moved->slot, slot);
            EXPECT_EQ(moved->target, *owner) << get.str;
        }
        node->command({"DEL", key});
    }
}

TEST(redis_cluster, keys_sharing_a_hash_tag_can_be_written_together) {
    auto& cluster = test::shared_redis_cluster();
    auto const map = slots_seen_by(cluster.node(0));
    auto const* owner = map.primary_for(slot_of("{redis_cluster_test}"));
    ASSERT_NE(owner, nullptr);
    auto* node = cluster.node_on(owner->port);
    ASSERT_NE(node, nullptr);
    // A multi-key command spanning two slots is refused with CROSSSLOT: a tag avoids it.
    auto const reply =
        node->command({"MSET", "{redis_cluster_test}.a", "1", "{redis_cluster_test}.b", "2"});
    EXPECT_EQ(reply.str, "OK");
    node->command({"DEL", "{redis_cluster_test}.a", "{redis_cluster_test}.b"});
}

} // namespace
} // namespace idemgate::redis
