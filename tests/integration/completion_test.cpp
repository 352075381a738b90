// Contract §3 "completing an operation": which upstream answers are stored, what a replay
// carries (status, end-to-end headers in order, body) and what happens to a large body.
#include "gateway_fixture.hpp"

namespace idemgate::test {
namespace {

class completing_an_operation : public store_gateway_test {
protected:
    /// The upstream answers `status` with a body naming the status and the call.
    void answer_with(unsigned status) {
        upstream_.set_handler([status](recorded_request const&, std::size_t n) {
            auto reply = upstream_stub::default_reply(n);
            reply.status = status;
            reply.body = "status " + std::to_string(status) + " call " + std::to_string(n);
            return reply;
        });
    }
};

TEST_P(completing_an_operation, stored_statuses_replay_as_they_were_even_errors) {
    start_gateway();
    std::size_t calls = 0;
    for (unsigned const status : {200U, 201U, 400U, 404U, 500U}) {
        SCOPED_TRACE(status);
        answer_with(status);
        auto const key = "st-" + std::to_string(status);
        auto const first = send(protected_post(key));
        auto const second = send(protected_post(key));
        EXPECT_EQ(first.status, status) << first.error;
        expect_replay_of(first, second);
        EXPECT_EQ(upstream_.calls(), ++calls);
    }
}

TEST_P(completing_an_operation, no_store_statuses_are_returned_and_a_retry_executes_again) {
    start_gateway();
    std::size_t calls = 0;
    for (unsigned const status : {408U, 429U, 502U, 503U, 504U}) {
        SCOPED_TRACE(status);
        answer_with(status);
        auto const key = "ns-" + std::to_string(status);
        auto const first = send(protected_post(key));
        auto const second = send(protected_post(key));
        calls += 2;
        EXPECT_EQ(first.status, status) << first.error;
        EXPECT_EQ(first.body,
                  "status " + std::to_string(status) + " call " + std::to_string(calls - 1));
        EXPECT_EQ(second.status, status);
        EXPECT_FALSE(second.has(replay_header));
        EXPECT_EQ(upstream_.calls(), calls);
    }
    // After the transient failures, a success is stored as usual.
    answer_with(201);
    auto const ok = send(protected_post("ns-503"));
    EXPECT_EQ(ok.status, 201U);
    expect_replay_of(ok, send(protected_post("ns-503")));
    EXPECT_EQ(upstream_.calls(), calls + 1);
}

TEST_P(completing_an_operation, no_store_statuses_are_configurable) {
    start_gateway(gateway_config{}.set("idempotency.no_store_statuses", "[409]"));
    answer_with(409);
    EXPECT_FALSE(send(protected_post("cfg-409")).has(replay_header));
    EXPECT_FALSE(send(protected_post("cfg-409")).has(replay_header));
    answer_with(503); // no longer in the list: stored
    auto const first = send(protected_post("cfg-503"));
    expect_replay_of(first, send(protected_post("cfg-503")));
    EXPECT_EQ(upstream_.calls(), 3U);
}

// Names out of alphabetical order, a repeated field, and hop-by-hop fields in between.
std::string const hop_by_hop_reply = "HTTP/1.1 201 Created\r\n"
                                     "X-Zulu: a\r\n"
                                     "Connection: X-Foo, keep-alive\r\n"
                                     "X-Foo: 1\r\n"
                                     "X-Dup: 1\r\n"
                                     "X-Dup: 2\r\n"
                                     "Keep-Alive: timeout=5\r\n"
                                     "X-Alpha: b\r\n"
                                     "Content-Type: text/plain\r\n"
                                     "Transfer-Encoding: chunked\r\n"
                                     "\r\n"
                                     "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";

/// The stub's end-to-end X- fields in the order they appear. (Repeated names are kept adjacent:
/// Beast's parser, on both sides, groups them, which RFC 9110 §5.3 allows.)
header_list end_to_end(http_response const& res) {
    header_list out;
    for (auto const& f : res.headers) {
        if (f.first == "X-Zulu" || f.first == "X-Dup" || f.first == "X-Alpha") out.push_back(f);
    }
    return out;
}

TEST_P(completing_an_operation, hop_by_hop_headers_are_dropped_and_the_rest_kept_in_order) {
    upstream_.set_handler([](recorded_request const&, std::size_t) {
        stub_reply r;
        r.raw = hop_by_hop_reply;
        return r;
    });
    start_gateway();
    auto const first = send(protected_post("hop-1"));
    auto const replay = send(protected_post("hop-1"));
    header_list const expected{{"X-Zulu", "a"}, {"X-Dup", "1"}, {"X-Dup", "2"}, {"X-Alpha", "b"}};
    for (auto const* res : {&first, &replay}) {
        EXPECT_EQ(res->status, 201U) << res->error;
        EXPECT_EQ(res->body, "hello world");
        EXPECT_EQ(end_to_end(*res), expected);
        EXPECT_EQ(res->header("Content-Type"), "text/plain");
        EXPECT_FALSE(res->has("X-Foo"));
        EXPECT_FALSE(res->has("Keep-Alive"));
        EXPECT_EQ(res->header("Connection").find("X-Foo"), std::string::npos);
    }
    EXPECT_EQ(replay.header(replay_header), "true");
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_P(completing_an_operation, a_body_over_max_stored_body_is_returned_whole_and_never_rerun) {
    std::string const big(256 * 1024, 'z');
    upstream_.set_handler([big](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.headers.emplace_back("X-Big", "yes");
        reply.body = big;
        return reply;
    });
    start_gateway(gateway_config{}.set("idempotency.max_stored_body", "1KiB"));
    auto const first = send(protected_post("big-1"));
    EXPECT_EQ(first.status, 201U) << first.error;
    EXPECT_EQ(first.body.size(), big.size());
    EXPECT_EQ(first.body, big);
    EXPECT_FALSE(first.has("Idempotency-Replay-Body-Omitted"));

    auto const replay = send(protected_post("big-1"));
    EXPECT_EQ(replay.status, 201U) << replay.error;
    EXPECT_TRUE(replay.body.empty()) << replay.body.size() << " bytes";
    EXPECT_EQ(replay.header("Idempotency-Replay-Body-Omitted"), "true");
    EXPECT_EQ(replay.header(replay_header), "true");
    EXPECT_EQ(replay.header("X-Big"), "yes");
    EXPECT_EQ(replay.header("X-Upstream-Call"), "1");
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_P(completing_an_operation, a_body_just_under_max_stored_body_replays_in_full) {
    std::string const body(1000, 'y');
    upstream_.set_handler([body](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.body = body;
        return reply;
    });
    start_gateway(gateway_config{}.set("idempotency.max_stored_body", "1KiB"));
    auto const first = send(protected_post("big-2"));
    auto const replay = send(protected_post("big-2"));
    expect_replay_of(first, replay);
    EXPECT_EQ(replay.body, body);
    EXPECT_FALSE(replay.has("Idempotency-Replay-Body-Omitted"));
}

INSTANTIATE_TEST_SUITE_P(stores, completing_an_operation, ::testing::ValuesIn(store_kinds()),
                         store_name);

} // namespace
} // namespace idemgate::test
