#include "idemgate/redis/resp.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace idemgate::redis {
namespace {

using namespace std::string_literals;

reply str(reply_type t, std::string s) {
    reply r;
    r.type = t;
    r.str = std::move(s);
    return r;
}

reply integer(std::int64_t v) {
    reply r;
    r.type = reply_type::integer;
    r.integer = v;
    return r;
}

reply array(std::vector<reply> elements) {
    reply r;
    r.type = reply_type::array;
    r.elements = std::move(elements);
    return r;
}

/// Every reply in `bytes`, fed in the given pieces.
std::vector<reply> parse_all(std::vector<std::string_view> const& pieces) {
    reply_parser p;
    std::vector<reply> out;
    for (auto const piece : pieces) {
        EXPECT_TRUE(p.feed(piece));
        while (auto r = p.next()) out.push_back(std::move(*r));
    }
    EXPECT_FALSE(p.failed()) << p.error();
    return out;
}

// Replies of every RESP2 type, a nested array, a nil array, an empty and a binary bulk string.
std::string const stream = "+OK\r\n"
                           "-NOSCRIPT No matching script\r\n"
                           ":-42\r\n"
                           "$-1\r\n"
                           "$0\r\n\r\n"
                           "$6\r\na\r\n\0\xff\x01\r\n"s
                           "*3\r\n$8\r\nacquired\r\n:1700000000123\r\n*2\r\n*0\r\n$1\r\nx\r\n"
                           "*-1\r\n";

std::vector<reply> const expected{
    str(reply_type::simple_string, "OK"),
    str(reply_type::error, "NOSCRIPT No matching script"),
    integer(-42),
    reply{},
    str(reply_type::bulk_string, ""),
    str(reply_type::bulk_string, "a\r\n\0\xff\x01"s),
    array({str(reply_type::bulk_string, "acquired"), integer(1700000000123),
           array({array({}), str(reply_type::bulk_string, "x")})}),
    reply{},
};

TEST(resp, every_reply_type_converts_to_our_value_type) {
    EXPECT_EQ(parse_all({stream}), expected);
}

TEST(resp, input_split_at_any_byte_gives_the_same_replies) {
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        std::string_view const all(stream);
        EXPECT_EQ(parse_all({all.substr(0, cut), all.substr(cut)}), expected) << "cut " << cut;
    }
}

TEST(resp, input_fed_one_byte_at_a_time_gives_the_same_replies) {
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < stream.size(); ++i)
        bytes.push_back(std::string_view(stream).substr(i, 1));
    EXPECT_EQ(parse_all(bytes), expected);
}

TEST(resp, an_incomplete_reply_is_not_returned_until_its_last_byte) {
    reply_parser p;
    ASSERT_TRUE(p.feed("*2\r\n$3\r\nfoo\r\n$3\r\nba"));
    EXPECT_FALSE(p.next().has_value());
    EXPECT_FALSE(p.failed());
    ASSERT_TRUE(p.feed("r\r\n"));
    auto const r = p.next();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r,
              array({str(reply_type::bulk_string, "foo"), str(reply_type::bulk_string, "bar")}));
}

TEST(resp, a_protocol_error_fails_the_parser_until_reset) {
    reply_parser p;
    p.feed("?what\r\n");
    EXPECT_FALSE(p.next().has_value());
    EXPECT_TRUE(p.failed());
    EXPECT_FALSE(p.error().empty());
    EXPECT_FALSE(p.feed("+OK\r\n"));
    p.reset();
    EXPECT_FALSE(p.failed());
    ASSERT_TRUE(p.feed("+OK\r\n"));
    EXPECT_EQ(p.next(), str(reply_type::simple_string, "OK"));
}

TEST(resp, an_array_longer_than_any_reply_of_ours_fails_the_parser_at_its_count) {
    // hiredis allocates the element pointers from the count before any element arrives:
    // this one asked for 9.9 GB (tests/fuzz/corpus/resp/oom_huge_array_count).
    for (auto const* count : {"*1244421244\r\n", "*1048577\r\n"}) {
        reply_parser p;
        p.feed(count);
        EXPECT_FALSE(p.next().has_value()) << count;
        EXPECT_TRUE(p.failed()) << count;
    }
    reply_parser p;
    ASSERT_TRUE(p.feed("*1048576\r\n")); // the bound itself is taken: waits for elements
    EXPECT_FALSE(p.next().has_value());
    EXPECT_FALSE(p.failed());
}

TEST(resp, a_command_is_formatted_binary_safe) {
    auto const value = "v\r\n\0"s;
    command const c{"SET", "k", value};
    ASSERT_TRUE(c.valid());
    EXPECT_EQ(c.bytes(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\nv\r\n\0\r\n"s);
}

TEST(resp, a_command_without_arguments_is_not_valid) {
    std::vector<std::string_view> const none;
    command const c(none);
    EXPECT_FALSE(c.valid());
    EXPECT_TRUE(c.bytes().empty());
}

} // namespace
} // namespace idemgate::redis
