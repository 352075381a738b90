// Contract §4 "when the store is down", with a redis-server of the test's own that it stops,
// pauses and starts again: fail_closed, fail_open, and recovery without a restart.
#include "gateway_fixture.hpp"

#include <thread>

namespace idemgate::test {
namespace {

#ifdef IDEMGATE_IT_HAVE_REDIS

class when_the_store_is_down : public gateway_test {
protected:
    when_the_store_is_down() { store_ = store_kind::redis; }

    void start_with(std::string const& on_unavailable) {
        start_gateway(gateway_config{}
                          .set("store.redis.url", redis_.url())
                          .set("store.redis.connect_timeout", "200ms")
                          .set("store.redis.command_timeout", "200ms")
                          .set("store.on_unavailable", on_unavailable));
    }

    redis_server redis_;
};

TEST_F(when_the_store_is_down, fail_closed_answers_503_and_never_calls_the_upstream) {
    start_with("fail_closed");
    EXPECT_EQ(send(protected_post("out-1")).status, 201U);
    redis_.stop();
    auto const res = send(protected_post("out-2"));
    expect_error(res, 503, "idempotency_store_unavailable");
    EXPECT_FALSE(res.header("Retry-After").empty());
    EXPECT_EQ(upstream_.calls(), 1U);
    // Unprotected requests do not need the store.
    EXPECT_EQ(send({"GET", "/v1/charges", {}, {}}).status, 201U);
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_F(when_the_store_is_down, a_paused_store_answers_503_within_the_command_timeout) {
    start_with("fail_closed");
    EXPECT_EQ(send(protected_post("pause-1")).status, 201U);
    redis_.pause();
    auto const started = std::chrono::steady_clock::now();
    auto const res = send(protected_post("pause-2"));
    auto const elapsed = std::chrono::steady_clock::now() - started;
    redis_.resume();
    expect_error(res, 503, "idempotency_store_unavailable");
    EXPECT_LT(elapsed, 2s);
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(when_the_store_is_down, fail_open_forwards_protected_requests_without_protection) {
    start_with("fail_open");
    redis_.stop();
    auto const first = send(protected_post("open-1"));
    auto const second = send(protected_post("open-1"));
    EXPECT_EQ(first.status, 201U) << first.error << first.body;
    EXPECT_EQ(second.status, 201U) << second.error << second.body;
    EXPECT_FALSE(second.has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_F(when_the_store_is_down, the_gateway_uses_the_store_again_when_it_comes_back) {
    start_with("fail_closed");
    redis_.stop();
    expect_error(send(protected_post("back-1")), 503, "idempotency_store_unavailable");
    EXPECT_EQ(admin_get("/readyz").status, 503U);
    redis_.start();
    // Each worker thread reconnects on its own backoff: ready once all of them are back.
    auto const ready_by = std::chrono::steady_clock::now() + 10s;
    while (admin_get("/readyz").status != 200 && std::chrono::steady_clock::now() < ready_by)
        std::this_thread::sleep_for(50ms);
    ASSERT_EQ(admin_get("/readyz").status, 200U);
    auto const first = send(protected_post("back-1"));
    EXPECT_EQ(first.status, 201U) << first.error << first.body;
    expect_replay_of(first, send(protected_post("back-1")));
    EXPECT_EQ(upstream_.calls(), 1U);
}

#endif

} // namespace
} // namespace idemgate::test
