// Redis behind a fault proxy (issue 11): replies later than `command_timeout` on begin,
// complete and renew; a late reply with a command queued behind it; a blackhole without RST;
// a reply cut by a reset or an end-of-file; Redis restarted empty while a request is in
// flight. redis_faults_test.cpp covers what needs no proxy (Redis stopped, paused, clients
// killed). Each test counts the upstream executions of its keys: at most one, or exactly
// what docs/redis.md says for the window it opens.
#include "fault_fixture.hpp"

namespace idemgate::test {
namespace {

class redis_through_a_fault_proxy : public redis_fault_test {
protected:
    /// Sends `req` to replica `i`; the answer and how long it took.
    std::pair<http_response, std::chrono::milliseconds> timed_send(std::size_t i,
                                                                   http_request const& req) const {
        auto const t0 = std::chrono::steady_clock::now();
        auto res = send_to(i, req);
        return {std::move(res), ms_since(t0)};
    }

    /// Retries `req` on replica `i` while it gets `status`, for at most `limit`.
    http_response retry_while(std::size_t i, http_request const& req, unsigned status,
                              std::chrono::milliseconds limit) const {
        return send_until([&] { return send_to(i, req); },
                          [status](http_response const& r) { return r.status != status; }, limit);
    }
};

TEST_F(redis_through_a_fault_proxy,
       a_begin_answered_after_the_command_timeout_gives_503_and_its_landed_claim_runs_once) {
    start_via_proxy(gateway_config{}.set("idempotency.lock_ttl", "1s"));
    redis_proxy_.set_latency(flow::to_client, command_timeout + 300ms);
    auto const [res, took] = timed_send(0, protected_post("late-begin"));
    expect_error(res, 503, "idempotency_store_unavailable");
    EXPECT_GE(took, command_timeout - 50ms);
    EXPECT_LT(took, command_timeout + margin);
    redis_proxy_.heal();
    // The claim reached Redis (only its reply was late): it holds the key until lock_ttl, so
    // the retry cannot run the operation while its first attempt's outcome is unknown.
    expect_error(send_to(0, protected_post("late-begin")), 409, "idempotency_request_in_progress");
    auto const later = retry_while(0, protected_post("late-begin"), 409, 5s);
    EXPECT_EQ(later.status, 201U) << later.error << later.body;
    EXPECT_EQ(executions_of(upstream_, "late-begin"), 1U);
}

TEST_F(redis_through_a_fault_proxy, a_late_reply_is_never_matched_to_the_command_queued_after_it) {
    // One thread, one Redis connection: the next command is pipelined behind the late reply.
    start_via_proxy(gateway_config{}
                        .set("threads", "1")
                        .set("store.redis.pool_size", "1")
                        .set("store.redis.command_timeout", "400ms"),
                    1);
    auto const stored = send_to(0, protected_post("stored"));
    ASSERT_EQ(stored.status, 201U) << stored.error;
    // The replay's reply (the stored response) comes 700 ms late: after its call timed out
    // (400 ms) and while the next command waits for its own reply (sent at ~400 ms, due by
    // ~800 ms). Read as the next command's reply, it would turn "fresh" into a replay.
    redis_proxy_.set_latency(flow::to_client, 700ms);
    expect_error(send_to(0, protected_post("stored")), 503, "idempotency_store_unavailable");
    redis_proxy_.set_latency(flow::to_client, 0ms);
    auto const fresh = send_to(0, protected_post("fresh"));
    EXPECT_EQ(fresh.status, 201U) << fresh.error << fresh.body;
    EXPECT_FALSE(fresh.has(replay_header));
    EXPECT_EQ(fresh.header("X-Upstream-Call"), "2");
    expect_replay_of(stored, send_to(0, protected_post("stored")));
    expect_replay_of(fresh, send_to(0, protected_post("fresh")));
    EXPECT_EQ(executions_of(upstream_, "stored"), 1U);
    EXPECT_EQ(executions_of(upstream_, "fresh"), 1U);
}

TEST_F(redis_through_a_fault_proxy,
       a_complete_answered_after_the_command_timeout_still_answers_and_its_record_replays) {
    upstream_gate gate;
    upstream_.set_handler(gate.handler());
    start_via_proxy(gateway_config{}.set("idempotency.lock_ttl", "3s"));
    http_response first;
    std::thread owner([&] { first = send_to(0, protected_post("late-complete")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    redis_proxy_.set_latency(flow::to_client, command_timeout + 300ms);
    gate.open();
    owner.join();
    EXPECT_EQ(first.status, 201U) << first.error << first.body; // the upstream's answer
    EXPECT_EQ(first.header("X-Upstream-Call"), "1");
    // The gateway cannot know the complete landed: it counts a write failure.
    EXPECT_EQ(metric(0, "idemgate_store_write_failures_total"), 1.0);
    redis_proxy_.heal();
    // It did land (only the reply was late), so the retry replays.
    expect_replay_of(first, send_to(0, protected_post("late-complete")));
    EXPECT_EQ(executions_of(upstream_, "late-complete"), 1U);
}

TEST_F(redis_through_a_fault_proxy,
       renewals_answered_after_the_command_timeout_still_keep_the_claim_from_another_replica) {
    upstream_gate gate;
    upstream_.set_handler(gate.handler());
    // lock_ttl leaves a renewal cycle (a tick, the 300 ms timeout, the next tick) ~1 s of
    // slack: a loaded 2-core machine can stall a process for a few hundred ms.
    start_via_proxy(gateway_config{}.set("idempotency.lock_ttl", "1500ms"));
    start_replica(); // replica 1: straight to Redis, sees no fault
    http_response first;
    std::thread owner([&] { first = send_to(0, protected_post("late-renew")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    // Every renewal (due every 500-750 ms) is answered 400 ms late: after its timeout, but
    // the PEXPIRE ran on time. For 3.75 s (2.5 lock_ttl) replica 1 must never take the key.
    redis_proxy_.set_latency(flow::to_client, command_timeout + 100ms);
    auto const t0 = std::chrono::steady_clock::now();
    std::size_t retries = 0;
    std::size_t refused = 0;
    while (std::chrono::steady_clock::now() - t0 < 3750ms) {
        auto const r = send_to(1, protected_post("late-renew"));
        ++retries;
        refused += r.status == 409 ? 1U : 0U;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_GE(metric(0, "idemgate_store_operations_total{op=\"renew\",result=\"error\"}"), 1.0);
    redis_proxy_.heal();
    gate.open();
    owner.join();
    EXPECT_EQ(refused, retries);
    EXPECT_EQ(first.status, 201U) << first.error << first.body;
    expect_replay_of(first, send_to(1, protected_post("late-renew")));
    EXPECT_EQ(executions_of(upstream_, "late-renew"), 1U);
}

TEST_F(redis_through_a_fault_proxy,
       a_five_second_blackhole_gives_503s_within_the_timeout_and_the_gateway_recovers_after) {
    start_via_proxy();
    ASSERT_EQ(send_to(0, protected_post("before")).status, 201U);
    redis_proxy_.set_blackhole(true);
    // The blackhole lasts 5 s (the fault); a request every ~250 ms meanwhile.
    auto const t0 = std::chrono::steady_clock::now();
    std::vector<std::string> keys;
    std::size_t refused_in_time = 0;
    while (std::chrono::steady_clock::now() - t0 < 5s) {
        keys.push_back("hole-" + std::to_string(keys.size()));
        auto const [res, took] = timed_send(0, protected_post(keys.back()));
        refused_in_time += res.status == 503 && took < command_timeout + margin ? 1U : 0U;
        std::this_thread::sleep_for(250ms);
    }
    EXPECT_EQ(refused_in_time, keys.size());
    EXPECT_EQ(send_to(0, {"GET", "/v1/charges", {}, {}}).status, 201U); // needs no store
    EXPECT_EQ(upstream_.calls(), 2U);
    // The proxy never closes the blackholed connections (a peer gone without a reset): the
    // gateway must notice on its own and reconnect, within a few command timeouts.
    redis_proxy_.set_blackhole(false);
    auto const healed = std::chrono::steady_clock::now();
    auto const after = retry_while(0, protected_post("after"), 503, 5s);
    ASSERT_EQ(after.status, 201U) << after.error << after.body;
    EXPECT_LT(ms_since(healed), 3s);
    // The blackholed claims never reached Redis: each key runs exactly once on its retry.
    for (auto const& key : keys) {
        auto const retry = retry_while(0, protected_post(key), 503, 2s);
        EXPECT_EQ(retry.status, 201U) << key << ": " << retry.error << retry.body;
        EXPECT_EQ(executions_of(upstream_, key), 1U) << key;
    }
    EXPECT_EQ(most_executions_of_one_key(upstream_), 1U);
}

TEST_F(redis_through_a_fault_proxy, a_reply_cut_by_a_reset_fails_that_call_and_the_retry_replays) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.body = std::string(8192, 'r'); // the replay reply spans several reads
        return reply;
    });
    start_via_proxy();
    auto const first = send_to(0, protected_post("cut-reply"));
    ASSERT_EQ(first.status, 201U) << first.error;
    redis_proxy_.reset_after(flow::to_client, 1000);
    auto const [res, took] = timed_send(0, protected_post("cut-reply"));
    expect_error(res, 503, "idempotency_store_unavailable");
    EXPECT_LT(took, command_timeout + margin); // a reset fails at once, not at the timeout
    EXPECT_GE(redis_proxy_.connections(), 1U);
    redis_proxy_.heal();
    // The gateway reconnects in the background (50 ms backoff): the retry replays.
    auto const retry = retry_while(0, protected_post("cut-reply"), 503, 3s);
    expect_replay_of(first, retry);
    EXPECT_EQ(executions_of(upstream_, "cut-reply"), 1U);
}

TEST_F(redis_through_a_fault_proxy,
       a_reply_cut_by_an_end_of_file_fails_that_call_and_the_retry_replays) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.body = std::string(8192, 'h');
        return reply;
    });
    start_via_proxy();
    auto const first = send_to(0, protected_post("half-reply"));
    ASSERT_EQ(first.status, 201U) << first.error;
    redis_proxy_.half_close_after(flow::to_client, 1000);
    auto const [res, took] = timed_send(0, protected_post("half-reply"));
    expect_error(res, 503, "idempotency_store_unavailable");
    EXPECT_LT(took, command_timeout + margin);
    redis_proxy_.heal();
    auto const retry = retry_while(0, protected_post("half-reply"), 503, 3s);
    expect_replay_of(first, retry);
    EXPECT_EQ(executions_of(upstream_, "half-reply"), 1U);
}

TEST_F(redis_through_a_fault_proxy,
       redis_restarted_empty_during_a_request_loses_its_claim_and_the_late_complete_is_refused) {
    upstream_gate gate;
    upstream_.set_handler(gate.handler("restarted"));
    start_via_proxy(gateway_config{}.set("idempotency.lock_ttl", "5s"));
    http_response first;
    std::thread owner([&] { first = send_to(0, protected_post("restarted")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    auto const accepted = redis_proxy_.connections();
    auto const open = redis_proxy_.open_connections();
    redis_.stop();
    redis_.start(); // same port, empty, no scripts loaded (--save "" --appendonly no)
    // Every connection the gateway had was closed by Redis and made again (attempts made
    // while Redis was down were reset: they do not stay open).
    EXPECT_TRUE(eventually(
        [&] {
            return redis_proxy_.connections() >= accepted + open &&
                   redis_proxy_.open_connections() >= open;
        },
        6s));
    auto const probe = retry_while(0, protected_post("probe"), 503, 3s);
    EXPECT_EQ(probe.status, 201U) << probe.error << probe.body;
    gate.open();
    owner.join();
    // The client still gets the upstream's answer. The claim was lost with Redis's memory, so
    // the complete (re-sent as EVAL after NOSCRIPT) finds no record it owns and writes none.
    EXPECT_EQ(first.status, 201U) << first.error << first.body;
    EXPECT_EQ(metric(0, "idemgate_store_errors_total{kind=\"not_owner\"}"), 1.0);
    // One record in the new Redis: the probe's; none for "restarted".
    EXPECT_EQ(redis_.command({"KEYS", key_prefix_ + "{*"}).elements.size(), 1U);
    // So the retry runs the operation a second time: exactly the durability limit that
    // docs/redis.md states for a Redis without persistence, and no more than that.
    auto const retry = send_to(0, protected_post("restarted"));
    EXPECT_EQ(retry.status, 201U) << retry.error << retry.body;
    EXPECT_FALSE(retry.has(replay_header));
    expect_replay_of(retry, send_to(0, protected_post("restarted")));
    EXPECT_EQ(executions_of(upstream_, "restarted"), 2U);
}

} // namespace
} // namespace idemgate::test
