// The upstream behind a fault proxy (issue 11), on both stores: a reset once the request was
// written (the upstream ran it), a reset in the middle of the response, a response trickling
// slower than `upstream.timeout`, a connect that is never accepted, and a connection that
// swallows the request. upstream_failure_test.cpp covers what the stub alone can do (refused,
// closed without answer, truncated by a close, hang). Contract §3: nothing sent → 502 and the
// claim released; sent without a complete response → 502/504 and the claim kept until
// lock_ttl. Each test counts the upstream executions of its key in that window.
#include "fault_fixture.hpp"

namespace idemgate::test {
namespace {

constexpr auto upstream_lock_ttl = 1500ms;

class upstream_through_a_fault_proxy : public store_gateway_test {
protected:
    /// A gateway whose upstream is `upstream_proxy_`, lock_ttl 1.5 s.
    void start_via_proxy(gateway_config cfg = {}) {
        cfg.set_default("upstream.url", "http://" + upstream_proxy_.address())
            .set_default("idempotency.lock_ttl", std::to_string(upstream_lock_ttl.count()) + "ms");
        start_gateway(std::move(cfg));
    }

    /// Sends `req` and measures how long the answer took.
    std::pair<http_response, std::chrono::milliseconds> timed_send(http_request const& req) const {
        auto const t0 = std::chrono::steady_clock::now();
        auto res = send(req);
        return {std::move(res), ms_since(t0)};
    }

    /// The window contract §3 opens when the request was sent and no complete response came:
    /// a retry at once gets 409 in progress and runs nothing; once lock_ttl has passed (polled),
    /// the retry runs the operation. `ran_before` is how often it ran before the fault.
    void expect_claim_kept_until_lock_ttl(std::string const& key, std::size_t ran_before,
                                          std::chrono::steady_clock::time_point failed_at) {
        expect_error(send(protected_post(key)), 409, "idempotency_request_in_progress");
        EXPECT_EQ(executions_of(upstream_, key), ran_before);
        auto const later = send_until([&] { return send(protected_post(key)); },
                                      [](http_response const& r) { return r.status != 409; }, 5s);
        EXPECT_EQ(later.status, 201U) << later.error << later.body;
        // Not before lock_ttl from the last renewal, which is at most lock_ttl / 2 old.
        EXPECT_GE(ms_since(failed_at), upstream_lock_ttl / 2 - 100ms);
        EXPECT_EQ(executions_of(upstream_, key), ran_before + 1);
    }

    /// The stub answers with an 8 KiB body (several writes through the proxy).
    void big_responses() {
        upstream_.set_handler([](recorded_request const&, std::size_t n) {
            auto reply = upstream_stub::default_reply(n);
            reply.body = std::string(8192, 'b');
            return reply;
        });
    }

    fault_proxy upstream_proxy_{upstream_.port()};
};

TEST_P(upstream_through_a_fault_proxy,
       a_reset_after_the_request_was_written_gives_502_and_no_retry_runs_before_lock_ttl) {
    start_via_proxy();
    upstream_proxy_.reset_after(flow::to_client, 0); // the response never starts
    auto const first = send(protected_post("reset-sent"));
    auto const failed_at = std::chrono::steady_clock::now();
    expect_error(first, 502, "upstream_unavailable");
    EXPECT_EQ(executions_of(upstream_, "reset-sent"), 1U); // the upstream did run it
    upstream_proxy_.heal();
    expect_claim_kept_until_lock_ttl("reset-sent", 1, failed_at);
}

TEST_P(upstream_through_a_fault_proxy,
       a_reset_in_the_middle_of_the_response_gives_502_never_half_a_response) {
    big_responses();
    start_via_proxy();
    upstream_proxy_.reset_after(flow::to_client, 1000);
    auto const first = send(protected_post("reset-mid"));
    auto const failed_at = std::chrono::steady_clock::now();
    expect_error(first, 502, "upstream_unavailable");
    EXPECT_EQ(first.body.find("bbbb"), std::string::npos);
    EXPECT_EQ(upstream_proxy_.bytes(flow::to_client), 1000U);
    upstream_proxy_.heal();
    expect_claim_kept_until_lock_ttl("reset-mid", 1, failed_at);
}

TEST_P(upstream_through_a_fault_proxy,
       a_response_trickling_slower_than_the_upstream_timeout_gives_504_at_the_timeout) {
    big_responses();
    start_via_proxy(gateway_config{}.set("upstream.timeout", "800ms"));
    upstream_proxy_.set_bandwidth(flow::to_client, 1000); // 8 KiB would take 8 s
    auto const [first, took] = timed_send(protected_post("trickle"));
    auto const failed_at = std::chrono::steady_clock::now();
    expect_error(first, 504, "upstream_timeout");
    // The timeout bounds the whole response, however steadily its bytes come.
    EXPECT_GE(took, 700ms);
    EXPECT_LT(took, 800ms + 1500ms);
    EXPECT_GT(upstream_proxy_.bytes(flow::to_client), 0U);
    upstream_proxy_.heal();
    expect_claim_kept_until_lock_ttl("trickle", 1, failed_at);
}

TEST_P(upstream_through_a_fault_proxy,
       a_connect_never_accepted_gives_502_at_the_connect_timeout_and_releases_the_claim) {
    start_via_proxy(gateway_config{}.set("upstream.connect_timeout", "300ms"));
    upstream_proxy_.set_accepting(false); // SYNs dropped: neither accepted nor refused
    auto const [first, took] = timed_send(protected_post("no-accept"));
    expect_error(first, 502, "upstream_unavailable");
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 300ms + 1500ms);
    EXPECT_EQ(upstream_proxy_.connections(), 0U);
    EXPECT_EQ(upstream_.calls(), 0U);
    // Nothing was sent: the claim was released, so the retry runs at once, exactly once.
    upstream_proxy_.heal();
    auto const retry = send(protected_post("no-accept"));
    EXPECT_EQ(retry.status, 201U) << retry.error << retry.body;
    EXPECT_FALSE(retry.has(replay_header));
    expect_replay_of(retry, send(protected_post("no-accept")));
    EXPECT_EQ(executions_of(upstream_, "no-accept"), 1U);
}

TEST_P(upstream_through_a_fault_proxy,
       a_blackhole_after_connect_gives_504_and_keeps_the_claim_though_nothing_ran) {
    start_via_proxy(gateway_config{}.set("upstream.timeout", "500ms"));
    upstream_proxy_.set_blackhole(true); // accepted, the request swallowed, never answered
    auto const [first, took] = timed_send(protected_post("swallowed"));
    auto const failed_at = std::chrono::steady_clock::now();
    expect_error(first, 504, "upstream_timeout");
    EXPECT_LT(took, 500ms + 1500ms);
    EXPECT_EQ(upstream_.calls(), 0U);
    // The gateway wrote the request: it cannot know that it never arrived, so the claim is
    // kept (outcome unknown) even though the operation did not run.
    upstream_proxy_.set_blackhole(false);
    upstream_proxy_.reset_all();
    expect_claim_kept_until_lock_ttl("swallowed", 0, failed_at);
}

INSTANTIATE_TEST_SUITE_P(stores, upstream_through_a_fault_proxy, ::testing::ValuesIn(store_kinds()),
                         store_name);

} // namespace
} // namespace idemgate::test
