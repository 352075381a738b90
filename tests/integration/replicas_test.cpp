// Several gateway replicas on one Redis (issue 3): a key claimed or completed through one
// replica is honoured by every other one with the same key prefix, so a client may retry
// through any of them.
#include "replica_fixture.hpp"

namespace idemgate::test {
namespace {

class two_replicas : public redis_gateways_test {
protected:
    /// Replicas 0 and 1, same config, same Redis, same key prefix.
    void start_both(gateway_config const& cfg = {}) {
        start_replica(cfg);
        start_replica(cfg);
    }
};

TEST_F(two_replicas, a_retry_through_the_other_replica_replays_the_first_response) {
    start_both();
    auto const first = send_to(0, protected_post("rp-1"));
    ASSERT_EQ(first.status, 201U) << first.error << first.body;
    auto const retry = send_to(1, protected_post("rp-1"));
    expect_replay_of(first, retry);
    EXPECT_EQ(retry.header("X-Upstream-Call"), first.header("X-Upstream-Call"));
    EXPECT_EQ(retry.header("Content-Type"), first.header("Content-Type"));
    EXPECT_EQ(upstream_.calls(), 1U);
    EXPECT_EQ(outcome_count(0, "executed"), 1.0);
    EXPECT_EQ(outcome_count(1, "replayed"), 1.0);
    EXPECT_EQ(outcome_count(1, "executed"), 0.0);
}

TEST_F(two_replicas, a_different_body_through_the_other_replica_gets_409_key_in_use) {
    start_both();
    ASSERT_EQ(send_to(0, protected_post("rp-2", R"({"amount":1})")).status, 201U);
    auto const other = send_to(1, protected_post("rp-2", R"({"amount":2})"));
    expect_error(other, 409, "idempotency_key_in_use");
    EXPECT_EQ(upstream_.calls(), 1U);
    EXPECT_EQ(outcome_count(1, "conflict"), 1.0);
}

TEST_F(two_replicas, a_retry_on_replica_b_while_replica_a_runs_gets_409_in_progress) {
    slow_upstream(800ms);
    start_both();
    http_response first;
    std::thread owner([&] { first = send_to(0, protected_post("rp-3")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    auto const retry = send_to(1, protected_post("rp-3"));
    owner.join();
    expect_error(retry, 409, "idempotency_request_in_progress");
    EXPECT_EQ(retry.header("Retry-After"), "1");
    EXPECT_EQ(first.status, 201U) << first.error;
    expect_replay_of(first, send_to(1, protected_post("rp-3")));
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(two_replicas, sixteen_identical_requests_spread_over_both_replicas_run_the_upstream_once) {
    slow_upstream(400ms);
    start_both();
    auto const answers = burst(protected_post("rp-4"), 16);
    EXPECT_EQ(upstream_.calls(), 1U);
    std::size_t executed = 0;
    std::size_t in_progress = 0;
    std::string body;
    for (auto const& a : answers) {
        if (a.status == 409) {
            expect_error(a, 409, "idempotency_request_in_progress");
            ++in_progress;
            continue;
        }
        ASSERT_EQ(a.status, 201U) << a.error << a.body;
        if (body.empty()) body = a.body;
        EXPECT_EQ(a.body, body); // the owner's answer or a replay of it
        executed += a.has(replay_header) ? 0U : 1U;
    }
    EXPECT_EQ(executed, 1U);
    EXPECT_EQ(outcome_count(0, "executed") + outcome_count(1, "executed"), 1.0);
    EXPECT_EQ(outcome_count(0, "in_progress") + outcome_count(1, "in_progress"),
              static_cast<double>(in_progress));
    // Afterwards both replicas replay the one stored answer.
    for (std::size_t i = 0; i < 2; ++i) {
        auto const again = send_to(i, protected_post("rp-4"));
        EXPECT_EQ(again.header(replay_header), "true") << "replica " << i;
        EXPECT_EQ(again.body, body) << "replica " << i;
    }
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(two_replicas, in_wait_mode_a_retry_on_replica_b_gets_the_replay_when_replica_a_finishes) {
    slow_upstream(800ms);
    start_both(gateway_config{}.set("idempotency.concurrent", "wait"));
    http_response first;
    std::thread owner([&] { first = send_to(0, protected_post("rp-5")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    auto const waited = send_to(1, protected_post("rp-5"));
    owner.join();
    EXPECT_EQ(first.status, 201U) << first.error;
    expect_replay_of(first, waited);
    EXPECT_EQ(upstream_.calls(), 1U);
    EXPECT_EQ(outcome_count(1, "replayed"), 1.0);
}

TEST_F(two_replicas, in_wait_mode_sixteen_requests_over_both_replicas_all_get_one_answer) {
    slow_upstream(400ms);
    start_both(gateway_config{}.set("idempotency.concurrent", "wait"));
    auto const answers = burst(protected_post("rp-6"), 16);
    EXPECT_EQ(upstream_.calls(), 1U);
    ASSERT_EQ(answers.size(), 16U);
    expect_one_answer_for_all(answers);
}

TEST_F(two_replicas, replicas_with_different_key_prefixes_do_not_share_records) {
    start_replica();
    start_replica(gateway_config{}.set("store.redis.key_prefix", "\"tenant-b:\""));
    EXPECT_EQ(send_to(0, protected_post("rp-7")).status, 201U);
    auto const other = send_to(1, protected_post("rp-7"));
    EXPECT_EQ(other.status, 201U) << other.error << other.body;
    EXPECT_FALSE(other.has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_F(two_replicas, when_replica_a_dies_mid_request_b_refuses_the_key_until_lock_ttl_passes) {
    // Only the first call hangs long: replica A is killed while it runs.
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (n == 1) reply.delay = 3s;
        return reply;
    });
    start_both(gateway_config{}.set("idempotency.lock_ttl", "1s"));
    http_response lost;
    std::thread owner([&] { lost = send_to(0, protected_post("rp-8")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    kill_replica(0); // a crash: no release, no renewal
    auto const killed_at = std::chrono::steady_clock::now();
    expect_error(send_to(1, protected_post("rp-8")), 409, "idempotency_request_in_progress");
    // The orphaned claim expires within lock_ttl of its last renewal; then B runs the key.
    http_response later;
    EXPECT_TRUE(eventually(
        [&] {
            later = send_to(1, protected_post("rp-8"));
            return later.status != 409;
        },
        5s));
    auto const waited = std::chrono::steady_clock::now() - killed_at;
    owner.join();
    EXPECT_EQ(lost.status, 0U) << "the killed replica cannot have answered";
    EXPECT_EQ(later.status, 201U) << later.error << later.body;
    EXPECT_FALSE(later.has(replay_header));
    EXPECT_EQ(later.header("X-Upstream-Call"), "2");
    EXPECT_GE(waited, 500ms); // at least lock_ttl minus one renewal period (1 s / 3)
    EXPECT_EQ(upstream_.calls(), 2U);
}

} // namespace
} // namespace idemgate::test
