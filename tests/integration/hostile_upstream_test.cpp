// Contract §7, upstream side: no byte of one exchange reaches another client. A hostile
// upstream answers the first call with raw bytes of one shape (interim 1xx, a body where
// none may be, bytes past the end, 101, trailers, an endless chunk line); the gateway runs
// on one thread with one pooled connection, so that the next request of another API key
// would reuse that connection. Each test checks what the first client got, what the other
// tenant gets next (its own answer from the upstream, never leftover bytes), what replays
// return and that the hostile connection was not reused.
#include "gateway_fixture.hpp"

#include <cstdio>
#include <thread>

namespace idemgate::test {
namespace {

/// A complete response that, left in a pooled connection, would be read as the next one.
constexpr char const* smuggled_response = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nevil!";
constexpr char const* one_body = R"({"id":"obj_one"})";

/// A 201 with ONE's body, framed by Content-Length.
std::string created_for_one() {
    return "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(std::string_view(one_body).size()) + "\r\n\r\n" + one_body;
}

/// A 201 with ONE's body in two chunks, then `trailers` (each line ends in CRLF).
std::string chunked_for_one(std::string const& trailers) {
    std::string_view const body(one_body);
    auto const hex = [](std::size_t n) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%zx", n);
        return std::string(buf);
    };
    return "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\n\r\n" +
           hex(6) + "\r\n" + std::string(body.substr(0, 6)) + "\r\n" + hex(body.size() - 6) +
           "\r\n" + std::string(body.substr(6)) + "\r\n0\r\n" + trailers + "\r\n";
}

class with_a_hostile_upstream : public store_gateway_test {
protected:
    /// The first call gets `raw` verbatim; later calls the stub's default 201 (obj_N).
    void first_call_gets(std::string raw) {
        auto first = upstream_stub::default_reply(1);
        first.raw = std::move(raw);
        first_call_gets(std::move(first));
    }

    /// The first call gets `first`; later calls the stub's default 201 (obj_N).
    void first_call_gets(stub_reply first) {
        upstream_.set_handler([first = std::move(first)](recorded_request const&, std::size_t n) {
            return n == 1 ? first : upstream_stub::default_reply(n);
        });
        start_gateway(gateway_config{}
                          .set("threads", "1")
                          .set("upstream.pool_size", "1")
                          .set("upstream.timeout", "3s"));
    }

    /// Polls (bounded) until the stub has sent `n` late writes.
    bool wait_for_late_writes(std::size_t n) const {
        auto const deadline = std::chrono::steady_clock::now() + 5s;
        while (upstream_.late_writes() < n) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(5ms);
        }
        return true;
    }

    /// A protected POST of another tenant (another API key).
    static http_request other_tenant(std::string key) {
        return with_header(without_header(protected_post(std::move(key)), "Authorization"),
                           "Authorization", "Bearer sk_test_other_tenant_77e1");
    }

    /// The other tenant's request right after the hostile exchange gets its own fresh
    /// answer from upstream call `call`, and a replay of it gives the same. `reused`: the
    /// first connection was read to its exact end and may serve it; otherwise a new one must.
    void expect_other_tenant_unharmed(std::size_t call, bool reused = false) {
        auto const two = send(other_tenant("two"));
        EXPECT_EQ(two.status, 201U) << two.error << two.body;
        EXPECT_EQ(two.body, R"({"id":"obj_)" + std::to_string(call) + R"(","call":)" +
                                std::to_string(call) + "}");
        EXPECT_FALSE(two.has(replay_header));
        expect_replay_of(two, send(other_tenant("two")));
        EXPECT_EQ(upstream_.calls(), call);
        if (reused) {
            EXPECT_EQ(upstream_.connections(), 1U) << "a well-framed response lost its connection";
        } else {
            EXPECT_EQ(upstream_.connections(), 2U) << "the hostile connection was reused";
        }
    }

    /// ONE's own request got `status` with `body`, and a replay gives the same.
    void expect_one_stored(http_response const& one, unsigned status, std::string const& body) {
        EXPECT_EQ(one.status, status) << one.error << one.body;
        EXPECT_EQ(one.body, body);
        expect_replay_of(one, send(protected_post("one")));
    }
};

TEST_P(with_a_hostile_upstream, early_hints_then_201_in_one_write_give_the_201) {
    first_call_gets("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
                    created_for_one());
    auto const one = send(protected_post("one"));
    expect_one_stored(one, 201, one_body);
    EXPECT_FALSE(one.has("Link")) << "a field of the interim response leaked";
    expect_other_tenant_unharmed(2, true);
}

TEST_P(with_a_hostile_upstream, an_unsolicited_100_continue_is_read_past) {
    first_call_gets("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n" +
                    created_for_one());
    expect_one_stored(send(protected_post("one")), 201, one_body);
    expect_other_tenant_unharmed(2, true);
}

TEST_P(with_a_hostile_upstream, a_204_with_a_body_is_delivered_and_its_connection_closed) {
    first_call_gets(std::string("HTTP/1.1 204 No Content\r\n\r\n") + smuggled_response);
    expect_one_stored(send(protected_post("one")), 204, "");
    expect_other_tenant_unharmed(2);
}

TEST_P(with_a_hostile_upstream, a_304_with_a_body_is_delivered_and_its_connection_closed) {
    first_call_gets(std::string("HTTP/1.1 304 Not Modified\r\n\r\n") + smuggled_response);
    expect_one_stored(send(protected_post("one")), 304, "");
    expect_other_tenant_unharmed(2);
}

TEST_P(with_a_hostile_upstream, bytes_after_a_content_length_body_never_reach_the_next_client) {
    first_call_gets(created_for_one() + smuggled_response);
    expect_one_stored(send(protected_post("one")), 201, one_body);
    expect_other_tenant_unharmed(2);
}

TEST_P(with_a_hostile_upstream, bytes_arriving_while_the_connection_is_idle_close_it) {
    auto reply = upstream_stub::default_reply(1);
    reply.raw = created_for_one();
    reply.raw_later = smuggled_response;
    reply.later = 20ms;
    first_call_gets(reply);
    expect_one_stored(send(protected_post("one")), 201, one_body);
    ASSERT_TRUE(wait_for_late_writes(1)) << "the stub never sent the late bytes";
    expect_other_tenant_unharmed(2);
}

TEST_P(with_a_hostile_upstream, a_204_announcing_content_is_not_reused_before_its_bytes_come) {
    auto reply = upstream_stub::default_reply(1);
    reply.raw = "HTTP/1.1 204 No Content\r\nContent-Length: 43\r\n\r\n";
    reply.raw_later = smuggled_response; // what the 204's Content-Length announced
    reply.later = 500ms;                 // the next request comes before these bytes
    first_call_gets(reply);
    auto const one = send(protected_post("one"));
    expect_one_stored(one, 204, "");
    EXPECT_FALSE(one.has("Content-Length")) << "RFC 9110 §8.6: none in a 204";
    EXPECT_FALSE(send(protected_post("one")).has("Content-Length"));
    expect_other_tenant_unharmed(2);
}

TEST_P(with_a_hostile_upstream, a_head_answered_with_a_body_never_reaches_the_next_client) {
    first_call_gets(std::string("HTTP/1.1 200 OK\r\nContent-Length: 43\r\n\r\n") +
                    smuggled_response);
    auto const head = send({"HEAD", "/v1/charges", {}, {}});
    EXPECT_EQ(head.status, 200U) << head.error;
    EXPECT_EQ(head.body, "");
    expect_other_tenant_unharmed(2);
}

TEST_P(with_a_hostile_upstream, a_101_without_upgrade_gives_502_and_keeps_the_claim) {
    first_call_gets(std::string("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
                                "Upgrade: websocket\r\n\r\n") +
                    smuggled_response);
    expect_error(send(protected_post("one")), 502, "upstream_unavailable");
    // The request was sent: the outcome is unknown, a retry must not run it again.
    expect_error(send(protected_post("one")), 409, "idempotency_request_in_progress");
    expect_other_tenant_unharmed(2);
}

TEST_P(with_a_hostile_upstream, a_set_cookie_trailer_is_dropped_live_and_in_replays) {
    first_call_gets(chunked_for_one("Set-Cookie: session=stolen\r\nX-Trailer: 1\r\n"));
    auto const one = send(protected_post("one"));
    expect_one_stored(one, 201, one_body);
    EXPECT_FALSE(one.has("Set-Cookie"));
    EXPECT_FALSE(one.has("X-Trailer"));
    EXPECT_FALSE(send(protected_post("one")).has("Set-Cookie"));
    expect_other_tenant_unharmed(2, true);
}

TEST_P(with_a_hostile_upstream, a_content_length_trailer_does_not_turn_a_201_into_a_502) {
    first_call_gets(chunked_for_one("Content-Length: 99\r\nTransfer-Encoding: gzip\r\n"));
    auto const one = send(protected_post("one"));
    expect_one_stored(one, 201, one_body);
    EXPECT_EQ(upstream_.calls(), 1U);
    expect_other_tenant_unharmed(2, true);
}

TEST_P(with_a_hostile_upstream, a_trailer_field_over_64_kib_gives_502_and_the_gateway_lives_on) {
    // Beast would throw std::length_error for it out of io_context::run (process ended);
    // the trailer section is bounded like a response head instead.
    first_call_gets(chunked_for_one("X-Big: " + std::string(70 * 1024, 'b') + "\r\n"));
    expect_error(send(protected_post("one")), 502, "upstream_unavailable");
    expect_error(send(protected_post("one")), 409, "idempotency_request_in_progress");
    expect_other_tenant_unharmed(2);
}

TEST_P(with_a_hostile_upstream, an_endless_chunk_extension_line_gives_502_at_once) {
    first_call_gets("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=" +
                    std::string(1024 * 1024, 'x'));
    auto const started = std::chrono::steady_clock::now();
    expect_error(send(protected_post("one")), 502, "upstream_unavailable");
    // Bounded by the line limit, not by upstream.timeout (3 s).
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
    expect_error(send(protected_post("one")), 409, "idempotency_request_in_progress");
    expect_other_tenant_unharmed(2);
}

INSTANTIATE_TEST_SUITE_P(stores, with_a_hostile_upstream, ::testing::ValuesIn(store_kinds()),
                         store_name);

} // namespace
} // namespace idemgate::test
