#include "idemgate/redis/cluster_slot_map.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace idemgate::redis {
namespace {

reply int_reply(std::int64_t v) {
    return reply{reply_type::integer, v, {}, {}};
}
reply str_reply(std::string s) {
    return reply{reply_type::bulk_string, 0, std::move(s), {}};
}
reply array_reply(std::vector<reply> elements) {
    return reply{reply_type::array, 0, {}, std::move(elements)};
}
/// A node as 7.0 writes it: host, port, id, and the (here empty) metadata map.
reply node_reply(std::string host, std::int64_t port) {
    return array_reply(
        {str_reply(std::move(host)), int_reply(port), str_reply("0123abcd"), array_reply({})});
}
reply range_reply(std::int64_t first, std::int64_t last, std::vector<reply> nodes) {
    std::vector<reply> e{int_reply(first), int_reply(last)};
    for (auto& n : nodes) e.push_back(std::move(n));
    return array_reply(std::move(e));
}

/// Three primaries as `redis-cli --cluster create` splits the slots, listed out of order.
reply three_node_reply() {
    return array_reply({
        range_reply(10923, 16383, {node_reply("127.0.0.1", 7002)}),
        range_reply(0, 5460, {node_reply("127.0.0.1", 7000), node_reply("127.0.0.1", 7100)}),
        range_reply(5461, 10922, {node_reply("127.0.0.1", 7001)}),
    });
}

slot_map parse_ok(reply const& r) {
    std::string error;
    auto m = slot_map::parse(r, "seed.host", error);
    EXPECT_TRUE(m.has_value()) << error;
    return m.value_or(slot_map{});
}

TEST(cluster_slot_map, a_full_reply_covers_every_slot_and_finds_each_slots_primary) {
    auto const m = parse_ok(three_node_reply());
    EXPECT_TRUE(m.covers_all());
    ASSERT_EQ(m.ranges().size(), 3U);
    EXPECT_EQ(m.ranges()[0].first, 0);
    EXPECT_EQ(m.ranges()[0].replicas, (std::vector<node_address>{{"127.0.0.1", 7100}}));
    struct {
        std::uint16_t slot;
        std::uint16_t port;
    } const cases[]{{0, 7000},     {5460, 7000},  {5461, 7001},
                    {10922, 7001}, {10923, 7002}, {16383, 7002}};
    for (auto const& c : cases) {
        auto const* p = m.primary_for(c.slot);
        ASSERT_NE(p, nullptr) << c.slot;
        EXPECT_EQ(p->port, c.port) << c.slot;
    }
    EXPECT_EQ(m.primaries().size(), 3U);
}

TEST(cluster_slot_map, gaps_are_not_covered_and_have_no_primary) {
    auto const m = parse_ok(array_reply(
        {range_reply(0, 99, {node_reply("a", 1)}), range_reply(101, 16383, {node_reply("b", 2)})}));
    EXPECT_FALSE(m.covers_all());
    EXPECT_EQ(m.primary_for(100), nullptr);
    EXPECT_NE(m.primary_for(99), nullptr);
    EXPECT_FALSE(parse_ok(array_reply({range_reply(1, 16383, {node_reply("a", 1)})})).covers_all());
    EXPECT_FALSE(parse_ok(array_reply({range_reply(0, 16382, {node_reply("a", 1)})})).covers_all());
}

TEST(cluster_slot_map, an_empty_reply_is_a_cluster_with_no_slot_assigned) {
    auto const m = parse_ok(array_reply({}));
    EXPECT_FALSE(m.covers_all());
    EXPECT_EQ(m.primary_for(0), nullptr);
    EXPECT_TRUE(m.primaries().empty());
}

TEST(cluster_slot_map, an_unknown_host_is_the_host_the_reply_came_from) {
    auto nil_host = node_reply("", 7001);
    nil_host.elements[0] = reply{};
    auto const m = parse_ok(array_reply(
        {range_reply(0, 10, {node_reply("", 7000)}), range_reply(11, 16383, {nil_host})}));
    EXPECT_EQ(*m.primary_for(0), (node_address{"seed.host", 7000}));
    EXPECT_EQ(*m.primary_for(11), (node_address{"seed.host", 7001}));
}

TEST(cluster_slot_map, bad_shapes_are_rejected_with_a_reason) {
    auto const ok_node = node_reply("h", 1);
    std::vector<reply> const bad{
        reply{reply_type::error, 0, "ERR This instance has cluster support disabled", {}},
        str_reply("OK"),
        int_reply(3),
        array_reply({int_reply(0)}),
        array_reply({array_reply({int_reply(0), int_reply(1)})}),
        array_reply({range_reply(0, 16384, {ok_node})}),
        array_reply({range_reply(-1, 5, {ok_node})}),
        array_reply({range_reply(6, 5, {ok_node})}),
        array_reply({array_reply({str_reply("0"), int_reply(5), ok_node})}),
        array_reply({range_reply(0, 5, {int_reply(1)})}),
        array_reply({range_reply(0, 5, {array_reply({str_reply("h")})})}),
        array_reply({range_reply(0, 5, {node_reply("h", 0)})}),
        array_reply({range_reply(0, 5, {node_reply("h", 65536)})}),
        array_reply({range_reply(0, 5, {array_reply({int_reply(1), int_reply(2)})})}),
        array_reply({range_reply(0, 5, {array_reply({str_reply("h"), str_reply("2")})})}),
        array_reply({range_reply(0, 5, {node_reply("?", 7000)})}),
        array_reply({range_reply(0, 5, {ok_node, int_reply(9)})}),
        array_reply({range_reply(0, 10, {ok_node}), range_reply(10, 20, {ok_node})}),
        array_reply({range_reply(5, 20, {ok_node}), range_reply(0, 5, {ok_node})}),
    };
    for (std::size_t i = 0; i < bad.size(); ++i) {
        std::string error;
        EXPECT_FALSE(slot_map::parse(bad[i], "seed", error).has_value()) << "case " << i;
        EXPECT_FALSE(error.empty()) << "case " << i;
    }
}

TEST(cluster_slot_map, a_moved_slot_gets_its_new_owner_and_nothing_else_changes) {
    auto const before = parse_ok(three_node_reply());
    node_address const owner{"127.0.0.1", 7009};
    for (std::uint16_t const slot : std::vector<std::uint16_t>{0, 1, 5460, 5461, 9000, 16383}) {
        auto const after = before.with_owner(slot, owner);
        EXPECT_TRUE(after.covers_all()) << slot;
        EXPECT_EQ(*after.primary_for(slot), owner) << slot;
        for (std::uint16_t s : std::vector<std::uint16_t>{0, 1, 5460, 5461, 9000, 10923, 16383}) {
            if (s == slot) continue;
            EXPECT_EQ(*after.primary_for(s), *before.primary_for(s)) << slot << " " << s;
        }
        std::string error;
        std::vector<slot_range> copy(after.ranges().begin(), after.ranges().end());
        EXPECT_TRUE(slot_map::from_ranges(copy, error).has_value()) << error;
    }
    auto const into_gap = parse_ok(array_reply({})).with_owner(42, owner);
    EXPECT_EQ(*into_gap.primary_for(42), owner);
    EXPECT_EQ(into_gap.ranges().size(), 1U);
}

} // namespace
} // namespace idemgate::redis
