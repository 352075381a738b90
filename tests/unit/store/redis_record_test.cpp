// The redis store's string record (redis_record.hpp): what the plain claim and the scripts
// write, read back; anything else refused without reading past the input.
#include "idemgate/store/redis_record.hpp"

#include <gtest/gtest.h>

#include <string>

namespace idemgate::store::redis_record {
namespace {

fingerprint fp(std::uint8_t seed) {
    fingerprint f{};
    for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(seed + i * 37);
    return f;
}

std::string const owner = "0123456789abcdef0123456789abcdef";

TEST(redis_record, a_plain_claim_holds_its_lock_time_and_reads_back) {
    auto const v = encode_claim(fp(1), owner, clock_kind::lock_ms, 30000);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->size(), 1U + 32U + 32U + 1U + 5U);
    EXPECT_EQ((*v)[0], 'p');
    EXPECT_EQ(v->substr(owner_at, owner_size), owner);
    EXPECT_EQ(v->substr(clock_at), "L30000");
    EXPECT_EQ(*v, *claim_prefix(fp(1), owner) + "L30000");
    auto const d = decode(*v);
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->done);
    EXPECT_EQ(d->p.fp, fp(1));
    EXPECT_EQ(d->p.owner, owner);
    EXPECT_EQ(d->p.clock, clock_kind::lock_ms);
    EXPECT_EQ(d->p.value, 30000);
}

TEST(redis_record, a_script_claim_holds_its_created_time) {
    auto const v = encode_claim(fp(2), owner, clock_kind::created_ms, 1764585600123);
    ASSERT_TRUE(v);
    auto const d = decode(*v);
    ASSERT_TRUE(d);
    EXPECT_FALSE(d->done);
    EXPECT_EQ(d->p.clock, clock_kind::created_ms);
    EXPECT_EQ(d->p.value, 1764585600123);
    EXPECT_EQ(d->p.fp, fp(2));
}

TEST(redis_record, a_completed_record_keeps_a_binary_response_intact) {
    std::string response("\0:c\xff:p", 6);
    auto const v = encode_completed(fp(3), 1764585600123, response);
    ASSERT_TRUE(v);
    auto const d = decode(*v);
    ASSERT_TRUE(d);
    EXPECT_TRUE(d->done);
    EXPECT_EQ(d->c.fp, fp(3));
    EXPECT_EQ(d->c.created_ms, 1764585600123);
    EXPECT_EQ(d->c.response, response);
    auto const bytes = encode_completed(fp(3), 0, ""); // decode's views point into it
    ASSERT_TRUE(bytes);
    auto const empty = decode(*bytes);
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->c.created_ms, 0);
    EXPECT_EQ(empty->c.response, "");
}

TEST(redis_record, a_fingerprint_holding_the_separator_does_not_confuse_the_reader) {
    fingerprint f{};
    f.fill(static_cast<std::uint8_t>(':'));
    auto const bytes = encode_completed(f, 42, "r:s"); // decode's views point into it
    ASSERT_TRUE(bytes);
    auto const d = decode(*bytes);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->c.fp, f);
    EXPECT_EQ(d->c.created_ms, 42);
    EXPECT_EQ(d->c.response, "r:s");
}

TEST(redis_record, encoders_refuse_a_wrong_owner_size_and_negative_numbers) {
    EXPECT_FALSE(claim_prefix(fp(1), "short"));
    EXPECT_FALSE(claim_prefix(fp(1), owner + "x"));
    EXPECT_FALSE(encode_claim(fp(1), owner, clock_kind::lock_ms, -1));
    EXPECT_FALSE(encode_completed(fp(1), -5, "x"));
}

TEST(redis_record, every_truncation_of_a_valid_record_is_refused_or_a_shorter_number) {
    auto const claim = *encode_claim(fp(4), owner, clock_kind::created_ms, 1234567);
    for (std::size_t n = 0; n < claim.size(); ++n) {
        auto const d = decode(std::string_view(claim).substr(0, n));
        // Cutting the number's digits leaves a valid, smaller number; anything shorter fails.
        if (n >= clock_at + 2) {
            ASSERT_TRUE(d) << n;
        } else {
            EXPECT_FALSE(d) << n;
        }
    }
    auto const done = *encode_completed(fp(4), 1234567, "resp");
    for (std::size_t n = 0; n < 1 + 32 + 7 + 1; ++n) {
        EXPECT_FALSE(decode(std::string_view(done).substr(0, n))) << n;
    }
}

TEST(redis_record, malformed_values_are_refused) {
    auto const prefix = *claim_prefix(fp(5), owner);
    std::string const fp_bytes(32, 'f');
    std::string const cases[] = {
        "",
        "x",
        "not a record",
        "P" + prefix.substr(1) + "C1",
        prefix + "X1",  // unknown clock tag
        prefix + "C",   // no number
        prefix + "C-1", // sign
        prefix + "C+1",
        prefix + "C1 ", // trailing junk
        prefix + "C12a",
        prefix + "C1234567890123456789", // 19 digits: overflow
        prefix + "L" + std::string(100, '9'),
        "c" + fp_bytes,           // no created, no separator
        "c" + fp_bytes + "123",   // no separator
        "c" + fp_bytes + ":resp", // empty created
        "c" + fp_bytes + "12x:resp",
        "c" + fp_bytes + "-1:resp",
        "c" + fp_bytes + "1234567890123456789:r",
        "c" + std::string(10, 'f'), // truncated fingerprint
        std::string("\0", 1),
    };
    for (auto const& c : cases) EXPECT_FALSE(decode(c)) << c;
}

TEST(redis_record, arbitrary_bytes_never_crash_the_reader) {
    // A cheap deterministic fuzz: every prefix of pseudo-random values starting with p or c.
    std::uint32_t x = 12345;
    for (int round = 0; round < 2000; ++round) {
        std::string v(static_cast<std::size_t>(round % 120), '\0');
        for (auto& ch : v) {
            x = x * 1664525U + 1013904223U;
            ch = static_cast<char>(x >> 24U);
        }
        if (!v.empty()) v[0] = round % 2 == 0 ? 'p' : 'c';
        auto const d = decode(v);
        if (d && d->done) {
            EXPECT_LE(d->c.response.size(), v.size());
        }
    }
}

} // namespace
} // namespace idemgate::store::redis_record
