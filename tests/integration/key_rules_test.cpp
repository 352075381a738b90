// Contract §1 "Key rules": what an Idempotency-Key may look like, seen from the client.
#include "gateway_fixture.hpp"

namespace idemgate::test {
namespace {

class idempotency_key_rules : public gateway_test {};

TEST_F(idempotency_key_rules, invalid_keys_get_400_key_invalid_and_never_reach_the_upstream) {
    start_gateway();
    std::vector<std::pair<std::string, std::string>> const cases{
        {"empty", ""},
        {"256 characters", std::string(256, 'k')},
        {"inner space", "abc def"},
        {"non-ASCII", "caf\xC3\xA9"},
        {"inner tab", "ab\tcd"},
        {"empty quoted string", "\"\""},
        {"quoted string with a space", "\"a b\""},
    };
    for (auto const& [label, key] : cases) {
        SCOPED_TRACE(label);
        expect_error(send(protected_post(key)), 400, "idempotency_key_invalid");
    }
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_F(idempotency_key_rules, two_key_headers_get_400_key_invalid_even_when_equal) {
    start_gateway();
    expect_error(send(with_header(protected_post("dup-1"), "Idempotency-Key", "dup-2")), 400,
                 "idempotency_key_invalid");
    expect_error(send(with_header(protected_post("dup-1"), "idempotency-key", "dup-1")), 400,
                 "idempotency_key_invalid");
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_F(idempotency_key_rules, a_key_of_255_visible_characters_is_protected) {
    start_gateway();
    std::string key;
    for (std::size_t i = 0; key.size() < 255; ++i) key += static_cast<char>(0x21 + i % 94);
    key[0] = 'a'; // not a quote: the key is taken literally
    auto const first = send(protected_post(key));
    auto const second = send(protected_post(key));
    EXPECT_EQ(first.status, 201U) << first.body;
    expect_replay_of(first, second);
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(idempotency_key_rules, the_quoted_form_means_the_same_key_as_the_bare_form) {
    start_gateway();
    auto const bare = send(protected_post("abc"));
    auto const quoted = send(protected_post("\"abc\""));
    EXPECT_EQ(bare.status, 201U) << bare.error;
    expect_replay_of(bare, quoted);

    auto const quoted_first = send(protected_post("\"xyz\""));
    auto const bare_second = send(protected_post("xyz"));
    expect_replay_of(quoted_first, bare_second);
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_F(idempotency_key_rules, surrounding_whitespace_is_not_part_of_the_key) {
    start_gateway();
    // Raw bytes: the field value carries optional whitespace that HTTP strips.
    http_client client(port());
    auto const raw = [&](std::string const& value) {
        std::string const body = default_body;
        return "POST /v1/charges HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
               std::string(test_api_key) + "\r\nIdempotency-Key:" + value +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    auto const first = client.send_raw(raw(" ws-key"));
    auto const second = client.send_raw(raw("\tws-key  "));
    EXPECT_EQ(first.status, 201U) << first.error;
    expect_replay_of(first, second);
    EXPECT_EQ(upstream_.calls(), 1U);
}

TEST_F(idempotency_key_rules, max_key_length_is_configurable) {
    start_gateway(gateway_config{}.set("idempotency.max_key_length", "8"));
    EXPECT_EQ(send(protected_post("12345678")).status, 201U);
    expect_error(send(protected_post("123456789")), 400, "idempotency_key_invalid");
    EXPECT_EQ(upstream_.calls(), 1U);
}

} // namespace
} // namespace idemgate::test
