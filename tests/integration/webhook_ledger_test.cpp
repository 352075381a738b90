// The webhook-receipt ledger (docs/webhooks.md): a route with key_from keeps the ids of the
// deliveries it forwarded; verify refuses forged or stale deliveries before the store. The
// deliveries are signed by the Standard Webhooks reference implementation (npm
// `standardwebhooks`, tests/support/webhook_signer). Both store backends.
#include "gateway_fixture.hpp"
#include "support/webhook_signer.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace idemgate::test {
namespace {

constexpr char const* hook = "/webhooks/chronapilot";
constexpr char const* secret_one = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char const* secret_two = "whsec_c2Vjb25kLXNlY3JldC0wMTIzNDU2Nzg5";
constexpr char const* secret_other = "whsec_b3RoZXItc2VjcmV0LW5vdC1oZWxkLTAx";

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string event(std::string const& id, std::string const& extra = "") {
    return R"({"id":")" + id + R"(","type":"payment.succeeded")" + extra + "}";
}

class webhook_ledger : public store_gateway_test {
protected:
    void SetUp() override {
        if (!reference_signer_available())
            GTEST_SKIP() << "node and npm are needed to sign deliveries with the reference "
                            "implementation (scripts/install-deps.sh installs them)";
        static int n = 0;
        secrets_ = std::filesystem::temp_directory_path() /
                   ("idemgate-whsec-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    }
    void TearDown() override {
        store_gateway_test::TearDown();
        std::filesystem::remove(secrets_);
    }

    /// A ledger route on `hook` (scope: route, fingerprint: none, verify with `secret_lines`)
    /// for `methods`, plus `extra` keys of that route.
    void start_ledger(std::string const& secret_lines, std::string const& extra = "",
                      std::string const& methods = "[POST]") {
        std::ofstream(secrets_) << secret_lines;
        start_gateway(gateway_config{}.set(
            "routes", std::string("[{match: ") + hook + ", methods: " + methods +
                          ", key_from: 'json:/id', scope: route, "
                          "fingerprint: none, verify: {scheme: standard-webhooks, secret_file: '" +
                          secrets_.string() + "', tolerance: 5m}" + extra + "}]"));
    }

    /// A delivery of `body` with id `id`, signed by the reference implementation.
    static http_request delivery(std::string const& secret, std::string const& id,
                                 std::string const& body, std::int64_t ts = now_seconds()) {
        http_request req{"POST", hook, {}, body};
        req.headers = {{"Content-Type", "application/json"},
                       {"webhook-id", id},
                       {"webhook-timestamp", std::to_string(ts)},
                       {"webhook-signature", reference_signature(secret, id, ts, body)}};
        return req;
    }

    double rejections(std::string const& reason) const {
        return metric_value(admin_get("/metrics").body,
                            "idemgate_webhook_rejections_total{reason=\"" + reason + "\"}");
    }

    std::filesystem::path secrets_;
};

TEST_P(webhook_ledger, a_redelivery_is_replayed_and_the_handler_runs_once) {
    start_ledger(std::string(secret_one) + "\n");
    auto const first = send(delivery(secret_one, "msg_1", event("evt_1")));
    EXPECT_EQ(first.status, 201U) << first.error << first.body;
    // The sender's retry: a new attempt timestamp and signature, the same event.
    auto const again = send(delivery(secret_one, "msg_1", event("evt_1", R"(,"attempt":2)")));
    expect_replay_of(first, again);
    EXPECT_EQ(upstream_.calls(), 1U);
    // Another event runs.
    EXPECT_FALSE(send(delivery(secret_one, "msg_2", event("evt_2"))).has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(webhook_ledger, a_handler_5xx_is_not_stored_and_the_retry_runs_the_handler_again) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        stub_reply r;
        r.status = n == 1 ? 500U : 200U;
        r.body = n == 1 ? "handler failed" : "ok";
        return r;
    });
    start_ledger(std::string(secret_one) + "\n");
    EXPECT_EQ(send(delivery(secret_one, "msg_5", event("evt_5"))).status, 500U);
    auto const retry = send(delivery(secret_one, "msg_5", event("evt_5")));
    EXPECT_EQ(retry.status, 200U) << retry.error << retry.body;
    EXPECT_FALSE(retry.has(replay_header));
    auto const third = send(delivery(secret_one, "msg_5", event("evt_5")));
    expect_replay_of(retry, third);
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(webhook_ledger, a_forged_delivery_gets_401_is_not_forwarded_and_not_recorded) {
    start_ledger(std::string(secret_one) + "\n");
    auto const before = rejections("signature");
    // Signed with a secret the gateway does not hold: the attacker posts the id first.
    expect_error(send(delivery(secret_other, "msg_f", event("evt_f"))), 401,
                 "webhook_signature_invalid");
    auto unsigned_delivery = delivery(secret_one, "msg_f", event("evt_f"));
    expect_error(send(without_header(unsigned_delivery, "webhook-signature")), 401,
                 "webhook_signature_invalid");
    auto tampered = delivery(secret_one, "msg_f", event("evt_f"));
    tampered.body = event("evt_f", R"(,"amount":1)");
    expect_error(send(tampered), 401, "webhook_signature_invalid");
    EXPECT_EQ(upstream_.calls(), 0U);
    EXPECT_EQ(rejections("signature"), before + 3);
    // The real delivery afterwards runs: nothing was recorded for its id.
    auto const real = send(delivery(secret_one, "msg_f", event("evt_f")));
    EXPECT_EQ(real.status, 201U) << real.error << real.body;
    EXPECT_FALSE(real.has(replay_header));
    EXPECT_EQ(upstream_.calls(), 1U);
    // A forgery of an id already stored gets 401, never the stored response.
    expect_error(send(delivery(secret_other, "msg_f", event("evt_f"))), 401,
                 "webhook_signature_invalid");
}

TEST_P(webhook_ledger, a_stale_or_future_timestamp_gets_401) {
    start_ledger(std::string(secret_one) + "\n");
    auto const before = rejections("timestamp");
    expect_error(send(delivery(secret_one, "msg_t", event("evt_t"), now_seconds() - 600)), 401,
                 "webhook_timestamp_invalid");
    expect_error(send(delivery(secret_one, "msg_t", event("evt_t"), now_seconds() + 600)), 401,
                 "webhook_timestamp_invalid");
    auto no_ts = delivery(secret_one, "msg_t", event("evt_t"));
    expect_error(send(without_header(no_ts, "webhook-timestamp")), 401,
                 "webhook_timestamp_invalid");
    EXPECT_EQ(upstream_.calls(), 0U);
    EXPECT_EQ(rejections("timestamp"), before + 3);
    EXPECT_EQ(send(delivery(secret_one, "msg_t", event("evt_t"))).status, 201U);
}

TEST_P(webhook_ledger, key_rotation_accepts_either_secret_and_several_signatures) {
    start_ledger(std::string(secret_one) + "\n\n" + secret_two + "\n");
    EXPECT_EQ(send(delivery(secret_one, "msg_r1", event("evt_r1"))).status, 201U);
    EXPECT_EQ(send(delivery(secret_two, "msg_r2", event("evt_r2"))).status, 201U);
    // The sender signs with its old (unknown here) and new secret during its rotation.
    auto both = delivery(secret_two, "msg_r3", event("evt_r3"));
    auto const ts = std::stoll(both.headers[2].second);
    both.headers[3].second =
        reference_signature(secret_other, "msg_r3", ts, both.body) + " " + both.headers[3].second;
    EXPECT_EQ(send(both).status, 201U);
    EXPECT_EQ(upstream_.calls(), 3U);
}

TEST_P(webhook_ledger, a_delivery_without_its_id_follows_missing_key) {
    start_ledger(std::string(secret_one) + "\n", ", missing_key: reject");
    expect_error(send(delivery(secret_one, "msg_m", R"({"type":"no id"})")), 400,
                 "idempotency_key_required");
    expect_error(send(delivery(secret_one, "msg_m", "not json")), 400, "idempotency_key_required");
    expect_error(send(delivery(secret_one, "msg_m", R"({"id":""})")), 400,
                 "idempotency_key_required");
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_P(webhook_ledger, a_delivery_without_its_id_is_forwarded_each_time_with_passthrough) {
    start_ledger(std::string(secret_one) + "\n", ", missing_key: passthrough");
    EXPECT_EQ(send(delivery(secret_one, "msg_p", R"({"type":"no id"})")).status, 201U);
    EXPECT_FALSE(send(delivery(secret_one, "msg_p", R"({"type":"no id"})")).has(replay_header));
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(webhook_ledger, scope_route_is_shared_by_every_api_key_method_path_and_none) {
    start_ledger(std::string(secret_one) + "\n", "", "[POST, PUT]");
    auto const first = send(with_header(delivery(secret_one, "msg_s", event("evt_s")),
                                        "Authorization", "Bearer sk_one"));
    EXPECT_EQ(first.status, 201U) << first.error << first.body;
    expect_replay_of(first, send(with_header(delivery(secret_one, "msg_s", event("evt_s")),
                                             "Authorization", "Bearer sk_two")));
    expect_replay_of(first, send(delivery(secret_one, "msg_s", event("evt_s"))));
    auto other_path = delivery(secret_one, "msg_s", event("evt_s"));
    other_path.method = "PUT";
    other_path.target = std::string(hook) + "/v2";
    expect_replay_of(first, send(other_path));
    EXPECT_EQ(upstream_.calls(), 1U);
}

INSTANTIATE_TEST_SUITE_P(stores, webhook_ledger, ::testing::ValuesIn(store_kinds()), store_name);

/// key_from with the default scope (api_key), no verify: the API key still splits scopes
/// and a delivery without one is forwarded untouched.
class webhook_ledger_api_key : public store_gateway_test {};

TEST_P(webhook_ledger_api_key, the_header_key_is_scoped_by_api_key) {
    start_gateway(gateway_config{}.set("routes", std::string("[{match: ") + hook +
                                                     ", key_from: 'header:webhook-id'}]"));
    auto post = [](std::string const& auth) {
        http_request req{"POST", hook, {}, event("evt_k")};
        req.headers = {{"Content-Type", "application/json"}, {"webhook-id", "msg_k"}};
        if (!auth.empty()) req.headers.emplace_back("Authorization", "Bearer " + auth);
        return req;
    };
    auto const a = send(post("sk_a"));
    EXPECT_EQ(a.status, 201U) << a.error << a.body;
    expect_replay_of(a, send(post("sk_a")));
    EXPECT_FALSE(send(post("sk_b")).has(replay_header));
    EXPECT_FALSE(send(post("")).has(replay_header));
    EXPECT_FALSE(send(post("")).has(replay_header));
    EXPECT_EQ(upstream_.calls(), 4U);
}

INSTANTIATE_TEST_SUITE_P(stores, webhook_ledger_api_key, ::testing::ValuesIn(store_kinds()),
                         store_name);

} // namespace
} // namespace idemgate::test
