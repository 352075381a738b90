// The flat head writer against Beast's own serializer: the bytes on the wire must not change.
#include "idemgate/http/wire.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace idemgate {
namespace {

template <bool isRequest>
std::string beast_bytes(http::message<isRequest, http::string_body> const& m) {
    std::ostringstream os;
    os << m;
    return os.str();
}

template <bool isRequest>
std::string flat_bytes(http::message<isRequest, http::string_body> const& m) {
    std::string out;
    wire::append_head(out, m);
    return out + m.body();
}

TEST(wire, a_proxied_request_is_written_as_beast_writes_it) {
    request req{http::verb::post, "/v1/events?x=1", 11};
    req.set(http::field::host, "api.example");
    req.set("Idempotency-Key", "k-1");
    req.set("X-Forwarded-For", "127.0.0.1");
    req.insert("X-Dup", "a");
    req.insert("X-Dup", "b");
    req.body() = R"({"title":"standup"})";
    req.content_length(req.body().size());
    EXPECT_EQ(flat_bytes(req), beast_bytes(req));
    EXPECT_TRUE(
        flat_bytes(req).starts_with("POST /v1/events?x=1 HTTP/1.1\r\nHost: api.example\r\n"));
}

TEST(wire, an_unknown_method_and_http_1_0_keep_their_spelling) {
    request req;
    req.method_string("PURGE");
    req.target("/cache");
    req.version(10);
    EXPECT_EQ(flat_bytes(req), beast_bytes(req));
    EXPECT_EQ(flat_bytes(req), "PURGE /cache HTTP/1.0\r\n\r\n");
}

TEST(wire, a_response_keeps_the_upstream_reason_or_gets_the_standard_one) {
    response res{http::status::created, 11};
    res.set("Chronapilot-Idempotent-Replay", "true");
    res.body() = R"({"id":"evt_1"})";
    res.content_length(res.body().size());
    EXPECT_EQ(flat_bytes(res), beast_bytes(res));
    EXPECT_TRUE(flat_bytes(res).starts_with("HTTP/1.1 201 Created\r\n"));

    res.reason("Made It");
    EXPECT_EQ(flat_bytes(res), beast_bytes(res));
    EXPECT_TRUE(flat_bytes(res).starts_with("HTTP/1.1 201 Made It\r\n"));
}

TEST(wire, an_unregistered_status_code_is_written_with_its_digits) {
    response res{static_cast<http::status>(299), 11};
    res.content_length(0);
    EXPECT_EQ(flat_bytes(res), beast_bytes(res));
    EXPECT_TRUE(flat_bytes(res).starts_with("HTTP/1.1 299 "));
}

TEST(wire, a_bodyless_response_has_no_trailing_bytes) {
    response res{http::status::no_content, 11};
    res.set(http::field::server, "upstream");
    std::string out;
    wire::append_head(out, res);
    EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\nServer: upstream\r\n\r\n");
    EXPECT_EQ(out, beast_bytes(res));
}

} // namespace
} // namespace idemgate
