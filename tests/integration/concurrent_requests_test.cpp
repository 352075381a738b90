// Contract §2, row "in progress, same fingerprint": reject (409 + Retry-After) or wait (then
// replay), and many identical requests at once run the operation exactly once.
#include "gateway_fixture.hpp"

#include <thread>

namespace idemgate::test {
namespace {

class concurrent_retries : public store_gateway_test {
protected:
    void slow_upstream(std::chrono::milliseconds d) {
        upstream_.set_handler([d](recorded_request const&, std::size_t n) {
            auto reply = upstream_stub::default_reply(n);
            reply.delay = d;
            return reply;
        });
    }

    /// `n` clients send `req` at once; returns their answers.
    std::vector<http_response> burst(http_request const& req, std::size_t n) {
        return all_at_once(n, [&](std::size_t) { return send(req); });
    }
};

TEST_P(concurrent_retries, a_retry_while_the_first_runs_gets_409_in_progress_with_retry_after) {
    slow_upstream(800ms);
    start_gateway();
    http_response first;
    std::thread owner([&] { first = send(protected_post("cc-1")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    auto const retry = send(protected_post("cc-1"));
    owner.join();
    expect_error(retry, 409, "idempotency_request_in_progress");
    EXPECT_EQ(retry.header("Retry-After"), "1");
    EXPECT_EQ(first.status, 201U) << first.error;
    EXPECT_EQ(upstream_.calls(), 1U);
    // Once the first completed, the same retry is a replay.
    expect_replay_of(first, send(protected_post("cc-1")));
}

TEST_P(concurrent_retries, in_wait_mode_a_retry_waits_for_the_first_and_gets_its_replay) {
    slow_upstream(600ms);
    start_gateway(gateway_config{}.set("idempotency.concurrent", "wait"));
    http_response first;
    std::thread owner([&] { first = send(protected_post("cc-2")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    auto const waited = send(protected_post("cc-2"));
    owner.join();
    EXPECT_EQ(first.status, 201U) << first.error;
    expect_replay_of(first, waited);
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_P(concurrent_retries, in_wait_mode_a_retry_gives_up_after_wait_timeout_with_409) {
    slow_upstream(1500ms);
    start_gateway(gateway_config{}
                      .set("idempotency.concurrent", "wait")
                      .set("idempotency.wait_timeout", "300ms"));
    http_response first;
    std::thread owner([&] { first = send(protected_post("cc-3")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    auto const started = std::chrono::steady_clock::now();
    auto const waited = send(protected_post("cc-3"));
    auto const elapsed = std::chrono::steady_clock::now() - started;
    owner.join();
    expect_error(waited, 409, "idempotency_request_in_progress");
    EXPECT_GE(elapsed, 250ms);  // it did wait
    EXPECT_LT(elapsed, 1200ms); // and gave up before the first completed
    EXPECT_EQ(first.status, 201U) << first.error;
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_P(concurrent_retries, sixteen_identical_requests_in_reject_mode_run_the_upstream_once) {
    slow_upstream(400ms);
    start_gateway();
    auto const answers = burst(protected_post("cc-4"), 16);
    EXPECT_EQ(upstream_.calls(), 1U);
    std::size_t executed = 0;
    std::string body;
    for (auto const& a : answers) {
        if (a.status == 409) {
            expect_error(a, 409, "idempotency_request_in_progress");
            continue;
        }
        ASSERT_EQ(a.status, 201U) << a.error << a.body;
        if (body.empty()) body = a.body;
        EXPECT_EQ(a.body, body); // the owner's answer or a replay of it
        executed += a.has(replay_header) ? 0U : 1U;
    }
    EXPECT_EQ(executed, 1U);
}

TEST_P(concurrent_retries, sixteen_identical_requests_in_wait_mode_all_get_the_same_answer) {
    slow_upstream(400ms);
    start_gateway(gateway_config{}.set("idempotency.concurrent", "wait"));
    auto const answers = burst(protected_post("cc-5"), 16);
    EXPECT_EQ(upstream_.calls(), 1U);
    ASSERT_EQ(answers.size(), 16U);
    expect_one_answer_for_all(answers);
}

TEST_P(concurrent_retries, sixteen_different_keys_at_once_each_run_once) {
    slow_upstream(200ms);
    start_gateway();
    auto const out = all_at_once(
        16, [&](std::size_t i) { return send(protected_post("cc-6-" + std::to_string(i))); });
    for (auto const& a : out) EXPECT_EQ(a.status, 201U) << a.error << a.body;
    EXPECT_EQ(upstream_.calls(), 16U);
}

INSTANTIATE_TEST_SUITE_P(stores, concurrent_retries, ::testing::ValuesIn(store_kinds()),
                         store_name);

} // namespace
} // namespace idemgate::test
