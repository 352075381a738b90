// routes (docs/configuration.md "Routes"): which policy a request path gets. Pure: a
// route_table built from a config, asked row by row.
#include "idemgate/engine/routes.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace idemgate::engine {
namespace {

using namespace std::chrono_literals;

config::config with_routes(std::vector<std::string> const& matches) {
    config::config cfg;
    for (auto const& m : matches) {
        config::route_config r;
        r.match = m;
        cfg.routes.push_back(r);
    }
    return cfg;
}

/// Each row: the routes' matches, a request target, and the label of the route it gets.
struct match_row {
    std::string name;
    std::vector<std::string> matches;
    std::string target;
    std::string label;
};

class route_match : public testing::TestWithParam<match_row> {};

TEST_P(route_match, finds_the_longest_match_on_segment_boundaries) {
    auto const& row = GetParam();
    route_table const table(with_routes(row.matches));
    EXPECT_EQ(table.at(table.find(row.target)).label, row.label) << row.target;
}

std::vector<std::string> const api{"/v1/payments", "/v1/payments/refunds", "/v1", "/v2/"};

INSTANTIATE_TEST_SUITE_P(
    rows, route_match,
    testing::Values(
        match_row{"no_routes", {}, "/v1/payments", "default"},
        match_row{"exact", api, "/v1/payments", "/v1/payments"},
        match_row{"below", api, "/v1/payments/pay_123", "/v1/payments"},
        match_row{"below_deep", api, "/v1/payments/pay_123/capture", "/v1/payments"},
        match_row{"longest_wins", api, "/v1/payments/refunds/re_1", "/v1/payments/refunds"},
        match_row{"longest_wins_exact", api, "/v1/payments/refunds", "/v1/payments/refunds"},
        match_row{"segment_boundary", api, "/v1/paymentsx", "/v1"},
        match_row{"segment_boundary_deeper", api, "/v1/payments/refundsx", "/v1/payments"},
        match_row{"shorter_route", api, "/v1/customers", "/v1"},
        match_row{"no_match", api, "/v3/payments", "default"},
        match_row{"prefix_of_a_segment_no_match", api, "/v", "default"},
        match_row{"root_path_no_root_route", api, "/", "default"},
        match_row{"trailing_slash_in_path", api, "/v1/payments/", "/v1/payments"},
        match_row{"trailing_slash_in_match", api, "/v2/orders", "/v2"},
        match_row{"trailing_slash_in_match_exact", api, "/v2", "/v2"},
        match_row{"query_ignored", api, "/v1/payments?x=/v1/payments/refunds", "/v1/payments"},
        match_row{"query_right_after_match", api, "/v1/paymentsx?a", "/v1"},
        match_row{"query_on_exact", api, "/v2?page=2", "/v2"},
        match_row{"root_route_catches_the_rest", {"/", "/v1"}, "/health", "/"},
        match_row{"root_route_on_root", {"/", "/v1"}, "/", "/"},
        match_row{"root_route_loses_to_longer", {"/", "/v1"}, "/v1/x", "/v1"},
        match_row{"root_route_alone", {"/"}, "/anything/at/all?q", "/"},
        match_row{"case_sensitive", api, "/V1/payments", "default"},
        match_row{"escape_in_match", {"/files/a%20b"}, "/files/a%20b/c", "/files/a%20b"},
        match_row{"longer_than_every_match", {"/a"}, "/" + std::string(10000, 'a'), "default"},
        match_row{"deeper_than_every_match", {"/a/b"}, "/a/b/c/d/e/f/g/h", "/a/b"},
        match_row{"many_segments", {"/a"}, "/a" + std::string(5000, '/'), "/a"}),
    [](testing::TestParamInfo<match_row> const& row) { return row.param.name; });

TEST(route_table, index_zero_is_the_global_policy_and_each_route_follows_in_order) {
    auto cfg = with_routes({"/a/", "/b"});
    cfg.routes[1].enabled = false;
    cfg.routes[0].ttl = 72h;
    cfg.idempotency.ttl = 2h;
    route_table const table(cfg);
    ASSERT_EQ(table.size(), 3u);
    EXPECT_EQ(table.labels(), (std::vector<std::string>{"default", "/a", "/b"}));
    EXPECT_EQ(table.at(0).policy.ttl, 2h);
    EXPECT_EQ(table.at(1).policy.ttl, 72h);
    EXPECT_EQ(table.at(2).policy.ttl, 2h); // inherited
    EXPECT_TRUE(table.at(1).enabled);
    EXPECT_FALSE(table.at(2).enabled);
    EXPECT_EQ(table.find("/a/x"), 1u);
    EXPECT_EQ(table.find("/b"), 2u);
    EXPECT_EQ(table.find("/c"), 0u);
}

} // namespace
} // namespace idemgate::engine
