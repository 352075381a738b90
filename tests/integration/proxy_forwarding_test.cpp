// Proxy hygiene (architecture.md §11, RFC 9110 §7.6.1): what the upstream receives and what
// the client gets back on a forwarded request, and keep-alive on the client side.
#include "gateway_fixture.hpp"

#include <algorithm>

namespace idemgate::test {
namespace {

class forwarding : public gateway_test {};

TEST_F(forwarding, method_target_end_to_end_headers_and_body_reach_the_upstream_untouched) {
    start_gateway();
    std::string body;
    for (int i = 0; i < 256; ++i) body += static_cast<char>(i); // every byte value
    http_request req{"PUT", "/v1/things/42?b=2&a=1&q=%20x", {}, body};
    req.headers = {{"Authorization", "Bearer sk_x"},
                   {"Content-Type", "application/octet-stream"},
                   {"X-Custom", "one"},
                   {"X-Custom", "two"},
                   {"Accept", "*/*"}};
    EXPECT_EQ(send(req).status, 201U);
    ASSERT_EQ(upstream_.calls(), 1U);
    auto const got = upstream_.last_request();
    EXPECT_EQ(got.method, "PUT");
    EXPECT_EQ(got.target, "/v1/things/42?b=2&a=1&q=%20x");
    EXPECT_EQ(got.body, body);
    EXPECT_EQ(got.header("Authorization"), "Bearer sk_x");
    EXPECT_EQ(got.header("Content-Type"), "application/octet-stream");
    EXPECT_EQ(got.header("Accept"), "*/*");
    ASSERT_EQ(got.count("X-Custom"), 2U);
    header_list customs;
    for (auto const& f : got.headers) {
        if (count_header({f}, "X-Custom") != 0) customs.push_back(f);
    }
    EXPECT_EQ(customs[0].second, "one");
    EXPECT_EQ(customs[1].second, "two");
}

TEST_F(forwarding, a_protected_request_reaches_the_upstream_with_its_key_and_body) {
    start_gateway();
    EXPECT_EQ(send(protected_post("fwd-1", R"({"x":1})")).status, 201U);
    auto const got = upstream_.last_request();
    EXPECT_EQ(got.method, "POST");
    EXPECT_EQ(got.target, "/v1/charges");
    EXPECT_EQ(got.body, R"({"x":1})");
    EXPECT_EQ(got.header("Idempotency-Key"), "fwd-1");
    EXPECT_EQ(got.header("Authorization"), std::string("Bearer ") + test_api_key);
}

TEST_F(forwarding, hop_by_hop_request_headers_and_connection_named_ones_are_dropped) {
    start_gateway();
    http_request req{"POST", "/v1/hop", {}, "payload"};
    req.headers = {{"Connection", "keep-alive, X-Drop-Me"},
                   {"X-Drop-Me", "1"},
                   {"Keep-Alive", "timeout=5"},
                   {"TE", "trailers"},
                   {"Proxy-Authorization", "Basic eDp5"},
                   {"Proxy-Connection", "keep-alive"},
                   {"X-Keep-Me", "2"}};
    EXPECT_EQ(send(req).status, 201U);
    auto const got = upstream_.last_request();
    for (char const* name :
         {"X-Drop-Me", "Keep-Alive", "TE", "Proxy-Authorization", "Proxy-Connection"}) {
        EXPECT_FALSE(got.has(name)) << name;
    }
    EXPECT_EQ(got.header("Connection").find("X-Drop-Me"), std::string::npos);
    EXPECT_EQ(got.header("X-Keep-Me"), "2");
    EXPECT_EQ(got.body, "payload");
}

TEST_F(forwarding, x_forwarded_for_and_proto_are_added) {
    start_gateway();
    EXPECT_EQ(send({"GET", "/v1/xff", {}, {}}).status, 201U);
    auto const got = upstream_.last_request();
    EXPECT_EQ(got.header("X-Forwarded-For"), "127.0.0.1");
    EXPECT_EQ(got.header("X-Forwarded-Proto"), "http");
}

TEST_F(forwarding, a_chunked_request_body_is_forwarded_with_a_content_length) {
    start_gateway();
    http_client client(port());
    auto const res = client.send_raw("POST /v1/chunked HTTP/1.1\r\nHost: x\r\n"
                                     "Transfer-Encoding: chunked\r\n\r\n"
                                     "4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n");
    EXPECT_EQ(res.status, 201U) << res.error << res.body;
    auto const got = upstream_.last_request();
    EXPECT_EQ(got.body, "abcdefg");
    EXPECT_EQ(got.header("Content-Length"), "7");
    EXPECT_FALSE(got.has("Transfer-Encoding"));
}

TEST_F(forwarding, hop_by_hop_response_headers_are_dropped_on_a_passthrough) {
    upstream_.set_handler([](recorded_request const&, std::size_t) {
        stub_reply r;
        r.raw = "HTTP/1.1 200 OK\r\nConnection: X-Foo\r\nX-Foo: 1\r\nKeep-Alive: timeout=9\r\n"
                "X-Bar: 2\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        return r;
    });
    start_gateway();
    auto const res = send({"GET", "/v1/hop", {}, {}});
    EXPECT_EQ(res.status, 200U) << res.error;
    EXPECT_EQ(res.body, "abc");
    EXPECT_EQ(res.header("X-Bar"), "2");
    EXPECT_FALSE(res.has("X-Foo"));
    EXPECT_FALSE(res.has("Keep-Alive"));
}

TEST_F(forwarding, several_requests_share_one_client_connection) {
    start_gateway();
    http_client client(port(), {5s, true});
    EXPECT_EQ(client.send({"GET", "/v1/a", {}, {}}).status, 201U);
    auto const first = client.send(protected_post("ka-1"));
    EXPECT_EQ(first.status, 201U) << first.error;
    expect_replay_of(first, client.send(protected_post("ka-1")));
    EXPECT_EQ(client.send({"DELETE", "/v1/a", {}, {}}).status, 201U);
    EXPECT_EQ(client.connections_opened(), 1U);
    EXPECT_EQ(upstream_.calls(), 3U);
}

TEST_F(forwarding, upstream_connections_are_reused_across_requests) {
    start_gateway(gateway_config{}.set("threads", "1"));
    for (int i = 0; i < 5; ++i) EXPECT_EQ(send({"GET", "/v1/pool", {}, {}}).status, 201U);
    EXPECT_EQ(upstream_.calls(), 5U);
    EXPECT_LT(upstream_.connections(), 5U);
}

TEST_F(forwarding, bodies_larger_than_the_socket_buffers_arrive_whole_both_ways) {
    // 8 MiB does not fit in a loopback socket's send buffer: the first, immediate write
    // takes part of it and the rest goes asynchronously (http/wire.hpp), in both directions.
    std::string up(8 * 1024 * 1024, 'u');
    for (std::size_t i = 0; i < up.size(); i += 4099) up[i] = static_cast<char>('a' + i % 26);
    std::string down = up;
    std::reverse(down.begin(), down.end());
    upstream_.set_handler([down](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.body = down;
        return reply;
    });
    start_gateway();
    http_request req{"PUT", "/v1/blobs/1", {{"Content-Type", "application/octet-stream"}}, up};
    auto const res = send(req);
    ASSERT_EQ(res.status, 201U) << res.error;
    EXPECT_EQ(res.body.size(), down.size());
    EXPECT_TRUE(res.body == down);
    ASSERT_EQ(upstream_.calls(), 1U);
    EXPECT_EQ(upstream_.last_request().body.size(), up.size());
    EXPECT_TRUE(upstream_.last_request().body == up);
}

TEST_F(forwarding, a_head_request_gets_headers_without_a_body) {
    start_gateway();
    http_client client(port(), {5s, true});
    auto const head = client.send({"HEAD", "/v1/h", {}, {}});
    EXPECT_EQ(head.status, 201U) << head.error;
    EXPECT_TRUE(head.body.empty());
    // The connection is still in sync: a body was not sent after the HEAD answer.
    EXPECT_EQ(client.send({"GET", "/v1/h", {}, {}}).header("X-Upstream-Call"), "2");
}

} // namespace
} // namespace idemgate::test
