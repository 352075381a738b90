// Contract §1 "Key rules" and §2 "API key", one row per rule.
#include "idemgate/engine/key_rules.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace idemgate::engine {
namespace {

struct key_row {
    std::string name;
    std::string value;
    std::size_t max_len;
    std::optional<std::string> expected;
};

std::ostream& operator<<(std::ostream& os, key_row const& r) {
    return os << r.name;
}

std::string repeat(char c, std::size_t n) {
    return std::string(n, c);
}

std::string all_visible_ascii() {
    std::string s;
    for (int c = 0x21; c <= 0x7E; ++c) s.push_back(static_cast<char>(c));
    return s;
}

class idempotency_key_rules : public ::testing::TestWithParam<key_row> {};

TEST_P(idempotency_key_rules, parses_the_field_value_as_the_contract_says) {
    auto const& row = GetParam();
    EXPECT_EQ(parse_idempotency_key(row.value, row.max_len), row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    contract, idempotency_key_rules,
    ::testing::Values(
        key_row{"plain_key_is_taken_as_is", "abc-123", 255, "abc-123"},
        key_row{"every_visible_ascii_character_is_allowed", all_visible_ascii(), 255,
                all_visible_ascii()},
        key_row{"surrounding_whitespace_is_ignored", " \tabc \t", 255, "abc"},
        key_row{"empty_value_is_invalid", "", 255, std::nullopt},
        key_row{"whitespace_only_is_invalid", "  \t ", 255, std::nullopt},
        key_row{"exactly_max_length_is_valid", repeat('k', 255), 255, repeat('k', 255)},
        key_row{"one_more_than_max_length_is_invalid", repeat('k', 256), 255, std::nullopt},
        key_row{"a_custom_max_length_is_honoured", repeat('k', 11), 10, std::nullopt},
        key_row{"space_inside_is_invalid", "ab cd", 255, std::nullopt},
        key_row{"tab_inside_is_invalid", "ab\tcd", 255, std::nullopt},
        key_row{"del_0x7f_is_invalid", "ab\x7f", 255, std::nullopt},
        key_row{"byte_0x80_is_invalid", "ab\x80", 255, std::nullopt},
        key_row{"utf8_letter_is_invalid", "caf\xc3\xa9", 255, std::nullopt},
        key_row{"nul_byte_is_invalid", std::string("ab\0cd", 5), 255, std::nullopt},
        key_row{"control_character_is_invalid", "ab\x01", 255, std::nullopt},
        key_row{"quote_not_at_the_start_is_part_of_the_key", "ab\"c", 255, "ab\"c"},
        key_row{"quoted_form_means_the_unquoted_key", "\"abc\"", 255, "abc"},
        key_row{"quoted_form_with_whitespace_around", " \"abc\"\t", 255, "abc"},
        key_row{"escaped_quote_and_backslash_are_unescaped", "\"a\\\"b\\\\c\"", 255, "a\"b\\c"},
        key_row{"quoted_empty_string_is_invalid", "\"\"", 255, std::nullopt},
        key_row{"quoted_space_is_invalid_although_rfc8941_allows_it", "\"a b\"", 255, std::nullopt},
        key_row{"unterminated_quote_is_invalid", "\"abc", 255, std::nullopt},
        key_row{"lone_quote_is_invalid", "\"", 255, std::nullopt},
        key_row{"characters_after_the_closing_quote_are_invalid", "\"abc\"x", 255, std::nullopt},
        key_row{"two_quoted_strings_are_invalid", "\"a\", \"b\"", 255, std::nullopt},
        key_row{"unknown_escape_is_invalid", "\"a\\nb\"", 255, std::nullopt},
        key_row{"backslash_at_the_end_is_invalid", "\"abc\\", 255, std::nullopt},
        key_row{"quoted_key_of_max_length_is_valid", "\"" + repeat('q', 255) + "\"", 255,
                repeat('q', 255)},
        key_row{"quoted_key_over_max_length_is_invalid", "\"" + repeat('q', 256) + "\"", 255,
                std::nullopt}),
    [](auto const& param_info) { return param_info.param.name; });

struct auth_row {
    std::string name;
    std::string value;
    std::optional<std::string> expected;
};

std::ostream& operator<<(std::ostream& os, auth_row const& r) {
    return os << r.name;
}

class api_key_parsing : public ::testing::TestWithParam<auth_row> {};

TEST_P(api_key_parsing, finds_the_api_key_of_an_authorization_value) {
    auto const& row = GetParam();
    EXPECT_EQ(api_key_of(row.value), row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    contract, api_key_parsing,
    ::testing::Values(
        auth_row{"bearer_token", "Bearer sk_live_abc", "sk_live_abc"},
        auth_row{"bearer_scheme_is_case_insensitive", "bEARER sk_live_abc", "sk_live_abc"},
        auth_row{"bearer_token_is_trimmed", "  Bearer \t sk_live_abc \t", "sk_live_abc"},
        auth_row{"bearer_with_tab_separator", "Bearer\tsk_live_abc", "sk_live_abc"},
        auth_row{"bearer_without_token", "Bearer", std::nullopt},
        auth_row{"bearer_with_blank_token", "Bearer   ", std::nullopt},
        auth_row{"scheme_glued_to_token_is_unknown", "Bearersk_live_abc", std::nullopt},
        auth_row{"basic_gives_user_and_password", "Basic dXNlcjpwYXNz", "user:pass"},
        auth_row{"basic_scheme_is_case_insensitive", "basic dXNlcjpwYXNz", "user:pass"},
        auth_row{"basic_with_another_password_is_another_key",
                 "Basic dXNlcjpXUk9ORw==", "user:WRONG"},
        auth_row{"basic_with_empty_password", "Basic c2tfdGVzdF8xMjM6", "sk_test_123:"},
        auth_row{"basic_with_padding", "Basic dXNlcjo=", "user:"},
        auth_row{"basic_keeps_every_colon", "Basic dXM6ZXI6cHc=", "us:er:pw"},
        auth_row{"basic_without_colon_is_a_bare_user", "Basic dXNlcg==", "user"},
        auth_row{"basic_without_padding_is_accepted", "Basic dXNlcjpwYQ", "user:pa"},
        auth_row{"basic_utf8_user", "Basic w6l0w6k6cHc=", "\xc3\xa9t\xc3\xa9:pw"},
        auth_row{"basic_with_empty_user", "Basic OnBhc3M=", std::nullopt},
        auth_row{"basic_with_invalid_characters", "Basic dXNl*jpw", std::nullopt},
        auth_row{"basic_with_padding_in_the_middle", "Basic dX=lcjpw", std::nullopt},
        auth_row{"basic_with_misplaced_padding", "Basic dXNlcjpwYXNz=", std::nullopt},
        auth_row{"basic_with_a_dangling_character", "Basic dXNlc", std::nullopt},
        auth_row{"basic_without_credentials", "Basic ", std::nullopt},
        auth_row{"other_scheme", "Digest username=\"u\"", std::nullopt},
        auth_row{"token_scheme", "Token abc", std::nullopt},
        auth_row{"empty_value", "", std::nullopt}),
    [](auto const& param_info) { return param_info.param.name; });

} // namespace
} // namespace idemgate::engine
