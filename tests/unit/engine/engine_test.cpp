// The engine in-process (engine_fixture.hpp): the rows of contract §2–§4 that the gateway's
// integration tests cannot reach from outside. Each row asserts what the client got (the
// `handled` status and outcome), what the upstream saw (the stub's call count), which store
// calls the engine made (faulty_store) and what the metrics say.
#include "unit/engine/engine_fixture.hpp"

#include "idemgate/outcome.hpp"

#include <atomic>
#include <string>

namespace idemgate::test {
namespace {

using namespace std::chrono_literals;
using idemgate::outcome;

std::string replay_of(engine::handled const& h, std::string const& header) {
    return std::string(h.res[header]);
}

std::string call_of(engine::handled const& h) {
    return std::string(h.res["X-Upstream-Call"]);
}

TEST_F(engine_test, a_new_key_runs_once_and_its_retry_is_replayed) {
    start_engine();
    auto const first = handle(post("k-1"));
    EXPECT_EQ(first.res.result_int(), 201U);
    EXPECT_EQ(first.result, outcome::executed);
    EXPECT_EQ(first.key, "k-1");
    auto const again = handle(post("k-1"));
    EXPECT_EQ(again.result, outcome::replayed);
    EXPECT_EQ(again.res.result_int(), 201U);
    EXPECT_EQ(again.res.body(), first.res.body());
    EXPECT_EQ(replay_of(again, cfg_.idempotency.replay_header), "true");
    EXPECT_EQ(upstream_.calls(), 1U);
    EXPECT_EQ(store_calls(store_op::begin), 2U);
    EXPECT_EQ(store_calls(store_op::complete), 1U);
    EXPECT_EQ(store_calls(store_op::release), 0U);
    EXPECT_EQ(store_ops("complete", "ok"), 1);
    EXPECT_EQ(metric("idemgate_upstream_requests_total", {{"code_class", "2xx"}}), 1);
    EXPECT_EQ(metric("idemgate_inflight_requests"), 0);
}

// Contract §3: the upstream ran, the record could not be written. The client still gets the
// answer; the failure is counted (page on it); the in-progress claim stays, so a retry within
// lock_ttl is refused and the operation does not run twice.
TEST_F(engine_test, a_failed_complete_is_counted_and_keeps_the_claim_so_a_retry_does_not_run) {
    start_engine();
    store_->arm({store_op::complete, 1});
    auto const first = handle(post("c-1"));
    EXPECT_EQ(first.res.result_int(), 201U);
    EXPECT_EQ(first.result, outcome::executed);
    EXPECT_EQ(store_calls(store_op::complete), 1U); // only store_full is tried again
    EXPECT_EQ(store_->failures(), 1U);
    EXPECT_EQ(metric("idemgate_store_write_failures_total"), 1);
    EXPECT_EQ(store_ops("complete", "error"), 1);

    auto const retry = handle(post("c-1"));
    EXPECT_EQ(retry.res.result_int(), 409U);
    EXPECT_EQ(retry.result, outcome::in_progress);
    EXPECT_EQ(upstream_.calls(), 1U);

    // What the metric warns of: once lock_ttl has passed, nothing remembers the operation.
    wall_.advance(cfg_.idempotency.lock_ttl + 1ms);
    auto const later = handle(post("c-1"));
    EXPECT_EQ(later.result, outcome::executed);
    EXPECT_EQ(upstream_.calls(), 2U);
}

// A complete that reached the store but whose answer was lost (unknown outcome): counted as a
// failure, and the record it wrote answers the retry.
TEST_F(engine_test, a_complete_with_an_unknown_outcome_that_landed_is_replayed) {
    start_engine();
    store_->arm({store_op::complete, 1, false, true});
    auto const first = handle(post("c-2"));
    EXPECT_EQ(first.result, outcome::executed);
    EXPECT_EQ(metric("idemgate_store_write_failures_total"), 1);
    auto const retry = handle(post("c-2"));
    EXPECT_EQ(retry.result, outcome::replayed);
    EXPECT_EQ(retry.res.body(), first.res.body());
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(engine_test, a_released_claim_lets_the_retry_run_at_once) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (n == 1) reply.status = 503; // in no_store_statuses: released
        return reply;
    });
    start_engine();
    auto const first = handle(post("r-1"));
    EXPECT_EQ(first.res.result_int(), 503U);
    EXPECT_EQ(first.result, outcome::executed);
    EXPECT_EQ(store_calls(store_op::release), 1U);
    EXPECT_EQ(store_calls(store_op::complete), 0U);
    auto const retry = handle(post("r-1"));
    EXPECT_EQ(retry.res.result_int(), 201U);
    EXPECT_EQ(retry.result, outcome::executed);
    EXPECT_EQ(upstream_.calls(), 2U);
}

// The release failed: the claim stays until lock_ttl (retries get 409 meanwhile). Not a write
// failure: no response was lost, only the retry is delayed.
TEST_F(engine_test, a_failed_release_keeps_the_claim_until_lock_ttl_and_is_no_write_failure) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (n == 1) reply.status = 503;
        return reply;
    });
    start_engine();
    store_->arm({store_op::release, 1});
    auto const first = handle(post("r-2"));
    EXPECT_EQ(first.res.result_int(), 503U);
    EXPECT_EQ(first.result, outcome::executed);
    EXPECT_EQ(store_calls(store_op::release), 1U);
    EXPECT_EQ(store_ops("release", "error"), 1);
    EXPECT_EQ(metric("idemgate_store_write_failures_total"), 0);

    auto const retry = handle(post("r-2"));
    EXPECT_EQ(retry.result, outcome::in_progress);
    EXPECT_EQ(upstream_.calls(), 1U);

    wall_.advance(cfg_.idempotency.lock_ttl + 1ms);
    auto const later = handle(post("r-2"));
    EXPECT_EQ(later.res.result_int(), 201U);
    EXPECT_EQ(later.result, outcome::executed);
    EXPECT_EQ(upstream_.calls(), 2U);
}

// Contract §3, not sent: nothing reached the upstream, so the claim is released and the retry
// runs (here once an upstream listens on the port).
TEST_F(engine_test, nothing_sent_releases_the_claim_and_the_retry_runs_once_the_upstream_is_up) {
    auto const port = unused_port();
    cfg_.upstream.url = "http://127.0.0.1:" + std::to_string(port);
    start_engine();
    auto const first = handle(post("u-1"));
    EXPECT_EQ(first.res.result_int(), 502U);
    EXPECT_EQ(first.result, outcome::upstream_error);
    EXPECT_EQ(upstream_errors("connect"), 1);
    EXPECT_EQ(store_calls(store_op::release), 1U);
    EXPECT_EQ(store_calls(store_op::complete), 0U);

    upstream_stub late(port);
    auto const retry = handle(post("u-1"));
    EXPECT_EQ(retry.res.result_int(), 201U);
    EXPECT_EQ(retry.result, outcome::executed);
    EXPECT_EQ(late.calls(), 1U);
    EXPECT_EQ(upstream_.calls(), 0U);
}

// Contract §3, timeout: sent, outcome unknown: the claim is kept (no complete, no release).
// The deadline runs on the injected clock: the request waits until the test moves it.
TEST_F(engine_test, an_upstream_timeout_answers_504_and_keeps_the_claim) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.act = stub_reply::action::hang;
        return reply;
    });
    start_engine();
    auto const call = start(post("t-1"));
    ASSERT_TRUE(run_until([&] { return upstream_.calls() == 1; }));
    EXPECT_FALSE(call->done);
    steady_.advance(cfg_.upstream.timeout + 1ms);
    auto const first = finish(call);
    EXPECT_EQ(first.res.result_int(), 504U);
    EXPECT_EQ(first.result, outcome::upstream_error);
    EXPECT_EQ(upstream_errors("timeout"), 1);
    EXPECT_EQ(store_calls(store_op::complete), 0U);
    EXPECT_EQ(store_calls(store_op::release), 0U);

    auto const retry = handle(post("t-1"));
    EXPECT_EQ(retry.result, outcome::in_progress);
    EXPECT_EQ(upstream_.calls(), 1U);
}

// Contract §3, broken: the upstream read the request and closed without answering.
TEST_F(engine_test, a_broken_upstream_answers_502_and_keeps_the_claim) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.act = stub_reply::action::close;
        return reply;
    });
    start_engine();
    auto const first = handle(post("b-1"));
    EXPECT_EQ(first.res.result_int(), 502U);
    EXPECT_EQ(first.result, outcome::upstream_error);
    EXPECT_EQ(upstream_errors("broken"), 1);
    EXPECT_EQ(upstream_errors("timeout"), 0);
    EXPECT_EQ(store_calls(store_op::complete), 0U);
    EXPECT_EQ(store_calls(store_op::release), 0U);

    auto const retry = handle(post("b-1"));
    EXPECT_EQ(retry.result, outcome::in_progress);
    EXPECT_EQ(upstream_.calls(), 1U);
}

// Contract §2: while the upstream works, the owner renews its claim, so a retry long after
// lock_ttl is still refused. Both clocks move by hand: the store's (expiry) and the keeper's
// (renewal due).
TEST_F(engine_test, renewals_keep_the_claim_past_lock_ttl_while_the_upstream_works) {
    upstream_.set_handler([this](recorded_request const&, std::size_t n) {
        return n == 1 ? held_reply(n) : upstream_stub::default_reply(n);
    });
    start_engine();
    auto const call = start(post("n-1"));
    ASSERT_TRUE(run_until([&] { return upstream_.calls() == 1; }));
    for (std::size_t i = 1; i <= 3; ++i) {
        wall_.advance(200ms);   // two thirds of lock_ttl
        steady_.advance(100ms); // a renewal period
        ASSERT_TRUE(run_until([&] { return store_calls(store_op::renew) >= i; })) << i;
    }
    // 600 ms of store time after the claim, twice lock_ttl.
    auto const retry = handle(post("n-1"));
    EXPECT_EQ(retry.result, outcome::in_progress);
    open_ = true;
    auto const first = finish(call);
    EXPECT_EQ(first.result, outcome::executed);
    EXPECT_EQ(store_ops("renew", "ok"), static_cast<double>(store_calls(store_op::renew)));
    EXPECT_EQ(metric("idemgate_store_write_failures_total"), 0);
    EXPECT_EQ(handle(post("n-1")).result, outcome::replayed);
    EXPECT_EQ(upstream_.calls(), 1U);
}

// routes: a route's lock_ttl is the claim's (begin) and its renewals' (period a third of it),
// not the global one; handled::route names the route.
TEST_F(engine_test, a_route_lock_ttl_holds_the_claim_and_sets_its_renewals) {
    config::route_config slow;
    slow.match = "/v1/slow";
    slow.lock_ttl = std::chrono::seconds(3);
    cfg_.routes.push_back(slow);
    upstream_.set_handler([this](recorded_request const&, std::size_t n) {
        return n == 1 ? held_reply(n) : upstream_stub::default_reply(n);
    });
    start_engine();
    auto on_route = [](std::string const& key) {
        auto req = post(key);
        req.target("/v1/slow/job_1");
        return req;
    };
    auto const call = start(on_route("lt-1"));
    ASSERT_TRUE(run_until([&] { return upstream_.calls() == 1; }));
    steady_.advance(150ms); // past the global renewal period (100 ms), not the route's (1 s)
    EXPECT_FALSE(run_until([&] { return store_calls(store_op::renew) >= 1; }, ms(300)));
    wall_.advance(1s); // past the global lock_ttl (300 ms), within the route's
    auto const retry = handle(on_route("lt-1"));
    EXPECT_EQ(retry.result, outcome::in_progress);
    EXPECT_EQ(retry.route, 1U);
    steady_.advance(1s); // the route's period
    EXPECT_TRUE(run_until([&] { return store_calls(store_op::renew) >= 1; }));
    open_ = true;
    auto const first = finish(call);
    EXPECT_EQ(first.result, outcome::executed);
    EXPECT_EQ(first.route, 1U);
    EXPECT_EQ(handle(post("lt-2")).route, 0U); // /v1/charges: no route
    EXPECT_EQ(upstream_.calls(), 2U);
}

// Renewals fail (store down) mid-request: retried at every tick, the claim expires after
// lock_ttl and a retry runs the operation a second time; the first owner's complete then
// finds the claim gone, which is counted. The client of the first request still gets its
// answer.
TEST_F(engine_test, a_renewal_failing_mid_request_is_retried_and_a_lost_claim_is_counted) {
    upstream_.set_handler([this](recorded_request const&, std::size_t n) {
        return n == 1 ? held_reply(n) : upstream_stub::default_reply(n);
    });
    start_engine();
    store_->arm({store_op::renew, 1, true});
    auto const call = start(post("n-2"));
    ASSERT_TRUE(run_until([&] { return upstream_.calls() == 1; }));
    wall_.advance(200ms);
    steady_.advance(100ms);
    // Failed renewals are due again at once: several tries without the clock moving on.
    ASSERT_TRUE(run_until([&] { return store_calls(store_op::renew) >= 3; }));
    EXPECT_EQ(store_->failures(), store_calls(store_op::renew));
    EXPECT_GE(store_ops("renew", "error"), 3);

    wall_.advance(200ms); // past lock_ttl since the claim: it expired
    auto const retry = handle(post("n-2"));
    EXPECT_EQ(retry.result, outcome::executed);
    EXPECT_EQ(call_of(retry), "2");
    EXPECT_EQ(upstream_.calls(), 2U);

    open_ = true;
    auto const first = finish(call);
    EXPECT_EQ(first.res.result_int(), 201U);
    EXPECT_EQ(first.result, outcome::executed);
    EXPECT_EQ(call_of(first), "1");
    EXPECT_EQ(metric("idemgate_store_write_failures_total"), 1);
    EXPECT_EQ(metric("idemgate_store_errors_total", {{"kind", "not_owner"}}), 1);
    auto const replay = handle(post("n-2"));
    EXPECT_EQ(replay.result, outcome::replayed);
    EXPECT_EQ(call_of(replay), "2"); // the record the second owner completed
}

// concurrent: wait. The first request's answer is not stored (503, released): the waiter then
// claims the key itself and runs it.
TEST_F(engine_test, in_wait_mode_a_waiter_runs_the_request_once_the_first_is_released) {
    upstream_.set_handler([this](recorded_request const&, std::size_t n) {
        if (n != 1) return upstream_stub::default_reply(n);
        auto reply = held_reply(n);
        reply.status = 503;
        return reply;
    });
    cfg_.idempotency.concurrent = config::concurrent_mode::wait;
    start_engine();
    auto const first = start(post("w-1"));
    ASSERT_TRUE(run_until([&] { return upstream_.calls() == 1; }));
    auto const waiter = start(post("w-1"));
    ASSERT_TRUE(run_until([&] { return store_calls(store_op::begin) >= 3; })); // polled twice
    EXPECT_FALSE(waiter->done);
    EXPECT_EQ(metric("idemgate_inflight_requests"), 2);
    open_ = true;
    auto const a = finish(first);
    EXPECT_EQ(a.res.result_int(), 503U);
    EXPECT_EQ(a.result, outcome::executed);
    auto const b = finish(waiter);
    EXPECT_EQ(b.res.result_int(), 201U);
    EXPECT_EQ(b.result, outcome::executed);
    EXPECT_EQ(call_of(b), "2");
    EXPECT_EQ(upstream_.calls(), 2U);
    EXPECT_EQ(store_calls(store_op::release), 1U);
    EXPECT_EQ(store_calls(store_op::complete), 1U);
    EXPECT_EQ(metric("idemgate_inflight_requests"), 0);
}

// concurrent: wait. The waiter's client left: it stops polling the store at its next wake-up
// instead of polling until wait_timeout.
TEST_F(engine_test, in_wait_mode_a_waiter_whose_client_left_stops_polling_the_store) {
    upstream_.set_handler([this](recorded_request const&, std::size_t n) { return held_reply(n); });
    cfg_.idempotency.concurrent = config::concurrent_mode::wait;
    cfg_.idempotency.wait_timeout = 60s; // far beyond finish()'s bound
    start_engine();
    auto const first = start(post("g-1"));
    ASSERT_TRUE(run_until([&] { return upstream_.calls() == 1; }));
    bool gone = false;
    auto const waiter = start(post("g-1"), [&gone] { return gone; });
    ASSERT_TRUE(run_until([&] { return store_calls(store_op::begin) >= 3; }));
    gone = true;
    auto const b = finish(waiter);
    EXPECT_EQ(b.res.result_int(), 409U);
    EXPECT_EQ(b.result, outcome::in_progress);
    auto const begins = store_calls(store_op::begin);
    open_ = true;
    auto const a = finish(first);
    EXPECT_EQ(a.result, outcome::executed);
    EXPECT_EQ(store_calls(store_op::begin), begins); // nobody polled after the client left
    EXPECT_EQ(upstream_.calls(), 1U);
}

// Contract §4: the claim itself fails.
TEST_F(engine_test, a_failed_claim_answers_503_when_failing_closed_and_never_calls_upstream) {
    start_engine();
    store_->arm({store_op::begin, 1});
    auto const h = handle(post("s-1"));
    EXPECT_EQ(h.res.result_int(), 503U);
    EXPECT_EQ(h.result, outcome::store_unavailable);
    EXPECT_EQ(upstream_.calls(), 0U);
    EXPECT_EQ(store_ops("begin", "error"), 1);
    EXPECT_EQ(metric("idemgate_fail_open_requests_total"), 0);
}

TEST_F(engine_test, a_failed_claim_is_forwarded_unprotected_and_counted_when_failing_open) {
    cfg_.store.on_unavailable = config::unavailable_mode::fail_open;
    start_engine();
    store_->arm({store_op::begin, 1});
    auto const h = handle(post("s-2"));
    EXPECT_EQ(h.res.result_int(), 201U);
    EXPECT_EQ(h.result, outcome::store_unavailable);
    EXPECT_EQ(h.key, "s-2");
    EXPECT_EQ(upstream_.calls(), 1U);
    EXPECT_EQ(metric("idemgate_fail_open_requests_total"), 1);
    EXPECT_EQ(store_calls(store_op::complete), 0U);
}

} // namespace
} // namespace idemgate::test
