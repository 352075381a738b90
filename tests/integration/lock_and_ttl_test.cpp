// Contract §2 (the owner renews its lock) and §3 (a completed record expires `ttl` after the
// first request): time-based rows, with short TTLs so that each test stays under 3 s.
#include "gateway_fixture.hpp"

#include <thread>

namespace idemgate::test {
namespace {

class locks_and_expiry : public store_gateway_test {};

TEST_P(locks_and_expiry, an_upstream_slower_than_lock_ttl_never_lets_a_retry_in) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.delay = 1500ms; // five times lock_ttl
        return reply;
    });
    start_gateway(gateway_config{}.set("idempotency.lock_ttl", "300ms"));
    http_response first;
    std::thread owner([&] { first = send(protected_post("lock-1")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    // Retries at ~250, 500, 750 ms: the last two after the first lock_ttl would have ended.
    std::vector<http_response> retries;
    for (int i = 0; i < 3; ++i) {
        std::this_thread::sleep_for(250ms);
        retries.push_back(send(protected_post("lock-1")));
    }
    owner.join();
    for (auto const& r : retries) expect_error(r, 409, "idempotency_request_in_progress");
    EXPECT_EQ(first.status, 201U) << first.error;
    EXPECT_EQ(upstream_.calls(), 1U);
    expect_replay_of(first, send(protected_post("lock-1")));
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_P(locks_and_expiry, after_ttl_the_same_key_executes_again) {
    start_gateway(gateway_config{}.set("idempotency.ttl", "1s").set("idempotency.lock_ttl", "1s"));
    auto const first = send(protected_post("ttl-1"));
    expect_replay_of(first, send(protected_post("ttl-1")));
    EXPECT_EQ(upstream_.calls(), 1U);
    std::this_thread::sleep_for(1300ms);
    auto const later = send(protected_post("ttl-1"));
    EXPECT_EQ(later.status, 201U) << later.error;
    EXPECT_FALSE(later.has(replay_header));
    EXPECT_EQ(later.header("X-Upstream-Call"), "2");
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(locks_and_expiry, ttl_counts_from_the_first_request_not_from_replays) {
    start_gateway(gateway_config{}.set("idempotency.ttl", "1s").set("idempotency.lock_ttl", "1s"));
    EXPECT_EQ(send(protected_post("ttl-2")).status, 201U);
    std::this_thread::sleep_for(600ms);
    EXPECT_EQ(send(protected_post("ttl-2")).header(replay_header), "true");
    std::this_thread::sleep_for(700ms); // 1.3 s after the first, 0.7 s after the replay
    EXPECT_FALSE(send(protected_post("ttl-2")).has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(locks_and_expiry, a_conflict_is_remembered_until_ttl_then_the_new_body_runs) {
    start_gateway(gateway_config{}.set("idempotency.ttl", "1s").set("idempotency.lock_ttl", "1s"));
    EXPECT_EQ(send(protected_post("ttl-3", R"({"v":1})")).status, 201U);
    expect_error(send(protected_post("ttl-3", R"({"v":2})")), 409, "idempotency_key_in_use");
    std::this_thread::sleep_for(1300ms);
    auto const later = send(protected_post("ttl-3", R"({"v":2})"));
    EXPECT_EQ(later.status, 201U) << later.error << later.body;
    EXPECT_EQ(upstream_.calls(), 2U);
    EXPECT_EQ(upstream_.last_request().body, R"({"v":2})");
}

INSTANTIATE_TEST_SUITE_P(stores, locks_and_expiry, ::testing::ValuesIn(store_kinds()), store_name);

} // namespace
} // namespace idemgate::test
