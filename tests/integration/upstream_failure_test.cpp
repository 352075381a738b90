// Contract §3, the failure rows: nothing sent (record deleted, retry runs), sent without a
// complete answer (record kept in progress until lock_ttl), and the upstream timeout.
#include "gateway_fixture.hpp"

#include <thread>

namespace idemgate::test {
namespace {

class when_the_upstream_fails : public store_gateway_test {
protected:
    /// The first call gets `first`; later calls get the default 201.
    void fail_first_call(stub_reply::action first) {
        upstream_.set_handler([first](recorded_request const&, std::size_t n) {
            auto reply = upstream_stub::default_reply(n);
            if (n == 1) reply.act = first;
            return reply;
        });
    }

    /// Retries `req` every 50 ms while it gets 409 in progress (bounded by `limit`).
    http_response retry_while_in_progress(http_request const& req,
                                          std::chrono::milliseconds limit) {
        auto const deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            auto res = send(req);
            if (res.status != 409 || std::chrono::steady_clock::now() > deadline) return res;
            std::this_thread::sleep_for(50ms);
        }
    }
};

TEST_P(when_the_upstream_fails, connect_refused_gives_502_and_a_retry_runs_once_it_is_up) {
    auto const port = unused_port();
    start_gateway(gateway_config{}.set("upstream.url", "http://127.0.0.1:" + std::to_string(port)));
    expect_error(send(protected_post("down-1")), 502, "upstream_unavailable");
    expect_error(send({"GET", "/v1/charges", {}, {}}), 502, "upstream_unavailable");

    upstream_stub revived(port);
    auto const retry = send(protected_post("down-1"));
    EXPECT_EQ(retry.status, 201U) << retry.error << retry.body; // the record was deleted
    EXPECT_FALSE(retry.has(replay_header));
    EXPECT_EQ(revived.calls(), 1U);
    expect_replay_of(retry, send(protected_post("down-1")));
    EXPECT_EQ(revived.calls(), 1U);
}

TEST_P(when_the_upstream_fails, a_close_without_answer_keeps_the_record_until_lock_ttl) {
    fail_first_call(stub_reply::action::close);
    start_gateway(gateway_config{}.set("idempotency.lock_ttl", "500ms"));
    auto const first = send(protected_post("lost-1"));
    auto const failed_at = std::chrono::steady_clock::now();
    if (first.status == 504) {
        expect_error(first, 504, "upstream_timeout");
    } else {
        expect_error(first, 502, "upstream_unavailable");
    }
    // The outcome is unknown: a quick retry must not run the operation a second time.
    expect_error(send(protected_post("lost-1")), 409, "idempotency_request_in_progress");
    EXPECT_EQ(upstream_.calls(), 1U);

    auto const later = retry_while_in_progress(protected_post("lost-1"), 3s);
    EXPECT_GE(std::chrono::steady_clock::now() - failed_at, 300ms);
    EXPECT_EQ(later.status, 201U) << later.error << later.body;
    EXPECT_FALSE(later.has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(when_the_upstream_fails, an_upstream_timeout_gives_504_and_keeps_the_record) {
    fail_first_call(stub_reply::action::hang);
    start_gateway(
        gateway_config{}.set("upstream.timeout", "300ms").set("idempotency.lock_ttl", "800ms"));
    auto const started = std::chrono::steady_clock::now();
    auto const first = send(protected_post("slow-1"));
    auto const elapsed = std::chrono::steady_clock::now() - started;
    expect_error(first, 504, "upstream_timeout");
    EXPECT_GE(elapsed, 250ms);
    EXPECT_LT(elapsed, 3s);
    expect_error(send(protected_post("slow-1")), 409, "idempotency_request_in_progress");
    EXPECT_EQ(upstream_.calls(), 1U);

    auto const later = retry_while_in_progress(protected_post("slow-1"), 4s);
    EXPECT_EQ(later.status, 201U) << later.error << later.body;
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(when_the_upstream_fails, a_truncated_response_is_no_response_and_keeps_the_record) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (n == 1) {
            reply.raw = "HTTP/1.1 201 Created\r\nContent-Length: 100\r\n\r\npartial";
            reply.close_after = true;
        }
        return reply;
    });
    start_gateway(gateway_config{}.set("idempotency.lock_ttl", "500ms"));
    auto const first = send(protected_post("cut-1"));
    EXPECT_TRUE(first.status == 502 || first.status == 504) << first.status << first.body;
    EXPECT_EQ(first.body.find("partial"), std::string::npos); // never half a response
    expect_error(send(protected_post("cut-1")), 409, "idempotency_request_in_progress");
    EXPECT_EQ(retry_while_in_progress(protected_post("cut-1"), 3s).status, 201U);
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(when_the_upstream_fails, an_upstream_response_with_both_framings_gets_502) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (n == 1) {
            reply.raw = "HTTP/1.1 201 Created\r\nContent-Length: 5\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
        }
        return reply;
    });
    start_gateway();
    expect_error(send({"GET", "/v1/framing", {}, {}}), 502, "upstream_unavailable");
    // The connection was not reused: the next request gets a clean answer.
    auto const next = send({"GET", "/v1/framing", {}, {}});
    EXPECT_EQ(next.status, 201U) << next.error << next.body;
    EXPECT_EQ(next.header("X-Upstream-Call"), "2");
}

TEST_P(when_the_upstream_fails, an_unprotected_request_that_times_out_gets_504) {
    fail_first_call(stub_reply::action::hang);
    start_gateway(gateway_config{}.set("upstream.timeout", "300ms"));
    expect_error(send({"GET", "/v1/charges", {}, {}}), 504, "upstream_timeout");
    EXPECT_EQ(send({"GET", "/v1/charges", {}, {}}).status, 201U); // forwarded again
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(when_the_upstream_fails, the_gateway_serves_other_keys_while_one_upstream_call_hangs) {
    upstream_.set_handler([](recorded_request const& req, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (req.header("Idempotency-Key") == "stuck") reply.act = stub_reply::action::hang;
        return reply;
    });
    start_gateway(gateway_config{}.set("upstream.timeout", "1500ms"));
    http_response stuck;
    std::thread t([&] { stuck = send(protected_post("stuck")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    auto const started = std::chrono::steady_clock::now();
    EXPECT_EQ(send(protected_post("free")).status, 201U);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s);
    t.join();
    expect_error(stuck, 504, "upstream_timeout");
}

INSTANTIATE_TEST_SUITE_P(stores, when_the_upstream_fails, ::testing::ValuesIn(store_kinds()),
                         store_name);

} // namespace
} // namespace idemgate::test
