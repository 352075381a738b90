// Contract §1's table, one row per rule, in the order classify() applies them.
#include "idemgate/engine/classify.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace idemgate::engine {
namespace {

constexpr char const* bearer = "Bearer sk_test_123";

struct row {
    std::string name;
    std::string method;
    std::optional<std::string> authorization;
    std::vector<std::string> keys;
    config::missing_key_mode missing_key = config::missing_key_mode::passthrough;
    request_class kind = request_class::passthrough;
    passthrough_reason reason = passthrough_reason::none;
    errc error = errc::ok;
    std::string key; // expected when protected
};

std::ostream& operator<<(std::ostream& os, row const& r) {
    return os << r.name;
}

row protected_row(std::string name, std::string method, std::string key_field, std::string key) {
    return {std::move(name),
            std::move(method),
            bearer,
            {std::move(key_field)},
            config::missing_key_mode::passthrough,
            request_class::protected_request,
            passthrough_reason::none,
            errc::ok,
            std::move(key)};
}

row passthrough_row(std::string name, std::string method, std::optional<std::string> auth,
                    std::vector<std::string> keys, passthrough_reason reason,
                    config::missing_key_mode mode = config::missing_key_mode::passthrough) {
    return {std::move(name),
            std::move(method),
            std::move(auth),
            std::move(keys),
            mode,
            request_class::passthrough,
            reason,
            errc::ok,
            {}};
}

row rejected_row(std::string name, std::vector<std::string> keys, errc error,
                 config::missing_key_mode mode = config::missing_key_mode::passthrough) {
    return {std::move(name),          "POST", bearer,
            std::move(keys),          mode,   request_class::rejected,
            passthrough_reason::none, error,  {}};
}

class classify_rules : public ::testing::TestWithParam<row> {};

TEST_P(classify_rules, classifies_the_request_as_the_contract_says) {
    auto const& r = GetParam();
    request_view req;
    req.method = r.method;
    req.target = "/v1/charges?expand=1";
    if (r.authorization) req.credential = *r.authorization;
    for (auto const& k : r.keys) req.idempotency_keys.push_back(k);
    config::idempotency_config cfg;
    cfg.missing_key = r.missing_key;

    auto const c = classify(req, cfg);
    EXPECT_EQ(c.kind, r.kind);
    EXPECT_EQ(c.reason, r.reason);
    EXPECT_EQ(c.error, r.error);
    EXPECT_EQ(c.key, r.key);
    EXPECT_EQ(c.api_key, r.kind == request_class::protected_request ? "sk_test_123" : "");
}

using mode = config::missing_key_mode;
using reason = passthrough_reason;

INSTANTIATE_TEST_SUITE_P(
    contract, classify_rules,
    ::testing::Values(
        protected_row("post_with_key_is_protected", "POST", "k1", "k1"),
        protected_row("patch_with_key_is_protected", "PATCH", "k1", "k1"),
        protected_row("quoted_key_is_protected_unquoted", "POST", "\"k1\"", "k1"),
        protected_row("key_of_exactly_255_characters_is_protected", "POST", std::string(255, 'k'),
                      std::string(255, 'k')),
        passthrough_row("get_with_key_is_forwarded_untouched", "GET", bearer, {"k1"},
                        reason::method),
        passthrough_row("head_with_key_is_forwarded_untouched", "HEAD", bearer, {"k1"},
                        reason::method),
        passthrough_row("options_with_key_is_forwarded_untouched", "OPTIONS", bearer, {"k1"},
                        reason::method),
        passthrough_row("delete_with_key_is_forwarded_untouched", "DELETE", bearer, {"k1"},
                        reason::method),
        passthrough_row("put_with_key_is_forwarded_untouched", "PUT", bearer, {"k1"},
                        reason::method),
        // `post` is refused (contract §7): classify.refuses_a_protected_method_in_another_case
        passthrough_row("lower_case_unprotected_method_is_forwarded", "delete", bearer, {"k1"},
                        reason::method),
        passthrough_row("get_with_invalid_key_is_still_forwarded", "GET", bearer, {""},
                        reason::method),
        passthrough_row("get_without_key_under_reject_is_forwarded", "GET", bearer, {},
                        reason::method, mode::reject),
        passthrough_row("missing_key_under_passthrough_is_forwarded", "POST", bearer, {},
                        reason::missing_key),
        rejected_row("missing_key_under_reject_is_rejected", {}, errc::key_required, mode::reject),
        passthrough_row("no_authorization_is_forwarded", "POST", std::nullopt, {"k1"},
                        reason::no_api_key),
        passthrough_row("unusable_authorization_is_forwarded", "POST", "Digest x", {"k1"},
                        reason::no_api_key),
        passthrough_row("no_api_key_wins_over_a_missing_key_under_reject", "POST", std::nullopt, {},
                        reason::no_api_key, mode::reject),
        passthrough_row("no_api_key_wins_over_an_invalid_key", "POST", "Bearer ", {"a b"},
                        reason::no_api_key),
        rejected_row("two_key_fields_are_invalid", {"k1", "k2"}, errc::key_invalid),
        rejected_row("two_equal_key_fields_are_invalid", {"k1", "k1"}, errc::key_invalid),
        rejected_row("empty_key_is_invalid", {""}, errc::key_invalid),
        rejected_row("key_of_256_characters_is_invalid", {std::string(256, 'k')},
                     errc::key_invalid),
        rejected_row("key_with_space_is_invalid", {"k 1"}, errc::key_invalid),
        rejected_row("key_with_tab_inside_is_invalid", {"k\t1"}, errc::key_invalid),
        rejected_row("key_with_0x7f_is_invalid", {"k\x7f"}, errc::key_invalid),
        rejected_row("key_with_0x80_is_invalid", {"k\x80"}, errc::key_invalid),
        rejected_row("quoted_empty_key_is_invalid", {"\"\""}, errc::key_invalid)),
    [](auto const& param_info) { return param_info.param.name; });

TEST(classify, protects_the_methods_of_the_configuration_only) {
    config::idempotency_config cfg;
    cfg.methods = {"PUT"};
    request_view req;
    req.credential = "Bearer t";
    req.idempotency_keys = {"k1"};
    req.method = "PUT";
    EXPECT_EQ(classify(req, cfg).kind, request_class::protected_request);
    req.method = "POST";
    EXPECT_EQ(classify(req, cfg).reason, passthrough_reason::method);
}

TEST(classify, applies_the_configured_maximum_key_length) {
    config::idempotency_config cfg;
    cfg.max_key_length = 4;
    request_view req;
    req.method = "POST";
    req.credential = "Bearer t";
    req.idempotency_keys = {"abcd"};
    EXPECT_EQ(classify(req, cfg).kind, request_class::protected_request);
    req.idempotency_keys = {"abcde"};
    EXPECT_EQ(classify(req, cfg).error, errc::key_invalid);
}

TEST(classify, takes_the_api_key_from_basic_credentials) {
    request_view req;
    req.method = "POST";
    req.credential = "Basic dXNlcjpwYXNz"; // user:pass
    req.idempotency_keys = {"k1"};
    auto const c = classify(req, config::idempotency_config{});
    EXPECT_EQ(c.kind, request_class::protected_request);
    EXPECT_EQ(c.api_key, "user:pass"); // the password too: a replay is not authenticated
}

TEST(classify, takes_the_api_key_from_the_configured_header) {
    request_view req;
    req.method = "POST";
    req.credential = "  key_123 ";
    req.credential_is_header = true;
    req.idempotency_keys = {"k1"};
    auto const c = classify(req, config::idempotency_config{});
    EXPECT_EQ(c.kind, request_class::protected_request);
    EXPECT_EQ(c.api_key, "key_123");
    req.credential = " ";
    EXPECT_EQ(classify(req, config::idempotency_config{}).reason, passthrough_reason::no_api_key);
}

TEST(classify, refuses_a_protected_method_in_another_case) {
    request_view req;
    req.credential = "Bearer t";
    req.idempotency_keys = {"k1"};
    for (auto const* m : {"post", "Post", "pOST", "patch"}) {
        req.method = m;
        auto const c = classify(req, config::idempotency_config{});
        EXPECT_EQ(c.kind, request_class::rejected) << m;
        EXPECT_EQ(c.error, errc::method_case) << m;
    }
    req.method = "get"; // not protected in any case: forwarded as sent
    EXPECT_EQ(classify(req, config::idempotency_config{}).reason, passthrough_reason::method);
}

} // namespace
} // namespace idemgate::engine
