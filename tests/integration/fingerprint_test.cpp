// Contract §2 "fingerprint": the same key with another body is a conflict, whatever the
// state of the first request; canonical_json mode ignores key order and whitespace.
#include "gateway_fixture.hpp"

#include <thread>

namespace idemgate::test {
namespace {

class the_fingerprint_of_a_request : public store_gateway_test {
protected:
    /// Every answer of the upstream is delayed by `d`.
    void slow_upstream(std::chrono::milliseconds d) {
        upstream_.set_handler([d](recorded_request const&, std::size_t n) {
            auto reply = upstream_stub::default_reply(n);
            reply.delay = d;
            return reply;
        });
    }
};

TEST_P(the_fingerprint_of_a_request, another_body_after_completion_gets_409_key_in_use) {
    start_gateway();
    EXPECT_EQ(send(protected_post("fp-1", R"({"amount":1})")).status, 201U);
    expect_error(send(protected_post("fp-1", R"({"amount":2})")), 409, "idempotency_key_in_use");
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_P(the_fingerprint_of_a_request, another_body_while_in_progress_gets_409_key_in_use) {
    slow_upstream(800ms);
    start_gateway();
    http_response first;
    std::thread owner([&] { first = send(protected_post("fp-2", R"({"amount":1})")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    auto const other = send(protected_post("fp-2", R"({"amount":2})"));
    owner.join();
    expect_error(other, 409, "idempotency_key_in_use");
    EXPECT_EQ(first.status, 201U) << first.error;
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_P(the_fingerprint_of_a_request, a_conflict_does_not_spoil_the_stored_response) {
    start_gateway();
    auto const first = send(protected_post("fp-3", R"({"amount":1})"));
    expect_error(send(protected_post("fp-3", R"({"amount":9})")), 409, "idempotency_key_in_use");
    expect_replay_of(first, send(protected_post("fp-3", R"({"amount":1})")));
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_P(the_fingerprint_of_a_request, body_mode_treats_reordered_json_as_another_body) {
    start_gateway(gateway_config{}.set("idempotency.fingerprint", "body"));
    EXPECT_EQ(send(protected_post("fp-4", R"({"a":1,"b":[1,2]})")).status, 201U);
    expect_error(send(protected_post("fp-4", R"({ "b": [1, 2], "a": 1 })")), 409,
                 "idempotency_key_in_use");
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_P(the_fingerprint_of_a_request, canonical_json_mode_replays_reordered_equal_json) {
    start_gateway(gateway_config{}.set("idempotency.fingerprint", "canonical_json"));
    auto const first = send(protected_post("fp-5", R"({"a":1,"b":{"y":2,"x":[1,2]}})"));
    auto const second =
        send(protected_post("fp-5", "{\n  \"b\": {\"x\": [1, 2], \"y\": 2},\n  \"a\": 1\n}"));
    EXPECT_EQ(first.status, 201U) << first.error;
    expect_replay_of(first, second);
    expect_error(send(protected_post("fp-5", R"({"a":1,"b":{"y":2,"x":[2,1]}})")), 409,
                 "idempotency_key_in_use"); // array order matters
    EXPECT_EQ(upstream_.calls(), 1U);
    // The upstream received the body as the client wrote it, not the canonical form.
    EXPECT_EQ(upstream_.last_request().body, R"({"a":1,"b":{"y":2,"x":[1,2]}})");
}

TEST_P(the_fingerprint_of_a_request, canonical_json_mode_compares_non_json_bodies_as_bytes) {
    start_gateway(gateway_config{}.set("idempotency.fingerprint", "canonical_json"));
    auto const first = send(protected_post("fp-6", "amount=1&currency=eur"));
    expect_replay_of(first, send(protected_post("fp-6", "amount=1&currency=eur")));
    expect_error(send(protected_post("fp-6", "currency=eur&amount=1")), 409,
                 "idempotency_key_in_use");
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_P(the_fingerprint_of_a_request, an_empty_body_is_a_fingerprint_like_any_other) {
    start_gateway();
    auto const first = send(protected_post("fp-7", ""));
    expect_replay_of(first, send(protected_post("fp-7", "")));
    expect_error(send(protected_post("fp-7", "{}")), 409, "idempotency_key_in_use");
    EXPECT_EQ(upstream_.calls(), 1U);
}

INSTANTIATE_TEST_SUITE_P(stores, the_fingerprint_of_a_request, ::testing::ValuesIn(store_kinds()),
                         store_name);

} // namespace
} // namespace idemgate::test
