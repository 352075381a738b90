// Contract §2 "canonical_json": sorted object keys, no insignificant whitespace; equal bodies
// match, different bodies never do.
#include "idemgate/engine/canonical_json.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace idemgate::engine {
namespace {

struct row {
    std::string name;
    std::string text;
    std::optional<std::string> expected;
};

std::ostream& operator<<(std::ostream& os, row const& r) {
    return os << r.name;
}

class canonical_form : public ::testing::TestWithParam<row> {};

TEST_P(canonical_form, is_the_expected_text) {
    EXPECT_EQ(canonical_json(GetParam().text), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(
    documents, canonical_form,
    ::testing::Values(
        row{"keys_are_sorted", R"({"b":1,"a":2,"c":3})", R"({"a":2,"b":1,"c":3})"},
        row{"whitespace_is_removed", " {\n\t\"a\" : [ 1 , 2 ] ,\r\n \"b\" : { } } \n",
            R"({"a":[1,2],"b":{}})"},
        row{"nested_objects_are_sorted_at_every_level",
            R"({"z":{"y":{"b":true,"a":null}},"a":[{"d":1,"c":2}]})",
            R"({"a":[{"c":2,"d":1}],"z":{"y":{"a":null,"b":true}}})"},
        row{"array_order_is_kept", "[3, 1, 2]", "[3,1,2]"},
        row{"keys_sort_by_bytes", R"({"b":1,"B":2,"a":3})", R"({"B":2,"a":3,"b":1})"},
        row{"scalars_are_json", " 42 ", "42"}, row{"a_string_is_json", R"("x")", R"("x")"},
        row{"unicode_escapes_become_utf8", R"({"k":"caf\u00e9 \ud83d\ude00"})",
            "{\"k\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}"},
        row{"utf8_is_kept", "{\"k\":\"caf\xc3\xa9\"}", "{\"k\":\"caf\xc3\xa9\"}"},
        row{"escaped_solidus_is_unescaped", R"(["a\/b"])", R"(["a/b"])"},
        row{"control_characters_stay_escaped", R"(["a\nb\u0001"])", R"(["a\nb\u0001"])"},
        row{"equal_decimals_share_a_form", "[1.50, 1.5, 15e-1, 0.15e1]", "[1.5,1.5,1.5,1.5]"},
        row{"integers_are_exact", "[18446744073709551615, -9223372036854775808, -0]",
            "[18446744073709551615,-9223372036854775808,0]"},
        row{"same_key_in_different_objects_is_fine", R"({"a":{"a":1},"b":{"a":2}})",
            R"({"a":{"a":1},"b":{"a":2}})"},
        row{"empty_text_is_not_json", "", std::nullopt},
        row{"whitespace_only_is_not_json", " \n", std::nullopt},
        row{"form_body_is_not_json", "amount=10&currency=eur", std::nullopt},
        row{"unterminated_object_is_not_json", R"({"a":1)", std::nullopt},
        row{"trailing_garbage_is_not_json", R"({"a":1} x)", std::nullopt},
        row{"two_values_are_not_json", R"({"a":1}{"b":2})", std::nullopt},
        row{"trailing_comma_is_not_json", "[1,]", std::nullopt},
        row{"single_quotes_are_not_json", "{'a':1}", std::nullopt},
        row{"nan_is_not_json", "NaN", std::nullopt},
        row{"comments_are_not_json", "/* c */ 1", std::nullopt},
        row{"invalid_utf8_is_not_json", "[\"\xff\"]", std::nullopt},
        row{"nul_after_the_value_is_not_json", std::string("{}\0", 3), std::nullopt},
        row{"junk_after_a_nul_is_not_json", std::string("{\"a\":1}\0{\"a\":2}", 15), std::nullopt},
        // Rejected although valid JSON, because the canonical form would not be faithful:
        row{"duplicate_keys_fall_back_to_bytes", R"({"a":1,"a":2})", std::nullopt},
        row{"nested_duplicate_keys_fall_back_to_bytes", R"([{"x":{"a":1,"b":2,"a":1}}])",
            std::nullopt},
        row{"decimals_beyond_double_precision_fall_back_to_bytes", "[0.12345678901234567]",
            std::nullopt},
        row{"integers_beyond_64_bits_fall_back_to_bytes", "[123456789012345678901]", std::nullopt},
        row{"overflow_to_infinity_falls_back_to_bytes", "[1e400]", std::nullopt},
        row{"underflow_to_zero_falls_back_to_bytes", "[1e-400]", std::nullopt},
        row{"subnormal_numbers_fall_back_to_bytes", "[4.9e-324]", std::nullopt}),
    [](auto const& param_info) { return param_info.param.name; });

TEST(canonical_json, gives_equal_forms_for_reordered_and_reformatted_objects) {
    auto const a = canonical_json(R"({"amount":1000,"meta":{"b":[1,{"y":2,"x":1}],"a":"s"}})");
    auto const b = canonical_json(R"({ "meta" : { "a" : "s", "b" : [ 1, { "x" : 1, "y" : 2 } ] },
                                       "amount" : 1000 })");
    ASSERT_TRUE(a.has_value());
    EXPECT_EQ(a, b);
}

TEST(canonical_json, keeps_distinct_numbers_distinct) {
    EXPECT_NE(canonical_json("[1]"), canonical_json("[1.0]"));
    EXPECT_NE(canonical_json("[0.1]"), canonical_json("[0.10000000000001]"));
    EXPECT_NE(canonical_json("[1e300]"), canonical_json("[null]"));
}

TEST(canonical_json, is_its_own_canonical_form) {
    // nlohmann writes 1.04700472 as 1.0470047200000001, which was refused as a number of 17
    // digits (tests/fuzz/corpus/canonical_json/crash_seventeen_digit_form).
    for (auto const* text : {"[1.04700472]", R"({"b":[1.5,-0.0,1e300,0.1],"a":"x"})"}) {
        auto const form = canonical_json(text);
        ASSERT_TRUE(form.has_value()) << text;
        EXPECT_EQ(canonical_json(*form), form) << text;
    }
    EXPECT_EQ(canonical_json(" [ 1.0470047200000001 ] "), canonical_json("[1.04700472]"));
    // Another spelling of 17 digits is still refused: it could be another decimal.
    EXPECT_EQ(canonical_json("[1.04700472000000010]"), std::nullopt);
}

std::string nested_arrays(std::size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
}

TEST(canonical_json, accepts_nesting_up_to_256_levels) {
    EXPECT_EQ(canonical_json(nested_arrays(256)), nested_arrays(256));
    EXPECT_EQ(canonical_json(nested_arrays(257)), std::nullopt);
}

TEST(canonical_json, does_not_overflow_the_stack_on_very_deep_documents) {
    EXPECT_EQ(canonical_json(nested_arrays(1'000'000)), std::nullopt);
    EXPECT_EQ(canonical_json(std::string(1'000'000, '[')), std::nullopt);
}

} // namespace
} // namespace idemgate::engine
