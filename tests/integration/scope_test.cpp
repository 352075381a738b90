// Contract §2 "scope": (API key, connected account, method, path without query, key).
// Each element of the tuple, changed alone, makes an independent operation.
#include "gateway_fixture.hpp"

namespace idemgate::test {
namespace {

class the_scope_of_a_key : public store_gateway_test {
protected:
    /// Sends `a` then `b` (same Idempotency-Key) and says whether `b` was a replay of `a`.
    bool second_is_replay(http_request const& a, http_request const& b) {
        auto const first = send(a);
        auto const second = send(b);
        EXPECT_EQ(first.status, 201U) << first.error << first.body;
        EXPECT_EQ(second.status, 201U) << second.error << second.body;
        return second.header(replay_header) == "true" && second.body == first.body;
    }
};

TEST_P(the_scope_of_a_key, two_api_keys_with_the_same_key_are_independent_operations) {
    start_gateway();
    auto const other = with_header(without_header(protected_post("scope-1"), "Authorization"),
                                   "Authorization", "Bearer sk_test_someone_else");
    EXPECT_FALSE(second_is_replay(protected_post("scope-1"), other));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(the_scope_of_a_key, two_connected_accounts_with_the_same_key_are_independent) {
    start_gateway();
    auto const a = with_header(protected_post("scope-2"), "Chronapilot-Account", "acct_a");
    auto const b = with_header(protected_post("scope-2"), "Chronapilot-Account", "acct_b");
    auto const none = protected_post("scope-2");
    EXPECT_FALSE(second_is_replay(a, b));
    EXPECT_FALSE(send(none).has(replay_header)); // absent account: its own scope
    EXPECT_EQ(upstream_.calls(), 3U);
    EXPECT_EQ(send(a).header(replay_header), "true");
    EXPECT_EQ(upstream_.calls(), 3U);
}

TEST_P(the_scope_of_a_key, the_account_header_name_is_configurable) {
    start_gateway(gateway_config{}.set("idempotency.account_header", "X-Tenant"));
    auto const a = with_header(protected_post("scope-3"), "X-Tenant", "t1");
    auto const b = with_header(protected_post("scope-3"), "X-Tenant", "t2");
    EXPECT_FALSE(second_is_replay(a, b));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(the_scope_of_a_key, two_paths_with_the_same_key_are_independent_operations) {
    start_gateway();
    EXPECT_FALSE(second_is_replay(keyed("POST", "/v1/charges", "scope-4"),
                                  keyed("POST", "/v1/refunds", "scope-4")));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(the_scope_of_a_key, post_and_patch_with_the_same_key_are_independent_operations) {
    start_gateway();
    EXPECT_FALSE(second_is_replay(keyed("POST", "/v1/items/1", "scope-5"),
                                  keyed("PATCH", "/v1/items/1", "scope-5")));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(the_scope_of_a_key, the_query_string_is_not_part_of_the_scope) {
    start_gateway();
    EXPECT_TRUE(second_is_replay(keyed("POST", "/v1/charges?expand=customer", "scope-6"),
                                 keyed("POST", "/v1/charges?expand=invoice", "scope-6")));
    EXPECT_EQ(upstream_.calls(), 1U);
    EXPECT_EQ(upstream_.last_request().target, "/v1/charges?expand=customer");
}

TEST_P(the_scope_of_a_key, the_same_scope_replays_across_connections_and_headers) {
    start_gateway();
    // Other headers (User-Agent, a trace id) are not part of the scope or the fingerprint.
    auto const a = with_header(protected_post("scope-7"), "X-Trace-Id", "t-1");
    auto const b = with_header(protected_post("scope-7"), "User-Agent", "retrying-client/2");
    EXPECT_TRUE(second_is_replay(a, b));
    EXPECT_EQ(upstream_.calls(), 1U);
}

INSTANTIATE_TEST_SUITE_P(stores, the_scope_of_a_key, ::testing::ValuesIn(store_kinds()),
                         store_name);

} // namespace
} // namespace idemgate::test
