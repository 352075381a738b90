// Contract §2 (the owner renews its lock) and §3 (a completed record expires `ttl` after the
// first request): time-based rows, with short TTLs so that each test stays under 3 s. Expiry
// is polled for up to a deadline; the only fixed waits place a request at a moment in time.
#include "gateway_fixture.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace idemgate::test {
namespace {

class locks_and_expiry : public store_gateway_test {
protected:
    /// Sends `req` every 50 ms until `done` holds for the answer or `limit` passes; the last
    /// answer. For records that expire: their ttl is the earliest the answer can change.
    template <class Done>
    http_response poll_until(http_request const& req, Done done,
                             std::chrono::milliseconds limit = 5s) const {
        auto const end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            auto r = send(req);
            if (done(r) || std::chrono::steady_clock::now() >= end) return r;
            std::this_thread::sleep_for(50ms); // the polling interval
        }
    }
};

TEST_P(locks_and_expiry, an_upstream_slower_than_lock_ttl_never_lets_a_retry_in) {
    // The upstream answers only once the retries are done (not after a fixed delay), so a slow
    // machine cannot turn a late retry into a replay; the stub gives up holding after 10 s.
    auto const answer = std::make_shared<std::atomic<bool>>(false);
    upstream_.set_handler([answer](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.hold_until = [answer] { return answer->load(); };
        return reply;
    });
    start_gateway(gateway_config{}.set("idempotency.lock_ttl", "300ms"));
    http_response first;
    std::thread owner([&] { first = send(protected_post("lock-1")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    auto const claimed = std::chrono::steady_clock::now();
    // Retries at ~250, 500, 750 ms: the last two after the first lock_ttl would have ended.
    // What is checked is that the claim did NOT expire as time passed, so time has to pass:
    // each retry waits for its moment (a wait, not a condition to poll).
    std::vector<http_response> retries;
    for (int i = 1; i <= 3; ++i) {
        std::this_thread::sleep_until(claimed + i * 250ms);
        retries.push_back(send(protected_post("lock-1")));
    }
    *answer = true;
    owner.join();
    for (auto const& r : retries) expect_error(r, 409, "idempotency_request_in_progress");
    EXPECT_EQ(first.status, 201U) << first.error;
    EXPECT_EQ(upstream_.calls(), 1U);
    expect_replay_of(first, send(protected_post("lock-1")));
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_P(locks_and_expiry, after_ttl_the_same_key_executes_again) {
    start_gateway(gateway_config{}.set("idempotency.ttl", "1s").set("idempotency.lock_ttl", "1s"));
    auto const t0 = std::chrono::steady_clock::now();
    auto const first = send(protected_post("ttl-1"));
    expect_replay_of(first, send(protected_post("ttl-1")));
    EXPECT_EQ(upstream_.calls(), 1U);
    auto const later = poll_until(protected_post("ttl-1"),
                                  [](http_response const& r) { return !r.has(replay_header); });
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1s); // not before ttl
    EXPECT_EQ(later.status, 201U) << later.error;
    EXPECT_FALSE(later.has(replay_header));
    EXPECT_EQ(later.header("X-Upstream-Call"), "2");
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(locks_and_expiry, ttl_counts_from_the_first_request_not_from_replays) {
    start_gateway(gateway_config{}.set("idempotency.ttl", "1s").set("idempotency.lock_ttl", "1s"));
    EXPECT_EQ(send(protected_post("ttl-2")).status, 201U);
    // A replay well inside ttl but late enough to tell "from the first request" (expires at
    // ~1 s) from "from the last replay" (would expire at ~1.6 s): a wait, as the replay must
    // come at that moment, not when some condition holds.
    std::this_thread::sleep_for(600ms);
    auto const replayed_at = std::chrono::steady_clock::now();
    EXPECT_EQ(send(protected_post("ttl-2")).header(replay_header), "true");
    auto const again = poll_until(protected_post("ttl-2"),
                                  [](http_response const& r) { return !r.has(replay_header); });
    // Executed again less than ttl after the replay: the replay did not extend the record.
    EXPECT_LT(std::chrono::steady_clock::now() - replayed_at, 1s);
    EXPECT_FALSE(again.has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(locks_and_expiry, a_conflict_is_remembered_until_ttl_then_the_new_body_runs) {
    start_gateway(gateway_config{}.set("idempotency.ttl", "1s").set("idempotency.lock_ttl", "1s"));
    auto const t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(send(protected_post("ttl-3", R"({"v":1})")).status, 201U);
    expect_error(send(protected_post("ttl-3", R"({"v":2})")), 409, "idempotency_key_in_use");
    auto const later = poll_until(protected_post("ttl-3", R"({"v":2})"),
                                  [](http_response const& r) { return r.status != 409; });
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1s); // remembered until ttl
    EXPECT_EQ(later.status, 201U) << later.error << later.body;
    EXPECT_EQ(upstream_.calls(), 2U);
    EXPECT_EQ(upstream_.last_request().body, R"({"v":2})");
}

INSTANTIATE_TEST_SUITE_P(stores, locks_and_expiry, ::testing::ValuesIn(store_kinds()), store_name);

} // namespace
} // namespace idemgate::test
