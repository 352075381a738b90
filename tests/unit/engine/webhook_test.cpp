// The webhook-receipt ledger's pure parts (docs/webhooks.md): the Standard Webhooks verifier
// row by row, signed by our signer (and one vector of the reference implementation), and the
// key of a delivery under key_from.
#include "idemgate/engine/webhook.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace idemgate::engine {
namespace {

using namespace std::chrono_literals;

// The Standard Webhooks specification's example (signed by the reference implementation).
constexpr std::string_view spec_secret_b64 = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr std::string_view spec_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::string_view spec_body = R"({"test": 2432232314})";
constexpr std::string_view spec_signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
constexpr std::int64_t spec_ts = 1614265330;

std::string secret(std::string_view b64) {
    return config::base64_decode(b64).value();
}

TEST(sign_webhook, gives_the_reference_implementations_signature) {
    EXPECT_EQ(sign_webhook(secret(spec_secret_b64), spec_id, "1614265330", spec_body),
              spec_signature);
}

struct verify_row {
    std::string name;
    std::vector<std::string> secrets; // what the gateway holds
    std::optional<std::string> id, timestamp, signature;
    std::string body;
    webhook_verdict expected;
};

class verify : public testing::TestWithParam<verify_row> {};

TEST_P(verify, accepts_only_a_fresh_delivery_signed_by_a_held_secret) {
    auto const& r = GetParam();
    webhook_headers h;
    if (r.id) h.id = *r.id;
    if (r.timestamp) h.timestamp = *r.timestamp;
    if (r.signature) h.signature = *r.signature;
    EXPECT_EQ(verify_webhook(r.secrets, h, r.body, std::chrono::seconds(spec_ts), 300s),
              r.expected);
}

std::string const ts = std::to_string(spec_ts);
std::string const a = "secret-a-0123456789abcdef";
std::string const b = "secret-b-0123456789abcdef";
std::string const body = R"({"id":"evt_1","type":"paid"})";
std::string const good = sign_webhook(a, "msg_1", ts, body);
std::string const by_b = sign_webhook(b, "msg_1", ts, body);

INSTANTIATE_TEST_SUITE_P(
    rows, verify,
    testing::Values(
        verify_row{"good", {a}, "msg_1", ts, good, body, webhook_verdict::ok},
        verify_row{"reference_vector",
                   {secret(spec_secret_b64)},
                   std::string(spec_id),
                   ts,
                   std::string(spec_signature),
                   std::string(spec_body),
                   webhook_verdict::ok},
        verify_row{"tampered_body", {a}, "msg_1", ts, good, body + " ", webhook_verdict::signature},
        verify_row{"other_id", {a}, "msg_2", ts, good, body, webhook_verdict::signature},
        verify_row{"wrong_secret", {b}, "msg_1", ts, good, body, webhook_verdict::signature},
        verify_row{
            "two_secrets_second_matches", {a, b}, "msg_1", ts, by_b, body, webhook_verdict::ok},
        verify_row{"several_signatures_one_good",
                   {a},
                   "msg_1",
                   ts,
                   "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= v2,xyz " + good,
                   body,
                   webhook_verdict::ok},
        verify_row{
            "v2_only", {a}, "msg_1", ts, "v2," + good.substr(3), body, webhook_verdict::signature},
        verify_row{
            "no_signature", {a}, "msg_1", ts, std::nullopt, body, webhook_verdict::signature},
        verify_row{"empty_signature", {a}, "msg_1", ts, "", body, webhook_verdict::signature},
        verify_row{"no_id", {a}, std::nullopt, ts, good, body, webhook_verdict::signature},
        verify_row{
            "no_timestamp", {a}, "msg_1", std::nullopt, good, body, webhook_verdict::timestamp},
        verify_row{"stale",
                   {a},
                   "msg_1",
                   std::to_string(spec_ts - 301),
                   sign_webhook(a, "msg_1", std::to_string(spec_ts - 301), body),
                   body,
                   webhook_verdict::timestamp},
        verify_row{"at_tolerance",
                   {a},
                   "msg_1",
                   std::to_string(spec_ts - 300),
                   sign_webhook(a, "msg_1", std::to_string(spec_ts - 300), body),
                   body,
                   webhook_verdict::ok},
        verify_row{"future",
                   {a},
                   "msg_1",
                   std::to_string(spec_ts + 301),
                   sign_webhook(a, "msg_1", std::to_string(spec_ts + 301), body),
                   body,
                   webhook_verdict::timestamp},
        verify_row{
            "not_a_number", {a}, "msg_1", "16142653x0", good, body, webhook_verdict::timestamp},
        verify_row{"negative", {a}, "msg_1", "-1", good, body, webhook_verdict::timestamp},
        verify_row{"empty_timestamp", {a}, "msg_1", "", good, body, webhook_verdict::timestamp}),
    [](auto const& row) { return row.param.name; });

struct key_row {
    std::string name;
    std::string key_from;
    std::string body;
    std::optional<std::string> header;
    std::optional<std::string> expected;
};

class delivery_keys : public testing::TestWithParam<key_row> {};

TEST_P(delivery_keys, come_from_the_pointer_or_the_header) {
    auto const& r = GetParam();
    std::string why;
    auto const from = config::parse_key_from(r.key_from, why);
    ASSERT_TRUE(from) << why;
    std::optional<std::string_view> header;
    if (r.header) header = *r.header;
    EXPECT_EQ(delivery_key(*from, r.body, header), r.expected);
}

INSTANTIATE_TEST_SUITE_P(
    rows, delivery_keys,
    testing::Values(
        key_row{"string", "json:/id", R"({"id":"evt_1"})", std::nullopt, "evt_1"},
        key_row{"integer", "json:/id", R"({"id":42})", std::nullopt, "42"},
        key_row{"nested", "json:/data/event~1id", R"({"data":{"event/id":"e"}})", std::nullopt,
                "e"},
        key_row{"array_index", "json:/ids/1", R"({"ids":["a","b"]})", std::nullopt, "b"},
        key_row{"missing", "json:/id", R"({"other":"x"})", std::nullopt, std::nullopt},
        key_row{"empty", "json:/id", R"({"id":""})", std::nullopt, std::nullopt},
        key_row{"object", "json:/id", R"({"id":{"a":1}})", std::nullopt, std::nullopt},
        key_row{"null", "json:/id", R"({"id":null})", std::nullopt, std::nullopt},
        key_row{"not_json", "json:/id", "id=evt_1", std::nullopt, std::nullopt},
        key_row{"bad_index", "json:/ids/x", R"({"ids":["a"]})", std::nullopt, std::nullopt},
        key_row{"header", "header:webhook-id", "whatever", "msg_1", "msg_1"},
        key_row{"header_trimmed", "header:webhook-id", "", " msg_1 ", "msg_1"},
        key_row{"header_absent", "header:webhook-id", R"({"id":"x"})", std::nullopt, std::nullopt},
        key_row{"header_blank", "header:webhook-id", "", "  ", std::nullopt}),
    [](auto const& row) { return row.param.name; });

TEST(parse_key_from, refuses_what_is_neither_a_pointer_nor_a_header) {
    for (std::string const bad :
         {"id", "json:id", "json:/a~2", "header:", "header:a b", "body:/id"}) {
        std::string why;
        EXPECT_FALSE(config::parse_key_from(bad, why)) << bad;
        EXPECT_FALSE(why.empty()) << bad;
    }
}

} // namespace
} // namespace idemgate::engine
