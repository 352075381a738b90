// The binary record layout: round trips, a pinned layout, and robust decoding of bad input.
#include "idemgate/store/record_codec.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace idemgate::store {
namespace {

std::string all_bytes() {
    std::string s;
    for (int c = 0; c < 256; ++c) s.push_back(static_cast<char>(c));
    return s;
}

record completed_record() {
    record r;
    r.state = record_state::completed;
    for (std::size_t i = 0; i < r.fp.size(); ++i) r.fp[i] = static_cast<std::uint8_t>(i * 7);
    r.owner = "0123456789abcdef0123456789abcdef";
    r.created_ms = 1'700'000'000'123;
    r.response.status = 201;
    r.response.headers = {{"Content-Type", "application/json"},
                          {"Set-Cookie", "a=1"},
                          {"Set-Cookie", "b=2"},
                          {"X-Empty", ""}};
    r.response.body = R"({"id":"evt_1"})";
    return r;
}

void expect_round_trip(record const& r) {
    auto const decoded = decode(encode(r));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, r);
}

TEST(record_codec, round_trips_a_default_in_progress_record) {
    expect_round_trip(record{});
}

TEST(record_codec, round_trips_an_in_progress_record_with_owner) {
    record r;
    r.fp.fill(0xFF);
    r.owner = "owner-token";
    r.created_ms = 42;
    expect_round_trip(r);
}

TEST(record_codec, round_trips_a_completed_record) {
    expect_round_trip(completed_record());
}

TEST(record_codec, round_trips_binary_bytes_everywhere) {
    record r = completed_record();
    r.owner = all_bytes();
    r.response.headers = {{all_bytes(), all_bytes()}, {std::string(1, '\0'), "\xff"}};
    r.response.body = all_bytes() + all_bytes();
    expect_round_trip(r);
}

TEST(record_codec, round_trips_empty_and_large_bodies) {
    record r = completed_record();
    r.response.body.clear();
    r.response.headers.clear();
    expect_round_trip(r);
    r.response.body = std::string(5 * 1024 * 1024 + 3, '\x5a');
    expect_round_trip(r);
}

TEST(record_codec, round_trips_an_omitted_body_flag_and_extreme_values) {
    record r = completed_record();
    r.response.body_omitted = true;
    r.response.body.clear();
    r.response.status = 999;
    r.created_ms = std::numeric_limits<std::int64_t>::min();
    expect_round_trip(r);
    r.created_ms = std::numeric_limits<std::int64_t>::max();
    expect_round_trip(r);
    r.created_ms = -1;
    expect_round_trip(r);
}

TEST(record_codec, writes_the_documented_layout) {
    record r;
    r.state = record_state::completed;
    r.fp.fill(0xAB);
    r.owner = "o1";
    r.created_ms = 0x0102030405060708;
    r.response.status = 201;
    r.response.headers = {{"A", "b"}};
    r.response.body = "xy";
    std::string expected = "I\x01\x02";
    expected += std::string(32, '\xab');
    expected += std::string("\x02\x00\x00\x00o1", 6);
    expected += "\x08\x07\x06\x05\x04\x03\x02\x01";
    expected += std::string("\xc9\x00\x00", 3);     // 201, not omitted
    expected += std::string("\x01\x00\x00\x00", 4); // one header
    expected += std::string("\x01\x00\x00\x00"
                            "A\x01\x00\x00\x00"
                            "b",
                            10);
    expected += std::string("\x02\x00\x00\x00xy", 6);
    EXPECT_EQ(encode(r), expected);
}

TEST(record_codec, rejects_every_truncation_of_a_valid_encoding) {
    std::string const full = encode(completed_record());
    ASSERT_TRUE(decode(full).has_value());
    for (std::size_t n = 0; n < full.size(); ++n) {
        EXPECT_FALSE(decode(std::string_view(full).substr(0, n)).has_value()) << n << " bytes";
    }
}

TEST(record_codec, rejects_trailing_bytes) {
    EXPECT_FALSE(decode(encode(completed_record()) + '\0').has_value());
}

TEST(record_codec, rejects_unknown_magic_version_state_and_flag) {
    std::string const good = encode(completed_record());
    auto with_byte = [&good](std::size_t at, char value) {
        std::string bad = good;
        bad[at] = value;
        return bad;
    };
    EXPECT_FALSE(decode(with_byte(0, 'J')).has_value());    // magic
    EXPECT_FALSE(decode(with_byte(1, '\x02')).has_value()); // version
    EXPECT_FALSE(decode(with_byte(1, '\x00')).has_value());
    EXPECT_FALSE(decode(with_byte(2, '\x00')).has_value()); // state
    EXPECT_FALSE(decode(with_byte(2, '\x03')).has_value());
    std::size_t const flag_at = 3 + 32 + 4 + completed_record().owner.size() + 8 + 2;
    EXPECT_TRUE(decode(with_byte(flag_at, '\x01')).has_value());
    EXPECT_FALSE(decode(with_byte(flag_at, '\x02')).has_value());
}

TEST(record_codec, rejects_lengths_beyond_the_buffer) {
    record r;
    r.owner = "abc";
    std::string const good = encode(r);
    std::size_t const owner_len_at = 3 + 32;
    for (char const byte : {'\x04', '\xff'}) {
        std::string bad = good;
        bad[owner_len_at + 3] = byte; // owner length's high byte
        EXPECT_FALSE(decode(bad).has_value());
    }
    std::string huge_count = good;
    std::size_t const count_at = owner_len_at + 4 + 3 + 8 + 2 + 1;
    huge_count.replace(count_at, 4, "\xff\xff\xff\xff");
    EXPECT_FALSE(decode(huge_count).has_value());
}

TEST(record_codec, survives_any_single_corrupted_byte) {
    // Under ASan/UBSan this proves no read past the input whatever a byte says.
    std::string const good = encode(completed_record());
    std::size_t decoded = 0;
    for (std::size_t at = 0; at < good.size(); ++at) {
        for (int const value : {0x00, 0x01, 0x7F, 0x80, 0xFF}) {
            std::string bad = good;
            bad[at] = static_cast<char>(value);
            if (decode(bad).has_value()) ++decoded;
        }
    }
    // Corrupting a fingerprint, owner, header or body byte keeps a well-formed record.
    EXPECT_GT(decoded, 0U);
    EXPECT_LT(decoded, good.size() * 5);
}

} // namespace
} // namespace idemgate::store
