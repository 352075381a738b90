// Contract §5 and conventions.md "HTTP limits and defences": the errors idemgate writes
// itself for requests it will not forward (limits, malformed heads, smuggling attempts).
#include "gateway_fixture.hpp"

namespace idemgate::test {
namespace {

class errors_idemgate_writes : public gateway_test {
protected:
    /// A complete raw request: `head_fields` end with CRLF; `body` is sent as is.
    static std::string raw_post(std::string const& head_fields, std::string const& body) {
        return "POST /v1/charges HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
               std::string(test_api_key) + "\r\nIdempotency-Key: raw-1\r\n" + head_fields + "\r\n" +
               body;
    }

    /// Sends `raw` on a fresh connection; expects 400 bad_request and a closed connection.
    void expect_rejected_and_closed(std::string const& raw) {
        http_client client(port(), {5s, true});
        expect_error(client.send_raw(raw), 400, "bad_request");
        EXPECT_TRUE(client.peer_closed()) << "the connection must not be reused";
    }
};

TEST_F(errors_idemgate_writes, a_body_over_max_request_body_gets_413_and_is_not_forwarded) {
    start_gateway(gateway_config{}.set("limits.max_request_body", "1KiB"));
    expect_error(send(protected_post("big-req", std::string(4096, 'x'))), 413, "request_too_large");
    expect_error(send({"PUT", "/v1/files/1", {}, std::string(4096, 'x')}), 413,
                 "request_too_large");
    EXPECT_EQ(upstream_.calls(), 0U);
    auto const at_limit = send(protected_post("ok-req", std::string(1024, 'x')));
    EXPECT_EQ(at_limit.status, 201U) << at_limit.error << at_limit.body;
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(errors_idemgate_writes, a_chunked_body_over_max_request_body_gets_413) {
    start_gateway(gateway_config{}.set("limits.max_request_body", "1KiB"));
    std::string const chunk(800, 'c');
    std::string const body = "320\r\n" + chunk + "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n";
    http_client client(port());
    expect_error(client.send_raw(raw_post("Transfer-Encoding: chunked\r\n", body)), 413,
                 "request_too_large");
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_F(errors_idemgate_writes, a_head_over_max_header_bytes_gets_431) {
    start_gateway(gateway_config{}.set("limits.max_header_bytes", "4KiB"));
    auto const res =
        send(with_header(protected_post("big-head"), "X-Padding", std::string(6000, 'p')));
    expect_error(res, 431, "request_header_fields_too_large");
    EXPECT_EQ(upstream_.calls(), 0U);
    EXPECT_EQ(send(with_header(protected_post("small-head"), "X-Padding", "p")).status, 201U);
}

TEST_F(errors_idemgate_writes, more_fields_than_max_headers_get_431) {
    start_gateway(gateway_config{}.set("limits.max_headers", "10"));
    auto req = protected_post("many-fields");
    for (int i = 0; i < 20; ++i) req.headers.emplace_back("X-F" + std::to_string(i), "v");
    expect_error(send(req), 431, "request_header_fields_too_large");
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_F(errors_idemgate_writes, a_malformed_request_line_gets_400_bad_request) {
    start_gateway();
    expect_rejected_and_closed("THIS IS NOT HTTP\r\n\r\n");
    expect_rejected_and_closed("POST /v1/charges HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n");
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_F(errors_idemgate_writes, a_transfer_encoding_that_is_not_chunked_gets_501_and_close) {
    start_gateway();
    // Without the check, "GET /smuggled" would be read as a second request (contract §7:
    // any coding other than exactly chunked is 501).
    std::string const smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    for (auto const* coding : {"gzip", "chunked, gzip", "gzip, chunked", "identity"}) {
        http_client client(port(), {5s, true});
        auto const chunked_body = "5\r\nhello\r\n0\r\n\r\n" + smuggled;
        auto const res = client.send_raw(
            raw_post(std::string("Transfer-Encoding: ") + coding + "\r\n", chunked_body));
        expect_error(res, 501, "not_implemented");
        EXPECT_TRUE(client.peer_closed()) << coding;
    }
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_F(errors_idemgate_writes, content_length_with_transfer_encoding_gets_400_and_close) {
    start_gateway();
    std::string const body = "5\r\nhello\r\n0\r\n\r\n";
    expect_rejected_and_closed(
        raw_post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", body));
    expect_rejected_and_closed(raw_post("Content-Length: 3\r\nContent-Length: 5\r\n", "hello"));
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_F(errors_idemgate_writes, a_head_not_finished_within_request_headers_timeout_gets_408) {
    start_gateway(gateway_config{}.set("timeouts.request_headers", "400ms"));
    http_client client(port(), {5s, true});
    auto const started = std::chrono::steady_clock::now();
    auto const res = client.send_raw("POST /v1/charges HTTP/1.1\r\nHost: x\r\n");
    EXPECT_GE(std::chrono::steady_clock::now() - started, 300ms);
    expect_error(res, 408, "request_timeout");
    EXPECT_TRUE(client.peer_closed());
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_F(errors_idemgate_writes, a_key_error_keeps_the_connection_usable) {
    start_gateway();
    // Key errors are about the request, not the framing: keep-alive survives them.
    http_client client(port(), {5s, true});
    expect_error(client.send(protected_post("")), 400, "idempotency_key_invalid");
    EXPECT_EQ(client.send(protected_post("after-error")).status, 201U);
    EXPECT_EQ(client.connections_opened(), 1U);
}

} // namespace
} // namespace idemgate::test
