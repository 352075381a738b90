#include "idemgate/redis/server_checks.hpp"

#include <gtest/gtest.h>

namespace idemgate::redis {
namespace {

reply config_reply(std::string name, std::string value) {
    reply r;
    r.type = reply_type::array;
    r.elements.resize(2);
    r.elements[0].type = reply_type::bulk_string;
    r.elements[0].str = std::move(name);
    r.elements[1].type = reply_type::bulk_string;
    r.elements[1].str = std::move(value);
    return r;
}

TEST(server_checks, config_value_reads_the_second_element_of_config_get) {
    EXPECT_EQ(config_value(config_reply("appendonly", "yes")), "yes");
}

TEST(server_checks, a_refused_or_empty_config_get_has_no_value) {
    reply refused;
    refused.type = reply_type::error;
    refused.str = "ERR unknown command 'CONFIG'";
    EXPECT_FALSE(config_value(refused).has_value());
    reply empty;
    empty.type = reply_type::array;
    EXPECT_FALSE(config_value(empty).has_value());
}

TEST(server_checks, a_safe_server_gets_no_warning) {
    EXPECT_TRUE(config_warnings("noeviction", "yes").empty());
}

TEST(server_checks, an_evicting_policy_and_appendonly_off_each_get_a_warning) {
    auto const w = config_warnings("volatile-lru", "no");
    ASSERT_EQ(w.size(), 2U);
    EXPECT_NE(w[0].find("volatile-lru"), std::string::npos);
    EXPECT_NE(w[0].find("noeviction"), std::string::npos);
    EXPECT_NE(w[1].find("appendonly"), std::string::npos);
}

TEST(server_checks, unknown_settings_are_not_reported) {
    EXPECT_TRUE(config_warnings(std::nullopt, std::nullopt).empty());
    EXPECT_EQ(config_warnings(std::nullopt, "no").size(), 1U);
}

} // namespace
} // namespace idemgate::redis
