// Contract §7, the client side: requests an attacker shapes to reach the upstream with
// another identity, path or framing than the gateway saw. Each is refused (and its
// connection closed) or normalised, and the upstream sees what the scope was computed from.
#include "gateway_fixture.hpp"

namespace idemgate::test {
namespace {

class hostile_requests : public gateway_test {
protected:
    /// `method target` with Host, the test API key and `extra` head lines (each ending in
    /// CRLF), then `body` as is.
    static std::string raw(std::string const& method, std::string const& target,
                           std::string const& extra, std::string const& body = "",
                           std::string const& version = "HTTP/1.1") {
        return method + " " + target + " " + version + "\r\nHost: x\r\nAuthorization: Bearer " +
               std::string(test_api_key) + "\r\n" + extra + "\r\n" + body;
    }

    /// Sends `bytes` on a fresh connection: the answer must be `status`/`code`, the
    /// connection closed and the upstream not called.
    void expect_refused(std::string const& bytes, unsigned status, std::string const& code) {
        auto const calls = upstream_.calls();
        http_client client(port(), {5s, true});
        expect_error(client.send_raw(bytes), status, code);
        EXPECT_TRUE(client.peer_closed()) << "the connection must not be reused";
        EXPECT_EQ(upstream_.calls(), calls) << "the upstream must not be called";
    }

    /// The gateway still answers its liveness probe (no input may stop the process).
    void expect_alive() { EXPECT_EQ(admin_get("/livez").status, 200U); }
};

TEST_F(hostile_requests, request_trailers_are_dropped_never_merged_into_the_head) {
    start_gateway();
    std::string const body = "5\r\nhello\r\n0\r\nAuthorization: Bearer sk_other_tenant\r\n"
                             "Host: evil.example\r\nSet-Cookie: a=b\r\nX-Trailer: 1\r\n\r\n";
    http_client client(port(), {5s, true});
    auto const res =
        client.send_raw(raw("POST", "/v1/charges",
                            "Idempotency-Key: trailers-1\r\nTransfer-Encoding: chunked\r\n"
                            "Trailer: Authorization, Host\r\n",
                            body));
    ASSERT_EQ(res.status, 201U) << res.error << res.body;
    auto const seen = upstream_.last_request();
    EXPECT_EQ(seen.body, "hello");
    EXPECT_EQ(seen.count("Authorization"), 1U);
    EXPECT_EQ(seen.header("Authorization"), std::string("Bearer ") + test_api_key);
    EXPECT_EQ(seen.count("Host"), 1U);
    EXPECT_NE(seen.header("Host"), "evil.example");
    EXPECT_FALSE(seen.has("Set-Cookie"));
    EXPECT_FALSE(seen.has("X-Trailer"));
    EXPECT_FALSE(seen.has("Trailer"));
}

TEST_F(hostile_requests, connect_is_answered_405_by_the_gateway) {
    start_gateway();
    expect_refused("CONNECT upstream.example:443 HTTP/1.1\r\nHost: upstream.example:443\r\n\r\n",
                   405, "method_not_allowed");
}

TEST_F(hostile_requests, a_chunk_line_without_its_end_is_bounded) {
    start_gateway(gateway_config{}.set("limits.max_header_bytes", "8KiB"));
    // "5;aaaa…" never ends: the gateway must give up after its buffer bound, not read the
    // whole 1 MiB (or wait for the idle timeout) holding it in memory.
    http_client client(port(), {5s, true});
    auto const res = client.send_raw(
        raw("POST", "/v1/charges", "Idempotency-Key: chunk-ext\r\nTransfer-Encoding: chunked\r\n",
            "5;" + std::string(1 << 20, 'a')));
    expect_error(res, 400, "bad_request");
    EXPECT_TRUE(client.peer_closed());
    EXPECT_EQ(upstream_.calls(), 0U);
    expect_alive();
}

TEST_F(hostile_requests, transfer_encoding_on_http_1_0_is_refused) {
    start_gateway();
    expect_refused(raw("POST", "/v1/charges", "Transfer-Encoding: chunked\r\n",
                       "5\r\nhello\r\n0\r\n\r\n", "HTTP/1.0"),
                   400, "bad_request");
}

TEST_F(hostile_requests, gzip_then_chunked_is_501_not_a_silently_dropped_coding) {
    start_gateway();
    expect_refused(raw("POST", "/v1/charges",
                       "Idempotency-Key: te-1\r\nTransfer-Encoding: gzip, chunked\r\n",
                       "5\r\nhello\r\n0\r\n\r\n"),
                   501, "not_implemented");
}

TEST_F(hostile_requests, host_must_appear_exactly_once_on_http_1_1) {
    start_gateway();
    expect_refused("GET /v1/charges HTTP/1.1\r\n\r\n", 400, "bad_request");
    expect_refused("GET /v1/charges HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "bad_request");
}

TEST_F(hostile_requests, identity_fields_must_appear_at_most_once) {
    start_gateway();
    expect_refused(raw("POST", "/v1/charges",
                       "Idempotency-Key: dup-auth\r\nAuthorization: Bearer sk_other\r\n"
                       "Content-Length: 2\r\n",
                       "{}"),
                   400, "bad_request");
    expect_refused(raw("POST", "/v1/charges",
                       "Idempotency-Key: dup-acct\r\nChronapilot-Account: acct_1\r\n"
                       "Chronapilot-Account: acct_2\r\nContent-Length: 2\r\n",
                       "{}"),
                   400, "bad_request");
}

TEST_F(hostile_requests, a_connection_header_may_not_hide_an_identity_field) {
    start_gateway();
    for (auto const* named : {"Authorization", "Chronapilot-Account", "Idempotency-Key"}) {
        expect_refused(raw("POST", "/v1/charges",
                           std::string("Idempotency-Key: conn-1\r\nChronapilot-Account: a\r\n"
                                       "Connection: keep-alive, ") +
                               named + "\r\nContent-Length: 2\r\n",
                           "{}"),
                       400, "bad_request");
    }
}

TEST_F(hostile_requests, targets_leaving_the_base_path_are_refused) {
    start_gateway(gateway_config{}.set("upstream.url", upstream_.url() + "/api"));
    for (auto const* target : {"/../admin", "/v1/../../admin", "/%2e%2e/admin", "/..%2fadmin",
                               "/..%2Fadmin", "/v1/..%5c..%5cadmin", "/v1/charges#x", "v1/x"}) {
        expect_refused(raw("GET", target, ""), 400, "bad_request");
    }
    auto const ok = send({"GET", "/v1/./x/../charges", {}, {}});
    EXPECT_EQ(ok.status, 201U) << ok.error << ok.body;
    EXPECT_EQ(upstream_.last_request().target, "/api/v1/charges");
}

TEST_F(hostile_requests, two_spellings_of_one_path_are_one_scope_and_one_forwarded_path) {
    start_gateway();
    auto const first = send(keyed("POST", "/v1/./charges", "spelling-1"));
    ASSERT_EQ(first.status, 201U) << first.error << first.body;
    EXPECT_EQ(upstream_.last_request().target, "/v1/charges");
    for (auto const* spelling :
         {"/v1/charges", "/v1//charges", "/v1/%63harges", "/v1/x/../charges"}) {
        auto const again = send(keyed("POST", spelling, "spelling-1"));
        expect_replay_of(first, again);
    }
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(hostile_requests, an_absolute_form_target_is_its_path_when_its_authority_is_the_host) {
    start_gateway();
    auto const ok = send_request(port(), {"GET", "http://x/v1/charges?a=1", {{"Host", "x"}}, {}});
    EXPECT_EQ(ok.status, 201U) << ok.error << ok.body;
    EXPECT_EQ(upstream_.last_request().target, "/v1/charges?a=1");
    expect_refused("GET http://other.example/v1/charges HTTP/1.1\r\nHost: x\r\n\r\n", 400,
                   "bad_request");
}

TEST_F(hostile_requests, underscored_header_names_are_dropped_by_default) {
    start_gateway();
    // An upstream that maps '_' to '-' would read these as the key and the account.
    auto req = with_header(
        with_header(protected_post("underscore-1"), "Chronapilot_Account", "acct_other"),
        "Idempotency_Key", "other-key");
    ASSERT_EQ(send(req).status, 201U);
    auto const seen = upstream_.last_request();
    EXPECT_FALSE(seen.has("Chronapilot_Account"));
    EXPECT_FALSE(seen.has("Idempotency_Key"));
    EXPECT_EQ(seen.header("Idempotency-Key"), "underscore-1");
}

TEST_F(hostile_requests, underscored_header_names_are_refused_when_configured) {
    start_gateway(gateway_config{}.set("limits.headers_with_underscores", "reject"));
    expect_refused(raw("POST", "/v1/charges", "Idempotency_Key: k\r\nContent-Length: 2\r\n", "{}"),
                   400, "bad_request");
}

TEST_F(hostile_requests, a_protected_method_in_another_case_is_refused) {
    start_gateway();
    for (auto const* method : {"post", "Post", "pAtCh"}) {
        auto const res = send(keyed(method, "/v1/charges", "case-1"));
        expect_error(res, 400, "bad_request");
    }
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_F(hostile_requests, the_largest_allowed_head_is_answered_and_the_process_stays_up) {
    // 64 KiB is the bound: Beast keeps a field's length in 16 bits and threw (terminating the
    // process) for a value of 65 534 bytes once the head limit allowed it.
    start_gateway(gateway_config{}.set("limits.max_header_bytes", "64KiB"));
    auto const big = send(with_header(protected_post("big-1"), "X-Big", std::string(65534, 'v')));
    expect_error(big, 431, "request_header_fields_too_large");
    auto const fits = send(with_header(protected_post("big-2"), "X-Big", std::string(60000, 'v')));
    EXPECT_EQ(fits.status, 201U) << fits.error;
    expect_alive();
}

TEST_F(hostile_requests, the_admin_listener_bounds_a_chunk_line_too) {
    start_gateway();
    http_client client(gateway_->admin_port(), {3s, true});
    auto const started = std::chrono::steady_clock::now();
    // Unbounded, the admin session would read the whole line and then wait for its 10 s
    // read deadline (the client's 3 s timeout first); bounded, it closes at once.
    auto const res = client.send_raw("POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                                     "chunked\r\n\r\n5;" +
                                     std::string(1 << 20, 'a'));
    EXPECT_EQ(res.status, 0U);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms) << res.error;
    expect_alive();
}

class credentials : public store_gateway_test {};

TEST_P(credentials, a_basic_credential_with_another_password_is_another_scope) {
    start_gateway();
    auto with_basic = [](std::string const& b64) {
        auto req = without_header(protected_post("basic-1"), "Authorization");
        return with_header(std::move(req), "Authorization", "Basic " + b64);
    };
    auto const right = send(with_basic("dXNlcjpyaWdodA==")); // user:right
    ASSERT_EQ(right.status, 201U) << right.error << right.body;
    auto const wrong = send(with_basic("dXNlcjpXUk9ORw==")); // user:WRONG
    EXPECT_FALSE(wrong.has(replay_header)) << "a wrong password must never replay";
    EXPECT_NE(wrong.body, right.body);
    EXPECT_EQ(upstream_.calls(), 2U);
    expect_replay_of(right, send(with_basic("dXNlcjpyaWdodA==")));
}

TEST_P(credentials, a_configured_credential_header_scopes_the_key) {
    start_gateway(gateway_config{}.set("idempotency.credential", "\"header:X-Api-Key\""));
    auto with_key = [](std::string const& api_key) {
        auto req = without_header(protected_post("hdr-1"), "Authorization");
        return with_header(std::move(req), "X-Api-Key", api_key);
    };
    auto const first = send(with_key("key_a"));
    ASSERT_EQ(first.status, 201U) << first.error;
    expect_replay_of(first, send(with_key("key_a")));
    EXPECT_FALSE(send(with_key("key_b")).has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
    // Without the header the request is not protected, whatever Authorization says.
    auto const bare = send(protected_post("hdr-1"));
    EXPECT_FALSE(bare.has(replay_header));
    EXPECT_EQ(upstream_.calls(), 3U);
}

INSTANTIATE_TEST_SUITE_P(stores, credentials, ::testing::ValuesIn(store_kinds()), store_name);

} // namespace
} // namespace idemgate::test
