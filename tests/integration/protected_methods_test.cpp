// Contract §1, the table "which requests are protected", one test per row, as a client and
// the upstream observe it.
#include "gateway_fixture.hpp"

namespace idemgate::test {
namespace {

class which_requests_are_protected : public gateway_test {};

TEST_F(which_requests_are_protected, a_post_with_a_key_runs_once_and_its_retry_is_replayed) {
    start_gateway();
    auto const first = send(protected_post("order-1"));
    auto const second = send(protected_post("order-1"));
    EXPECT_EQ(first.status, 201U) << first.error;
    expect_replay_of(first, second);
    EXPECT_EQ(second.header("X-Upstream-Call"), "1"); // stored headers come back too
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(which_requests_are_protected, a_patch_with_a_key_runs_once_and_its_retry_is_replayed) {
    start_gateway();
    auto const first = send(keyed("PATCH", "/v1/customers/cus_1", "patch-1"));
    auto const second = send(keyed("PATCH", "/v1/customers/cus_1", "patch-1"));
    EXPECT_EQ(first.status, 201U) << first.error;
    expect_replay_of(first, second);
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(which_requests_are_protected, a_post_without_a_key_passes_through_on_every_call) {
    start_gateway();
    auto const req = without_header(protected_post("unused"), "Idempotency-Key");
    auto const first = send(req);
    auto const second = send(req);
    EXPECT_EQ(first.status, 201U) << first.error;
    EXPECT_EQ(second.status, 201U) << second.error;
    EXPECT_NE(first.body, second.body);
    EXPECT_FALSE(second.has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_F(which_requests_are_protected,
       missing_key_reject_answers_400_key_required_upstream_untouched) {
    start_gateway(gateway_config{}.set("idempotency.missing_key", "reject"));
    auto const res = send(without_header(protected_post("unused"), "Idempotency-Key"));
    expect_error(res, 400, "idempotency_key_required");
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_F(which_requests_are_protected, missing_key_reject_still_forwards_unprotected_methods) {
    start_gateway(gateway_config{}.set("idempotency.missing_key", "reject"));
    http_request get{"GET", "/v1/charges", {{"Authorization", "Bearer k"}}, {}};
    EXPECT_EQ(send(get).status, 201U);
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(which_requests_are_protected, other_methods_with_a_key_are_forwarded_every_time) {
    start_gateway();
    std::size_t expected_calls = 0;
    for (std::string const method : {"GET", "HEAD", "OPTIONS", "DELETE", "PUT"}) {
        SCOPED_TRACE(method);
        auto const req = keyed(method, "/v1/charges/ch_1", "same-key", "");
        auto const first = send(req);
        auto const second = send(req);
        expected_calls += 2;
        EXPECT_EQ(first.status, 201U) << first.error;
        EXPECT_EQ(second.status, 201U) << second.error;
        EXPECT_FALSE(second.has(replay_header));
        EXPECT_EQ(second.header("X-Upstream-Call"), std::to_string(expected_calls));
        EXPECT_EQ(upstream_.calls(), expected_calls);
        EXPECT_EQ(upstream_.last_request().method, method);
    }
}

TEST_F(which_requests_are_protected, a_method_added_to_the_config_becomes_protected) {
    start_gateway(gateway_config{}.set("idempotency.methods", "[POST, PUT]"));
    auto const first = send(keyed("PUT", "/v1/files/f1", "put-1"));
    auto const second = send(keyed("PUT", "/v1/files/f1", "put-1"));
    expect_replay_of(first, second);
    auto const patch = send(keyed("PATCH", "/v1/files/f1", "put-1"));
    EXPECT_FALSE(patch.has(replay_header)); // PATCH is no longer in the list
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_F(which_requests_are_protected, a_request_without_authorization_is_forwarded_every_time) {
    start_gateway();
    auto const req = without_header(protected_post("anon-1"), "Authorization");
    auto const first = send(req);
    auto const second = send(req);
    EXPECT_EQ(first.status, 201U) << first.error;
    EXPECT_EQ(second.status, 201U) << second.error;
    EXPECT_FALSE(second.has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
    EXPECT_FALSE(upstream_.last_request().has("Authorization"));
}

TEST_F(which_requests_are_protected, an_unusable_authorization_is_forwarded_every_time) {
    start_gateway();
    for (std::string const auth : {"Bearer ", "Digest username=\"u\"", "Basic !!!notbase64"}) {
        SCOPED_TRACE(auth);
        auto const before = upstream_.calls();
        auto const req = with_header(without_header(protected_post("anon-2"), "Authorization"),
                                     "Authorization", auth);
        EXPECT_FALSE(send(req).has(replay_header));
        EXPECT_FALSE(send(req).has(replay_header));
        EXPECT_EQ(upstream_.calls(), before + 2);
    }
}

http_request basic_post(std::string const& user_password_base64) {
    return with_header(without_header(protected_post("basic-1"), "Authorization"), "Authorization",
                       "Basic " + user_password_base64);
}

TEST_F(which_requests_are_protected, the_whole_basic_credential_is_the_api_key) {
    // Contract §2: user and password, since a replay is not authenticated by the upstream.
    start_gateway();
    auto const first = send(basic_post("c2tfdXNlcjpwYXNzMQ=="));  // sk_user:pass1
    auto const second = send(basic_post("c2tfdXNlcjpwYXNzMg==")); // sk_user:pass2
    auto const other = send(basic_post("c2tfb3RoZXI6cGFzczE="));  // sk_other:pass1
    EXPECT_EQ(first.status, 201U) << first.error;
    EXPECT_FALSE(second.has(replay_header)) << "another password must not replay";
    EXPECT_EQ(second.header("X-Upstream-Call"), "2");
    EXPECT_FALSE(other.has(replay_header));
    EXPECT_EQ(other.header("X-Upstream-Call"), "3");
    expect_replay_of(first, send(basic_post("c2tfdXNlcjpwYXNzMQ==")));
    EXPECT_EQ(upstream_.calls(), 3U);
}

} // namespace
} // namespace idemgate::test
