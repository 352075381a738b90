#include "idemgate/redis/redis_url.hpp"

#include <gtest/gtest.h>

namespace idemgate::redis {
namespace {

redis_url parse_ok(std::string_view text) {
    std::string error;
    auto u = parse_redis_url(text, error);
    EXPECT_TRUE(u.has_value()) << text << ": " << error;
    return u.value_or(redis_url{});
}

std::string parse_error(std::string_view text) {
    std::string error;
    auto const u = parse_redis_url(text, error);
    EXPECT_FALSE(u.has_value()) << text;
    return error;
}

TEST(redis_url, a_bare_host_gets_the_default_port_database_zero_and_no_credentials) {
    auto const u = parse_ok("redis://cache.internal");
    EXPECT_FALSE(u.tls);
    EXPECT_EQ(u.host, "cache.internal");
    EXPECT_EQ(u.port, 6379);
    EXPECT_EQ(u.db, 0U);
    EXPECT_TRUE(u.user.empty());
    EXPECT_TRUE(u.password.empty());
}

TEST(redis_url, port_and_database_are_read) {
    auto const u = parse_ok("redis://127.0.0.1:6380/3");
    EXPECT_EQ(u.host, "127.0.0.1");
    EXPECT_EQ(u.port, 6380);
    EXPECT_EQ(u.db, 3U);
}

TEST(redis_url, rediss_selects_tls) {
    auto const u = parse_ok("rediss://redis.example.com:6390");
    EXPECT_TRUE(u.tls);
    EXPECT_EQ(u.port, 6390);
}

TEST(redis_url, user_and_password_are_split_at_the_first_colon_and_percent_decoded) {
    auto const u = parse_ok("redis://alice:p%40ss:w%2Frd@host/1");
    EXPECT_EQ(u.user, "alice");
    EXPECT_EQ(u.password, "p@ss:w/rd");
    EXPECT_EQ(u.host, "host");
    EXPECT_EQ(u.db, 1U);
}

TEST(redis_url, an_empty_user_means_password_only_auth) {
    auto const u = parse_ok("redis://:secret@host");
    EXPECT_TRUE(u.user.empty());
    EXPECT_EQ(u.password, "secret");
}

TEST(redis_url, userinfo_without_a_colon_is_the_password) {
    auto const u = parse_ok("redis://secret@host");
    EXPECT_TRUE(u.user.empty());
    EXPECT_EQ(u.password, "secret");
}

TEST(redis_url, an_unescaped_at_sign_in_the_password_is_kept) {
    auto const u = parse_ok("redis://bob:a@b@host:7000");
    EXPECT_EQ(u.user, "bob");
    EXPECT_EQ(u.password, "a@b");
    EXPECT_EQ(u.host, "host");
    EXPECT_EQ(u.port, 7000);
}

TEST(redis_url, an_ipv6_address_in_brackets_is_read_without_them) {
    auto const u = parse_ok("redis://[::1]:6400/2");
    EXPECT_EQ(u.host, "::1");
    EXPECT_EQ(u.port, 6400);
    EXPECT_EQ(endpoint_of(u), "[::1]:6400");
}

TEST(redis_url, a_trailing_slash_means_database_zero) {
    EXPECT_EQ(parse_ok("redis://host/").db, 0U);
}

TEST(redis_url, endpoint_never_shows_credentials) {
    auto const u = parse_ok("redis://alice:hunter2@host:1234");
    EXPECT_EQ(endpoint_of(u), "host:1234");
}

TEST(redis_url, malformed_urls_are_rejected_with_a_reason_that_never_repeats_the_password) {
    for (auto const* bad :
         {"http://host", "redis:/host", "redis://", "redis://:pw@", "redis://host:0",
          "redis://host:65536", "redis://host:port", "redis://host:", "redis://host/x",
          "redis://host/-1", "redis://host/1/2", "redis://host?db=1", "redis://[::1",
          "redis://[::1]x", "redis://u:p%zz@host", "redis://u:p%4@host"}) {
        auto const error = parse_error(bad);
        EXPECT_FALSE(error.empty()) << bad;
        EXPECT_EQ(error.find("p%"), std::string::npos) << error;
    }
}

} // namespace
} // namespace idemgate::redis
