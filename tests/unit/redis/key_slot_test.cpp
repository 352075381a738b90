#include "idemgate/redis/key_slot.hpp"

#include "support/redis_server.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace idemgate::redis {
namespace {

TEST(key_slot, crc16_is_xmodem_as_the_cluster_spec_checks_it) {
    // The spec's reference: CRC16 of "123456789" is 0x31C3.
    EXPECT_EQ(crc16("123456789"), 0x31C3);
    EXPECT_EQ(crc16(""), 0);
}

TEST(key_slot, known_keys_map_to_the_slots_redis_gives_them) {
    EXPECT_EQ(slot_of("foo"), 12182);
    EXPECT_EQ(slot_of("bar"), 5061);
    EXPECT_EQ(slot_of(""), 0);
}

TEST(key_slot, keys_with_the_same_hash_tag_share_a_slot) {
    EXPECT_EQ(slot_of("{user1000}.following"), slot_of("{user1000}.followers"));
    EXPECT_EQ(slot_of("{user1000}.following"), slot_of("user1000"));
}

TEST(key_slot, an_empty_tag_hashes_the_whole_key) {
    EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}");
    EXPECT_EQ(slot_of("foo{}{bar}"), crc16("foo{}{bar}") % cluster_slots);
}

TEST(key_slot, the_tag_ends_at_the_first_closing_brace_after_the_first_opening_one) {
    EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");
    EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
    EXPECT_EQ(hash_tag("foo}{bar}"), "bar");
}

TEST(key_slot, an_unclosed_brace_hashes_the_whole_key) {
    EXPECT_EQ(hash_tag("foo{bar"), "foo{bar");
    EXPECT_EQ(hash_tag("}{"), "}{");
}

TEST(key_slot, binary_keys_are_hashed_byte_for_byte) {
    std::string const key("a\0b\xff", 4);
    EXPECT_EQ(hash_tag(key).size(), 4U);
    EXPECT_LT(slot_of(key), cluster_slots);
}

TEST(key_slot, every_key_agrees_with_cluster_keyslot_of_a_real_cluster_enabled_server) {
    // A lone cluster-enabled node answers CLUSTER KEYSLOT without owning any slot.
    test::redis_server server({"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"});
    std::vector<std::string> keys{"foo",
                                  "bar",
                                  "",
                                  "{user1000}.following",
                                  "foo{}{bar}",
                                  "foo{{bar}}zap",
                                  "foo{bar}{zap}",
                                  "{",
                                  "}",
                                  "{}",
                                  "idemgate:rec:tenant-a:POST:/orders:k-1",
                                  "idemgate:{tenant-b}:k",
                                  std::string("bin\0\xfe\x80", 6)};
    for (int i = 0; i < 200; ++i) keys.push_back("key:" + std::to_string(i * 7919));
    for (auto const& key : keys) {
        auto const reply = server.command({"CLUSTER", "KEYSLOT", key});
        ASSERT_EQ(reply.type, reply_type::integer) << reply.str;
        EXPECT_EQ(slot_of(key), reply.integer) << key;
    }
}

} // namespace
} // namespace idemgate::redis
