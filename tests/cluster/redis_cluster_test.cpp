// The replicated cluster fixture itself (tests/support/redis_cluster), at the Redis level:
// its layout, a slot migration step by step (ASK while MIGRATING, MOVED after), and a primary
// crash with its replica's promotion, the restart and the fail-back that restore the layout.
#include "support/redis_cluster.hpp"

#include "idemgate/redis/cluster_redirect.hpp"
#include "idemgate/redis/key_slot.hpp"

#include <gtest/gtest.h>

#include <iostream>

namespace idemgate::test {
namespace {

using namespace std::chrono_literals;
using redis::parse_redirect;
using redis::redirect_kind;
using redis::slot_of;

TEST(replicated_cluster, has_three_primaries_each_with_a_synced_replica) {
    auto& cluster = shared_replicated_cluster();
    ASSERT_EQ(cluster.size(), 6U);
    auto const primaries = cluster.primaries();
    ASSERT_EQ(primaries.size(), 3U);
    for (auto const p : primaries) {
        auto const r = cluster.replica_of(p);
        ASSERT_TRUE(r.has_value()) << "primary " << p;
        EXPECT_NE(*r, p);
        EXPECT_EQ(cluster.node(*r).info_field("replication", "role"), "slave");
    }
    EXPECT_TRUE(cluster.all_ok());
}

TEST(replicated_cluster, a_migrating_slot_answers_ask_for_keys_it_lacks_and_moved_after) {
    auto& cluster = shared_replicated_cluster();
    std::string const key = "fixture-migration:{m}";
    std::string const absent = "fixture-migration:{m}:absent";
    auto const slot = slot_of(key);
    auto const from = cluster.owner_of(slot);
    ASSERT_TRUE(from.has_value());
    std::size_t to = 0;
    for (auto const p : cluster.primaries()) {
        if (p != *from) to = p;
    }
    ASSERT_EQ(cluster.node(*from).command({"SET", key, "v"}).str, "OK");
    {
        redis_cluster::slot_migration m(cluster, slot, *from, to);
        m.begin();
        // The source still serves what it holds, and sends the rest to the target.
        EXPECT_EQ(cluster.node(*from).command({"GET", key}).str, "v");
        auto const ask = parse_redirect(cluster.node(*from).command({"GET", absent}).str);
        ASSERT_TRUE(ask.has_value());
        EXPECT_EQ(ask->kind, redirect_kind::ask);
        EXPECT_EQ(ask->target.port, cluster.node(to).port());
        EXPECT_EQ(m.move_keys(), 1U);
        auto const moved_key = parse_redirect(cluster.node(*from).command({"GET", key}).str);
        ASSERT_TRUE(moved_key.has_value());
        EXPECT_EQ(moved_key->kind, redirect_kind::ask);
        // Without ASKING the importing node still says the slot is not its own.
        auto const not_yet = parse_redirect(cluster.node(to).command({"GET", key}).str);
        ASSERT_TRUE(not_yet.has_value());
        EXPECT_EQ(not_yet->kind, redirect_kind::moved);
        m.finish();
    }
    EXPECT_EQ(cluster.owner_of(slot), to);
    auto const moved = parse_redirect(cluster.node(*from).command({"GET", key}).str);
    ASSERT_TRUE(moved.has_value());
    EXPECT_EQ(moved->kind, redirect_kind::moved);
    EXPECT_EQ(moved->target.port, cluster.node(to).port());
    EXPECT_EQ(cluster.node(to).command({"GET", key}).str, "v");
    // And back, as the shared cluster was.
    cluster.migrate_slot(slot, to, *from);
    EXPECT_EQ(cluster.owner_of(slot), from);
    EXPECT_EQ(cluster.node(*from).command({"GET", key}).str, "v");
    cluster.node(*from).command({"DEL", key});
}

TEST(replicated_cluster, a_killed_primary_fails_over_to_its_replica_and_rejoins_as_one) {
    auto& cluster = shared_replicated_cluster();
    std::string const key = "fixture-failover:{f}";
    auto const slot = slot_of(key);
    auto const victim = cluster.owner_of(slot);
    ASSERT_TRUE(victim.has_value());
    auto const replica = cluster.replica_of(*victim);
    ASSERT_TRUE(replica.has_value());
    // WAIT counts the replicas that have the writes of its own connection.
    auto const written = cluster.node(*victim).pipeline({{"SET", key, "v"}, {"WAIT", "1", "1000"}});
    ASSERT_EQ(written.at(0).str, "OK");
    EXPECT_EQ(written.at(1).integer, 1);
    auto const killed_at = std::chrono::steady_clock::now();
    cluster.kill(*victim);
    auto const p = cluster.wait_for_promotion(slot, *victim, killed_at + 20s);
    ASSERT_TRUE(p.has_value()) << "no promotion within 20 s";
    EXPECT_EQ(p->new_owner, *replica);
    std::cout
        << "[ fixture  ] kill -> promotion "
        << std::chrono::duration_cast<std::chrono::milliseconds>(p->promoted_at - killed_at).count()
        << " ms, -> cluster ok "
        << std::chrono::duration_cast<std::chrono::milliseconds>(p->ok_at - killed_at).count()
        << " ms\n";
    EXPECT_EQ(cluster.node(*replica).command({"GET", key}).str, "v");
    cluster.restart(*victim, 30s);
    EXPECT_EQ(cluster.replica_of(*replica), victim);
    cluster.fail_back(*victim, 30s);
    EXPECT_EQ(cluster.owner_of(slot), victim);
    EXPECT_EQ(cluster.replica_of(*victim), replica);
    EXPECT_EQ(cluster.node(*victim).command({"GET", key}).str, "v");
    cluster.node(*victim).command({"DEL", key});
}

} // namespace
} // namespace idemgate::test
