#include "idemgate/config/units.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <string>

namespace idemgate::config {
namespace {

using namespace std::chrono_literals;

struct duration_row {
    std::string text;
    std::optional<duration> expected;
};

void PrintTo(duration_row const& row, std::ostream* os) {
    *os << '"' << row.text << '"';
}

class parse_duration_table : public testing::TestWithParam<duration_row> {};

TEST_P(parse_duration_table, gives_the_expected_value_or_nothing) {
    auto const& row = GetParam();
    EXPECT_EQ(parse_duration(row.text), row.expected) << "input: \"" << row.text << "\"";
}

INSTANTIATE_TEST_SUITE_P(
    durations, parse_duration_table,
    testing::Values(duration_row{"500ms", 500ms}, duration_row{"60s", 60s},
                    duration_row{"5m", 5min}, duration_row{"24h", 24h}, duration_row{"1d", 24h},
                    duration_row{"0s", 0ms}, duration_row{"007s", 7s},
                    duration_row{"1500ms", 1500ms},
                    // a plain integer is ambiguous (seconds or milliseconds?)
                    duration_row{"60", std::nullopt}, duration_row{"", std::nullopt},
                    duration_row{"s", std::nullopt}, duration_row{"-1s", std::nullopt},
                    duration_row{"+1s", std::nullopt}, duration_row{"1.5s", std::nullopt},
                    duration_row{" 1s", std::nullopt}, duration_row{"1s ", std::nullopt},
                    duration_row{"1 s", std::nullopt}, duration_row{"1S", std::nullopt},
                    duration_row{"1sec", std::nullopt}, duration_row{"1us", std::nullopt},
                    duration_row{"1h30m", std::nullopt}, duration_row{"1w", std::nullopt},
                    // overflow of the millisecond count, in the digits and in the multiplication
                    duration_row{"9223372036854775807ms",
                                 duration{std::numeric_limits<duration::rep>::max()}},
                    duration_row{"9223372036854775808ms", std::nullopt},
                    duration_row{"99999999999999999999999s", std::nullopt},
                    duration_row{"9223372036854776s", std::nullopt},
                    duration_row{"106751991167d", duration{106751991167LL * 86'400'000}},
                    duration_row{"106751991168d", std::nullopt}));

struct size_row {
    std::string text;
    std::optional<std::uint64_t> expected;
};

void PrintTo(size_row const& row, std::ostream* os) {
    *os << '"' << row.text << '"';
}

class parse_byte_size_table : public testing::TestWithParam<size_row> {};

TEST_P(parse_byte_size_table, gives_the_expected_value_or_nothing) {
    auto const& row = GetParam();
    auto const parsed = parse_byte_size(row.text);
    ASSERT_EQ(parsed.has_value(), row.expected.has_value()) << "input: \"" << row.text << "\"";
    if (parsed) {
        EXPECT_EQ(parsed->bytes, *row.expected) << "input: \"" << row.text << "\"";
    }
}

constexpr std::uint64_t ki = 1024;

INSTANTIATE_TEST_SUITE_P(
    sizes, parse_byte_size_table,
    testing::Values(size_row{"4MiB", 4 * ki* ki}, size_row{"512KiB", 512 * ki},
                    size_row{"1GiB", ki* ki* ki}, size_row{"100B", 100}, size_row{"1000", 1000},
                    size_row{"0", 0}, size_row{"10MB", 10'000'000}, size_row{"2KB", 2000},
                    size_row{"3GB", 3'000'000'000}, size_row{"", std::nullopt},
                    size_row{"MiB", std::nullopt}, size_row{"4 MiB", std::nullopt},
                    size_row{"4mib", std::nullopt}, size_row{"4M", std::nullopt},
                    size_row{"4K", std::nullopt}, size_row{"-4MiB", std::nullopt},
                    size_row{"1.5MiB", std::nullopt}, size_row{"4TiB", std::nullopt},
                    size_row{"18446744073709551615", std::numeric_limits<std::uint64_t>::max()},
                    size_row{"18446744073709551616", std::nullopt},
                    size_row{"17179869184GiB", std::nullopt},
                    size_row{"18446744073709551615KB", std::nullopt}));

TEST(format_duration, uses_the_largest_unit_that_divides_exactly) {
    EXPECT_EQ(format_duration(1500ms), "1500ms");
    EXPECT_EQ(format_duration(60s), "1m");
    EXPECT_EQ(format_duration(90s), "90s");
    EXPECT_EQ(format_duration(24h), "1d");
    EXPECT_EQ(format_duration(25h), "25h");
    EXPECT_EQ(format_duration(0ms), "0s");
    EXPECT_EQ(format_duration(-2s), "-2s");
}

TEST(format_byte_size, prefers_binary_units_then_si_then_bytes) {
    EXPECT_EQ(format_byte_size(byte_size{4 * ki * ki}), "4MiB");
    EXPECT_EQ(format_byte_size(byte_size{3072}), "3KiB");
    EXPECT_EQ(format_byte_size(byte_size{1536}), "1536B"); // 1.5KiB: no exact unit
    EXPECT_EQ(format_byte_size(byte_size{10'000'000}), "10MB");
    EXPECT_EQ(format_byte_size(byte_size{1001}), "1001B");
    EXPECT_EQ(format_byte_size(byte_size{0}), "0B");
}

TEST(units, format_then_parse_gives_the_same_value_back) {
    for (duration const d :
         {duration{1ms}, duration{999ms}, duration{1s}, duration{61s}, duration{1min},
          duration{90min}, duration{1h}, duration{48h}, duration{36h}}) {
        EXPECT_EQ(parse_duration(format_duration(d)), d) << d.count();
    }
    for (std::uint64_t const b :
         {1ULL, 1023ULL, 1024ULL, 1000ULL, 5ULL * ki * ki * ki, 123456789ULL}) {
        EXPECT_EQ(parse_byte_size(format_byte_size(byte_size{b})), byte_size{b}) << b;
    }
}

} // namespace
} // namespace idemgate::config
