// `idemgate capacity` options row by row: what each accepts, and the bounds of every number.
#include "idemgate/capacity/plan.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace idemgate::capacity {
namespace {

using namespace std::chrono_literals;
using args = std::vector<std::string>;

args with(args extra) {
    args a{"--rate", "1000", "--body", "2KiB"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

TEST(capacity_options, the_required_two_and_the_defaults) {
    auto const parsed = parse_options(with({}));
    ASSERT_TRUE(std::holds_alternative<plan_input>(parsed)) << std::get<std::string>(parsed);
    auto const& in = std::get<plan_input>(parsed);
    EXPECT_EQ(in.new_keys_per_s, 1000U);
    EXPECT_EQ(in.body_bytes, 2048U);
    EXPECT_EQ(in.ttl, 24h);
    EXPECT_FALSE(in.encryption);
    EXPECT_EQ(in.store, store_kind::redis);
    EXPECT_EQ(in.replays_per_s, 0U);
    EXPECT_EQ(in.passthrough_per_s, 0U);
    EXPECT_EQ(in.primary_memory, std::uint64_t{25} << 30);
    EXPECT_EQ(in.replica_cores, 2U);
}

TEST(capacity_options, every_option_set) {
    auto const parsed =
        parse_options({"--ttl", "1d", "--body", "200", "--encryption", "on", "--store", "memory",
                       "--replay-rate", "5000", "--passthrough-rate", "0", "--primary-memory",
                       "64GiB", "--replica-cores", "4", "--rate", "10000000"});
    ASSERT_TRUE(std::holds_alternative<plan_input>(parsed)) << std::get<std::string>(parsed);
    auto const& in = std::get<plan_input>(parsed);
    EXPECT_EQ(in.new_keys_per_s, 10'000'000U);
    EXPECT_EQ(in.body_bytes, 200U);
    EXPECT_EQ(in.ttl, 24h);
    EXPECT_TRUE(in.encryption);
    EXPECT_EQ(in.store, store_kind::memory);
    EXPECT_EQ(in.replays_per_s, 5000U);
    EXPECT_EQ(in.primary_memory, std::uint64_t{64} << 30);
    EXPECT_EQ(in.replica_cores, 4U);
}

struct bad_row {
    args a;
    std::string says; // a substring of the problem
};

void PrintTo(bad_row const& r, std::ostream* os) {
    for (auto const& s : r.a) *os << s << ' ';
}

class capacity_options_refused : public testing::TestWithParam<bad_row> {};

TEST_P(capacity_options_refused, names_the_problem) {
    auto const parsed = parse_options(GetParam().a);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
    EXPECT_NE(std::get<std::string>(parsed).find(GetParam().says), std::string::npos)
        << std::get<std::string>(parsed);
}

INSTANTIATE_TEST_SUITE_P(
    rows, capacity_options_refused,
    testing::Values(
        bad_row{{}, "--rate and --body are required"},
        bad_row{{"--rate", "1"}, "--rate and --body are required"},
        bad_row{{"--body", "1"}, "--rate and --body are required"},
        bad_row{with({"--verbose"}), "unknown option \"--verbose\""},
        bad_row{with({"--ttl"}), "--ttl needs a value"},
        bad_row{with({"--rate", "5"}), "--rate given twice"},
        bad_row{{"--rate", "0", "--body", "1"}, "--rate: expected"},
        bad_row{{"--rate", "10000001", "--body", "1"}, "--rate: expected"},
        bad_row{{"--rate", "-1", "--body", "1"}, "--rate: expected"},
        bad_row{{"--rate", "+1", "--body", "1"}, "--rate: expected"},
        bad_row{{"--rate", "1e3", "--body", "1"}, "--rate: expected"},
        bad_row{{"--rate", "1k", "--body", "1"}, "--rate: expected"},
        bad_row{{"--rate", "", "--body", "1"}, "--rate: expected"},
        bad_row{{"--rate", "99999999999999999999999", "--body", "1"}, "--rate: expected"},
        bad_row{{"--rate", "1", "--body", "2 KiB"}, "--body: expected"},
        bad_row{{"--rate", "1", "--body", "2kib"}, "--body: expected"},
        bad_row{{"--rate", "1", "--body", "-1"}, "--body: expected"},
        bad_row{{"--rate", "1", "--body", "513MiB"}, "--body: expected"},
        bad_row{{"--rate", "1", "--body", "99999999999999999999GiB"}, "--body: expected"},
        bad_row{with({"--ttl", "999ms"}), "--ttl: expected"},
        bad_row{with({"--ttl", "31d"}), "--ttl: expected"},
        bad_row{with({"--ttl", "86400"}), "--ttl: expected"}, // a bare number is ambiguous
        bad_row{with({"--ttl", "forever"}), "--ttl: expected"},
        bad_row{with({"--encryption", "yes"}), "--encryption: expected on or off"},
        bad_row{with({"--store", "sqlite"}), "--store: expected redis or memory"},
        bad_row{with({"--replay-rate", "10000001"}), "--replay-rate: expected"},
        bad_row{with({"--replay-rate", "x"}), "--replay-rate: expected"},
        bad_row{with({"--passthrough-rate", "-5"}), "--passthrough-rate: expected"},
        bad_row{with({"--primary-memory", "255MiB"}), "--primary-memory: expected"},
        bad_row{with({"--primary-memory", "5TiB"}), "--primary-memory: expected"},
        bad_row{with({"--replica-cores", "0"}), "--replica-cores: expected"},
        bad_row{with({"--replica-cores", "257"}), "--replica-cores: expected"}));

TEST(capacity_command, prints_the_plan_and_exits_0) {
    std::ostringstream out, err;
    EXPECT_EQ(run_command({"--rate", "1000", "--body", "2KiB", "--ttl", "24h"}, out, err), 0);
    EXPECT_TRUE(err.str().empty()) << err.str();
    EXPECT_NE(out.str().find("records held"), std::string::npos) << out.str();
    EXPECT_NE(out.str().find("86,400,000"), std::string::npos) << out.str();
}

TEST(capacity_command, a_bad_option_exits_2_with_the_problem_and_the_usage) {
    std::ostringstream out, err;
    EXPECT_EQ(run_command({"--rate", "0", "--body", "2KiB"}, out, err), 2);
    EXPECT_TRUE(out.str().empty()) << out.str();
    EXPECT_NE(err.str().find("idemgate capacity: --rate: expected"), std::string::npos)
        << err.str();
    EXPECT_NE(err.str().find("usage: idemgate capacity"), std::string::npos) << err.str();
}

TEST(capacity_command, help_prints_the_usage_and_exits_0) {
    std::ostringstream out, err;
    EXPECT_EQ(run_command({"--help"}, out, err), 0);
    EXPECT_NE(out.str().find("--primary-memory"), std::string::npos) << out.str();
}

} // namespace
} // namespace idemgate::capacity
