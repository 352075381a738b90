// Issue 9 §5, work held at once: limits.max_inflight and limits.max_buffered_bytes answer
// 503 overloaded + Retry-After without calling the upstream.
#include "gateway_fixture.hpp"

namespace idemgate::test {
namespace {

/// Polls until the upstream has been called `n` times; false after `timeout`.
bool upstream_called(upstream_stub const& stub, std::size_t n, std::chrono::milliseconds timeout) {
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    while (stub.calls() < n) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

/// Sends `req` until it is not refused as overloaded: a session frees its share just after
/// its client has read the answer. The last answer after `timeout`.
http_response send_once_there_is_room(std::uint16_t port, http_request const& req,
                                      std::chrono::milliseconds timeout = 2000ms) {
    auto const deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto res = send_request(port, req);
        if (res.status != 503 || std::chrono::steady_clock::now() >= deadline) return res;
        std::this_thread::sleep_for(10ms);
    }
}

/// A slow first answer (the upstream stays busy for `delay`), immediate ones after it.
stub_handler first_call_takes(std::chrono::milliseconds delay) {
    return [delay](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (n == 1) reply.delay = delay;
        return reply;
    };
}

class overload : public gateway_test {};

TEST_F(overload, over_max_inflight_a_request_gets_503_overloaded_and_the_upstream_is_not_called) {
    upstream_.set_handler(first_call_takes(3s));
    start_gateway(gateway_config{}.set("limits.max_inflight", "1"));
    std::thread busy([&] { EXPECT_EQ(send({"GET", "/slow", {}, {}}).status, 201U); });
    ASSERT_TRUE(upstream_called(upstream_, 1, 5s));
    auto const refused = send(protected_post("inflight-1"));
    expect_error(refused, 503, "overloaded");
    EXPECT_EQ(refused.header("Retry-After"), "1");
    EXPECT_EQ(upstream_.calls(), 1U);
    EXPECT_EQ(metric_value(admin_get("/metrics").body,
                           "idemgate_http_errors_total{reason=\"overloaded\"}"),
              1);
    busy.join();
    EXPECT_EQ(send_once_there_is_room(port(), protected_post("inflight-1")).status, 201U);
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_F(overload, a_body_over_the_remaining_buffer_budget_gets_503_before_it_is_read) {
    upstream_.set_handler(first_call_takes(3s));
    start_gateway(gateway_config{}.set("limits.max_buffered_bytes", "64KiB"));
    std::string const big(40 * 1024, 'a');
    // One request holds 40 KiB of the 64 KiB while its upstream works...
    std::thread busy([&] { EXPECT_EQ(send({"POST", "/upload", {}, big}).status, 201U); });
    ASSERT_TRUE(upstream_called(upstream_, 1, 5s));
    // ...so another 40 KiB does not fit: refused, never forwarded.
    auto const refused = send({"POST", "/upload", {}, big});
    expect_error(refused, 503, "overloaded");
    EXPECT_EQ(refused.header("Retry-After"), "1");
    EXPECT_EQ(upstream_.calls(), 1U);
    // A small body still fits beside it.
    EXPECT_EQ(send({"POST", "/small", {}, "x"}).status, 201U);
    busy.join();
    // And once the first is answered its bytes are free again.
    EXPECT_EQ(send_once_there_is_room(port(), {"POST", "/upload", {}, big}).status, 201U);
    EXPECT_EQ(upstream_.calls(), 3U);
    // A body larger than the whole budget never fits.
    expect_error(send({"POST", "/upload", {}, std::string(65 * 1024, 'b')}), 503, "overloaded");
    EXPECT_EQ(upstream_.calls(), 3U);
}

} // namespace
} // namespace idemgate::test
