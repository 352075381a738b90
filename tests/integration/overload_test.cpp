// Issue 9 §5, work held at once: limits.max_inflight and limits.max_buffered_bytes answer
// 503 overloaded + Retry-After without calling the upstream; a `concurrent: wait` waiter
// whose client left stops polling the store.
#include "gateway_fixture.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

/// Writes `bytes` on a fresh loopback connection to `port` and closes it without reading:
/// a client that leaves. False when it could not connect or write.
bool send_and_leave(std::uint16_t port, std::string const& bytes) {
    int const fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok =
        ::connect(fd, reinterpret_cast<sockaddr const*>(&addr), sizeof addr) == 0 &&
        ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
    ::close(fd);
    return ok;
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

TEST_F(overload, a_waiter_whose_client_left_stops_polling_the_store) {
    upstream_.set_handler(first_call_takes(6s));
    start_gateway(gateway_config{}
                      .set("idempotency.concurrent", "wait")
                      .set("idempotency.wait_timeout", "20s")
                      .set("upstream.timeout", "10s"));
    std::thread owner([&] { // its answer takes 6 s: longer than the client's default bound
        http_client client(port(), {.timeout = 15s, .keep_alive = false});
        EXPECT_EQ(client.send(protected_post("gone-1")).status, 201U);
    });
    ASSERT_TRUE(upstream_called(upstream_, 1, 5s));
    std::string const body = default_body;
    ASSERT_TRUE(send_and_leave(
        port(), std::string("POST /v1/charges HTTP/1.1\r\nHost: t\r\n") + "Authorization: Bearer " +
                    test_api_key + "\r\n" + "Content-Type: application/json\r\n" +
                    "Idempotency-Key: gone-1\r\n" +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
    // The waiter ends long before the owner's 6 s and its 20 s wait_timeout.
    auto const waiter = gateway_->wait_for_json(
        [](nlohmann::json const& j) {
            return j.value("msg", "") == "access" && j.value("key", "") == "gone-1";
        },
        3s);
    ASSERT_TRUE(waiter.has_value()) << "the waiter kept polling after its client left";
    EXPECT_EQ(waiter->value("outcome", ""), "in_progress") << waiter->dump();
    owner.join();
    EXPECT_EQ(upstream_.calls(), 1U);
}

} // namespace
} // namespace idemgate::test
