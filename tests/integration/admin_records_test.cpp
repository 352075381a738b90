// Issue 13 §3: the records API on the admin listener (POST /admin/v1/records/lookup|evict,
// bearer token) and `idemgate records` against the configured store.
#include "gateway_fixture.hpp"

#include <openssl/evp.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <thread>

namespace idemgate::test {
namespace {

constexpr char const* records_token = "records-test-token-0123456789";

/// Base64 of `bytes` (what body_base64 must hold).
std::string records_base64(std::string const& bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    auto const n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                   reinterpret_cast<unsigned char const*>(bytes.data()),
                                   static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

/// The JSON naming the scope of protected_post(key).
nlohmann::json records_scope(std::string const& key) {
    return {{"api_key", test_api_key}, {"method", "POST"}, {"path", "/v1/charges"}, {"key", key}};
}

std::string records_series(std::string const& endpoint, std::string const& result) {
    return "idemgate_admin_requests_total{endpoint=\"" + endpoint + "\",result=\"" + result + "\"}";
}

class admin_records : public store_gateway_test {
protected:
    void start_with_token(gateway_config cfg = {}) {
        cfg.set_default("admin.token", std::string("\"") + records_token + "\"");
        start_gateway(std::move(cfg));
    }

    http_response records_call(std::string const& endpoint, nlohmann::json const& body,
                               std::optional<std::string> token = records_token) const {
        http_request req{"POST", "/admin/v1/records/" + endpoint, {}, body.dump()};
        req.headers.emplace_back("Content-Type", "application/json");
        if (token) req.headers.emplace_back("Authorization", "Bearer " + *token);
        return send_request(gateway_->admin_port(), req);
    }

    nlohmann::json lookup(nlohmann::json body, unsigned want = 200) const {
        auto const res = records_call("lookup", body);
        EXPECT_EQ(res.status, want) << res.error << res.body;
        EXPECT_EQ(res.header("Content-Type").rfind("application/json", 0), 0U);
        auto j = nlohmann::json::parse(res.body, nullptr, false);
        EXPECT_TRUE(j.is_object()) << res.body;
        return j;
    }

    double admin_count(std::string const& endpoint, std::string const& result) const {
        return metric_value(admin_get("/metrics").body, records_series(endpoint, result));
    }

    double not_owner_count() const {
        return metric_value(admin_get("/metrics").body,
                            "idemgate_store_errors_total{kind=\"not_owner\"}");
    }

    /// The upstream holds its first call until `release_` is set; later calls answer at once.
    /// Each body names its call.
    void hold_first_call() {
        upstream_.set_handler([this](recorded_request const&, std::size_t n) {
            auto reply = upstream_stub::default_reply(n);
            reply.body = R"({"call":)" + std::to_string(n) + "}";
            if (n == 1) reply.hold_until = [this] { return release_.load(); };
            return reply;
        });
    }

    std::atomic<bool> release_{false};
};

TEST_P(admin_records, are_not_found_when_no_token_is_configured) {
    start_gateway();
    auto const res = records_call("lookup", records_scope("k"));
    EXPECT_EQ(res.status, 404U) << res.body;
    EXPECT_EQ(records_call("evict", records_scope("k")).status, 404U);
    EXPECT_EQ(admin_get("/readyz").status, 200U) << "the rest of the listener still answers";
}

TEST_P(admin_records, refuse_a_missing_or_wrong_token_with_401_and_count_it) {
    start_with_token();
    auto const missing = records_call("lookup", records_scope("k"), std::nullopt);
    EXPECT_EQ(missing.status, 401U) << missing.body;
    EXPECT_EQ(missing.header("Content-Type").rfind("application/json", 0), 0U);
    EXPECT_EQ(records_call("lookup", records_scope("k"), "records-test-token-012345678X").status,
              401U);
    EXPECT_EQ(records_call("evict", records_scope("k"), "short").status, 401U);
    EXPECT_EQ(admin_count("lookup", "unauthorized"), 2);
    EXPECT_EQ(admin_count("evict", "unauthorized"), 1);
    EXPECT_EQ(admin_count("lookup", "ok"), 0) << "every series exists from the start";
    EXPECT_EQ(admin_count("evict", "error"), 0);
}

TEST_P(admin_records, look_up_a_completed_record_with_and_without_its_body) {
    start_with_token();
    auto const first = send(protected_post("done-1"));
    ASSERT_EQ(first.status, 201U) << first.error;

    auto const j = lookup(records_scope("done-1"));
    EXPECT_EQ(j.value("state", ""), "completed") << j;
    EXPECT_EQ(j.value("status", 0), 201);
    EXPECT_EQ(j.value("body_bytes", std::size_t{0}), first.body.size());
    EXPECT_EQ(j.value("body_omitted", true), false);
    std::regex const rfc3339(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
    EXPECT_TRUE(std::regex_match(j.value("created_at", ""), rfc3339)) << j;
    EXPECT_TRUE(std::regex_match(j.value("expires_at", ""), rfc3339)) << j;
    EXPECT_LT(j.value("created_at", ""), j.value("expires_at", ""));
    EXPECT_TRUE(std::regex_match(j.value("fingerprint", ""), std::regex("[0-9a-f]{64}"))) << j;
    EXPECT_FALSE(j.contains("body_base64"));
    EXPECT_FALSE(j.contains("headers"));

    auto with_body = records_scope("done-1");
    with_body["include_body"] = true;
    auto const full = lookup(with_body);
    EXPECT_EQ(full.value("body_base64", ""), records_base64(first.body));
    ASSERT_TRUE(full.contains("headers") && full["headers"].is_array()) << full;
    bool content_type = false;
    for (auto const& h : full["headers"]) {
        ASSERT_TRUE(h.is_array() && h.size() == 2) << h;
        content_type = content_type || h[0] == "Content-Type";
    }
    EXPECT_TRUE(content_type) << full;
    EXPECT_EQ(admin_count("lookup", "ok"), 2);

    // Another key, method, account or API key is another scope.
    lookup(records_scope("done-2"), 404);
    auto other = records_scope("done-1");
    other["account"] = "acct_1";
    lookup(other, 404);
    EXPECT_EQ(admin_count("lookup", "not_found"), 2);
}

TEST_P(admin_records, look_up_an_in_progress_claim) {
    hold_first_call();
    start_with_token();
    std::jthread client([&] { (void)send(protected_post("busy")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    auto const j = lookup(records_scope("busy"));
    EXPECT_EQ(j.value("state", ""), "in_progress") << j;
    EXPECT_TRUE(j.contains("status") && j["status"].is_null()) << j;
    EXPECT_EQ(j.value("body_bytes", 1), 0);
    release_ = true;
    client.join();
    EXPECT_EQ(lookup(records_scope("busy")).value("state", ""), "completed");
}

TEST_P(admin_records, evict_a_completed_record_then_the_retry_runs_again) {
    start_with_token();
    auto const first = send(protected_post("ev-1"));
    ASSERT_EQ(first.status, 201U);
    auto const evicted = records_call("evict", records_scope("ev-1"));
    EXPECT_EQ(evicted.status, 200U) << evicted.body;
    EXPECT_EQ(nlohmann::json::parse(evicted.body, nullptr, false),
              nlohmann::json({{"evicted", true}}));
    EXPECT_EQ(records_call("evict", records_scope("ev-1")).status, 404U);
    lookup(records_scope("ev-1"), 404);

    auto const retry = send(protected_post("ev-1"));
    EXPECT_EQ(retry.status, 201U);
    EXPECT_FALSE(retry.has(replay_header)) << "the retry executed again";
    EXPECT_EQ(upstream_.calls(), 2U);
    EXPECT_EQ(admin_count("evict", "ok"), 1);
    EXPECT_EQ(admin_count("evict", "not_found"), 1);
}

TEST_P(admin_records, an_evicted_claims_owner_cannot_replace_the_retrys_record) {
    hold_first_call();
    start_with_token();
    ASSERT_TRUE(wait_ready()); // a 503 before the store connects would never reach the upstream
    double const not_owner_before = not_owner_count();
    http_response evicted_client;
    std::jthread client([&] { evicted_client = send(protected_post("stuck")); });
    if (!upstream_.wait_for_calls(1, 5s)) {
        release_ = true;
        client.join();
        FAIL() << "the request never reached the upstream: " << evicted_client.status << " "
               << evicted_client.error << evicted_client.body;
    }
    EXPECT_EQ(records_call("evict", records_scope("stuck")).status, 200U);

    // The retry runs again (call 2) and its answer is stored.
    auto const retry = send(protected_post("stuck"));
    EXPECT_EQ(retry.status, 201U);
    EXPECT_EQ(retry.body, R"({"call":2})");
    EXPECT_FALSE(retry.has(replay_header));

    // The evicted request still gets its upstream's answer; its completion is refused.
    release_ = true;
    client.join();
    EXPECT_EQ(evicted_client.status, 201U) << evicted_client.error;
    EXPECT_EQ(evicted_client.body, R"({"call":1})");
    EXPECT_GE(not_owner_count(), not_owner_before + 1);

    auto const again = send(protected_post("stuck"));
    EXPECT_EQ(again.body, R"({"call":2})") << "the retry's record was not replaced";
    EXPECT_EQ(again.header(replay_header), "true");
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(admin_records, an_evicted_claims_completion_stores_nothing) {
    hold_first_call();
    start_with_token();
    std::jthread client([&] { (void)send(protected_post("gone")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    EXPECT_EQ(records_call("evict", records_scope("gone")).status, 200U);
    release_ = true;
    client.join();
    lookup(records_scope("gone"), 404);
    auto const retry = send(protected_post("gone"));
    EXPECT_FALSE(retry.has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(admin_records, answer_400_to_a_body_naming_no_scope) {
    start_with_token();
    EXPECT_EQ(records_call("lookup", "not json").status, 400U);
    EXPECT_EQ(records_call("lookup", {{"key", "k"}}).status, 400U);
    auto const route = records_call("lookup", {{"route", "/webhooks/x"}, {"key", "k"}});
    EXPECT_EQ(route.status, 400U) << "no route with scope: route is configured";
    EXPECT_NE(route.body.find("unknown_route"), std::string::npos) << route.body;
    EXPECT_EQ(admin_count("lookup", "error"), 3);
    http_request get{"GET", "/admin/v1/records/lookup", {}, {}};
    get.headers.emplace_back("Authorization", std::string("Bearer ") + records_token);
    EXPECT_EQ(send_request(gateway_->admin_port(), get).status, 405U);
}

TEST_P(admin_records, name_a_ledger_record_by_route_and_delivery_key) {
    start_with_token(gateway_config{}.set(
        "routes", "[{match: /webhooks/x, methods: [POST], key_from: 'json:/id', scope: route, "
                  "fingerprint: none}, {match: /v1/charges, ttl: 1h}]"));
    http_request delivery{"POST", "/webhooks/x", {}, R"({"id":"evt_1","n":1})"};
    delivery.headers.emplace_back("Content-Type", "application/json");
    auto const first = send(delivery);
    ASSERT_EQ(first.status, 201U) << first.error << first.body;

    // A trailing '/' is ignored, as in the config.
    auto const j = lookup({{"route", "/webhooks/x/"}, {"key", "evt_1"}});
    EXPECT_EQ(j.value("state", ""), "completed") << j;
    EXPECT_EQ(j.value("status", 0), 201);
    lookup({{"route", "/webhooks/x"}, {"key", "evt_2"}}, 404);
    lookup({{"route", "/webhooks/x"}, {"key", "EVT_1"}}, 404);

    // Only a route whose scope is route, and never both forms at once.
    auto const not_ledger = records_call("lookup", {{"route", "/v1/charges"}, {"key", "evt_1"}});
    EXPECT_EQ(not_ledger.status, 400U) << not_ledger.body;
    EXPECT_NE(not_ledger.body.find("unknown_route"), std::string::npos) << not_ledger.body;
    auto mixed = records_scope("evt_1");
    mixed["route"] = "/webhooks/x";
    EXPECT_EQ(records_call("lookup", mixed).status, 400U);
    EXPECT_EQ(records_call("lookup", {{"route", "/webhooks/x"}, {"key", ""}}).status, 400U);

    // Evicted: the sender's redelivery runs the handler again.
    EXPECT_EQ(records_call("evict", {{"route", "/webhooks/x"}, {"key", "evt_1"}}).status, 200U);
    lookup({{"route", "/webhooks/x"}, {"key", "evt_1"}}, 404);
    auto const again = send(delivery);
    EXPECT_EQ(again.status, 201U) << again.error;
    EXPECT_FALSE(again.has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(admin_records, log_every_call_with_peer_and_scope_but_never_the_api_key) {
    start_with_token();
    ASSERT_EQ(send(protected_post("logged")).status, 201U);
    lookup(records_scope("logged"));
    (void)records_call("evict", records_scope("logged"), "wrong-token-wrong-token");
    EXPECT_EQ(records_call("evict", records_scope("logged")).status, 200U);
    auto const line = gateway_->wait_for_json(
        [](nlohmann::json const& j) {
            return j.value("msg", "") == "admin records call" &&
                   j.value("endpoint", "") == "evict" && j.value("result", "") == "ok";
        },
        5s);
    ASSERT_TRUE(line.has_value()) << gateway_->output();
    EXPECT_EQ(line->value("peer", "").rfind("127.0.0.1:", 0), 0U) << *line;
    EXPECT_TRUE(std::regex_match(line->value("scope", ""), std::regex("[0-9a-f]{64}"))) << *line;
    EXPECT_EQ(gateway_->json_lines("admin records call").size(), 3U);
    for (auto const& l : gateway_->lines()) {
        EXPECT_EQ(l.find(test_api_key), std::string::npos) << l;
        EXPECT_EQ(l.find(records_token), std::string::npos) << l;
    }
}

INSTANTIATE_TEST_SUITE_P(stores, admin_records, ::testing::ValuesIn(store_kinds()), store_name);

} // namespace
} // namespace idemgate::test
