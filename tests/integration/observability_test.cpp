// Contract §6: every outcome moves idemgate_requests_total, every decision has an access log
// line without the API key or a body, and the admin listener answers its probes.
#include "gateway_fixture.hpp"

#include <array>
#include <functional>
#include <map>

namespace idemgate::test {
namespace {

constexpr std::array<char const*, 8> outcomes{"executed",          "replayed",      "conflict",
                                              "in_progress",       "passthrough",   "rejected",
                                              "store_unavailable", "upstream_error"};

class observability : public gateway_test {
protected:
    std::map<std::string, double> counters() const {
        auto const text = admin_get("/metrics").body;
        std::map<std::string, double> out;
        for (auto const* o : outcomes) {
            out[o] = metric_value(text, requests_series(o));
        }
        return out;
    }

    /// `action` sends one request: `outcome` moves by one and no other outcome moves.
    void expect_outcome(std::string const& outcome, std::function<void()> const& action) {
        SCOPED_TRACE(outcome);
        auto const before = counters();
        action();
        auto after = counters();
        for (auto const& [o, value] : before) {
            EXPECT_EQ(after[o] - value, o == outcome ? 1.0 : 0.0) << "outcome " << o;
        }
    }
};

TEST_F(observability, every_outcome_series_exists_at_zero_on_start) {
    start_gateway();
    auto const res = admin_get("/metrics");
    EXPECT_EQ(res.status, 200U) << res.error;
    EXPECT_EQ(res.header("Content-Type").rfind("text/plain", 0), 0U) << res.header("Content-Type");
    for (auto const& [outcome, value] : counters()) EXPECT_EQ(value, 0.0) << outcome;
}

TEST_F(observability, each_outcome_moves_its_counter_by_one) {
    upstream_.set_handler([](recorded_request const& req, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (req.header("Idempotency-Key") == "m-hang") reply.act = stub_reply::action::hang;
        return reply;
    });
    start_gateway(gateway_config{}.set("upstream.timeout", "300ms"));
    expect_outcome("executed", [&] { EXPECT_EQ(send(protected_post("m-1")).status, 201U); });
    expect_outcome("replayed", [&] { EXPECT_EQ(send(protected_post("m-1")).status, 201U); });
    expect_outcome("conflict", [&] { EXPECT_EQ(send(protected_post("m-1", "{}")).status, 409U); });
    expect_outcome("passthrough", [&] { EXPECT_EQ(send({"GET", "/", {}, {}}).status, 201U); });
    expect_outcome("rejected", [&] { EXPECT_EQ(send(protected_post("")).status, 400U); });
    expect_outcome("upstream_error",
                   [&] { EXPECT_EQ(send(protected_post("m-hang")).status, 504U); });
    expect_outcome("in_progress", [&] { EXPECT_EQ(send(protected_post("m-hang")).status, 409U); });
}

TEST_F(observability, an_unreachable_store_gives_503_with_retry_after_and_is_counted) {
    start_gateway(
        gateway_config{}
            .set("store.backend", "redis")
            .set("store.redis.url", "redis://127.0.0.1:" + std::to_string(unused_port()) + "/0")
            .set("store.redis.connect_timeout", "200ms")
            .set("store.redis.command_timeout", "200ms"));
    expect_outcome("store_unavailable", [&] {
        auto const res = send(protected_post("st-1"));
        expect_error(res, 503, "idempotency_store_unavailable");
        EXPECT_FALSE(res.header("Retry-After").empty());
    });
    EXPECT_EQ(upstream_.calls(), 0U);
    EXPECT_EQ(send({"GET", "/v1/charges", {}, {}}).status, 201U); // unprotected: forwarded
    EXPECT_EQ(admin_get("/readyz").status, 503U);
    EXPECT_EQ(admin_get("/healthz").status, 200U);
}

TEST_F(observability, the_probes_answer_200_when_ready) {
    start_gateway();
    EXPECT_EQ(admin_get("/healthz").status, 200U);
    EXPECT_EQ(admin_get("/readyz").status, 200U);
}

TEST_F(observability, a_replay_has_an_access_line_with_outcome_key_and_timing) {
    start_gateway();
    EXPECT_EQ(send(protected_post("log-1")).status, 201U);
    EXPECT_EQ(send(protected_post("log-1")).status, 201U);
    auto const line = gateway_->wait_for_json(
        [](nlohmann::json const& j) {
            return j.value("msg", "") == "access" && j.value("outcome", "") == "replayed";
        },
        3s);
    ASSERT_TRUE(line.has_value()) << gateway_->output();
    EXPECT_EQ(line->value("method", ""), "POST");
    EXPECT_EQ(line->value("path", ""), "/v1/charges");
    EXPECT_EQ(line->value("status", 0), 201);
    EXPECT_EQ(line->value("key", ""), "log-1");
    EXPECT_FALSE(line->value("request_id", "").empty()) << line->dump();
    EXPECT_TRUE(line->contains("duration_ms") && (*line)["duration_ms"].is_number())
        << line->dump();
}

TEST_F(observability, no_log_line_contains_the_api_key_or_a_body) {
    start_gateway();
    auto const body = std::string(R"({"card":"secret-body-marker-77"})");
    EXPECT_EQ(send(protected_post("log-2", body)).status, 201U);
    EXPECT_EQ(send(protected_post("log-2", body)).status, 201U);
    expect_error(send(protected_post("log-2", "{}")), 409, "idempotency_key_in_use");
    ASSERT_TRUE(gateway_->wait_for_json(
        [](nlohmann::json const& j) { return j.value("outcome", "") == "conflict"; }, 3s));
    EXPECT_EQ(gateway_->json_lines("access").size(), 3U) << gateway_->output();
    auto const output = gateway_->output();
    EXPECT_EQ(output.find(test_api_key), std::string::npos);
    EXPECT_EQ(output.find("secret-body-marker-77"), std::string::npos);
    EXPECT_EQ(output.find("obj_1"), std::string::npos); // the upstream's response body
}

} // namespace
} // namespace idemgate::test
