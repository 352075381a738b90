// The parsing of sentinel mode's replies: ROLE, get-master-addr-by-name, +switch-master.
#include "idemgate/redis/sentinel_replies.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace idemgate::redis {
namespace {

reply bulk_of(std::string s) {
    return reply{reply_type::bulk_string, 0, std::move(s), {}};
}

reply array_of(std::vector<reply> elements) {
    return reply{reply_type::array, 0, {}, std::move(elements)};
}

TEST(sentinel_replies, role_is_master_only_for_a_master_reply) {
    EXPECT_TRUE(is_master_role(
        array_of({bulk_of("master"), reply{reply_type::integer, 3, {}, {}}, array_of({})})));
    EXPECT_FALSE(is_master_role(array_of({bulk_of("slave"), bulk_of("127.0.0.1")})));
    EXPECT_FALSE(is_master_role(array_of({bulk_of("sentinel"), array_of({})})));
    EXPECT_FALSE(is_master_role(array_of({})));
    EXPECT_FALSE(is_master_role(reply{reply_type::error, 0, "NOPERM", {}}));
    EXPECT_FALSE(is_master_role(bulk_of("master")));
}

TEST(sentinel_replies, master_addr_is_an_ip_and_a_port) {
    EXPECT_EQ(parse_master_addr(array_of({bulk_of("127.0.0.1"), bulk_of("6379")})),
              (node_address{"127.0.0.1", 6379}));
    EXPECT_EQ(parse_master_addr(array_of({bulk_of("::1"), bulk_of("7000")})),
              (node_address{"::1", 7000}));
    EXPECT_FALSE(parse_master_addr(reply{})); // nil: the name is not monitored there
    EXPECT_FALSE(parse_master_addr(reply{reply_type::error, 0, "ERR", {}}));
    EXPECT_FALSE(parse_master_addr(array_of({bulk_of("127.0.0.1")})));
    EXPECT_FALSE(parse_master_addr(array_of({bulk_of("127.0.0.1"), bulk_of("0")})));
    EXPECT_FALSE(parse_master_addr(array_of({bulk_of("127.0.0.1"), bulk_of("65536")})));
    EXPECT_FALSE(parse_master_addr(array_of({bulk_of("127.0.0.1"), bulk_of("63x")})));
    EXPECT_FALSE(parse_master_addr(array_of({bulk_of(""), bulk_of("6379")})));
}

TEST(sentinel_replies, switch_master_names_the_new_address_for_our_master_only) {
    EXPECT_EQ(parse_switch_master("m 127.0.0.1 6379 127.0.0.1 6380", "m"),
              (node_address{"127.0.0.1", 6380}));
    EXPECT_EQ(parse_switch_master("m ::1 6379 ::1 6380", "m"), (node_address{"::1", 6380}));
    EXPECT_FALSE(parse_switch_master("other 127.0.0.1 6379 127.0.0.1 6380", "m"));
    EXPECT_FALSE(parse_switch_master("mm 127.0.0.1 6379 127.0.0.1 6380", "m"));
    EXPECT_FALSE(parse_switch_master("m 127.0.0.1 6379 127.0.0.1", "m"));
    EXPECT_FALSE(parse_switch_master("m 127.0.0.1 6379 127.0.0.1 6380 x", "m"));
    EXPECT_FALSE(parse_switch_master("m 127.0.0.1 6379 127.0.0.1 6380 ", "m"));
    EXPECT_FALSE(parse_switch_master("m  127.0.0.1 6379 127.0.0.1 6380", "m"));
    EXPECT_FALSE(parse_switch_master("m 127.0.0.1 6379 127.0.0.1 port", "m"));
    EXPECT_FALSE(parse_switch_master("", "m"));
}

} // namespace
} // namespace idemgate::redis
