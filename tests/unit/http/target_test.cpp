// Contract §7: the request target's one normal form, scoped and forwarded; row by row.
#include "idemgate/http/target.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace idemgate::http_server {
namespace {

struct target_row {
    std::string name;
    std::string target;
    std::optional<std::string> expected; // nullopt: 400
    std::string host = "api.example.com";
};

std::ostream& operator<<(std::ostream& os, target_row const& r) {
    return os << r.name;
}

class target_normalisation : public ::testing::TestWithParam<target_row> {};

TEST_P(target_normalisation, gives_the_normal_form_or_refuses) {
    auto const& r = GetParam();
    EXPECT_EQ(normalise_target(r.target, r.host), r.expected) << r.target;
}

INSTANTIATE_TEST_SUITE_P(
    rfc3986, target_normalisation,
    ::testing::Values(
        target_row{"plain_path_is_kept", "/v1/charges", "/v1/charges"},
        target_row{"root", "/", "/"},
        target_row{"query_is_kept_as_sent", "/v1/charges?a=%2f&b=..", "/v1/charges?a=%2f&b=.."},
        target_row{"empty_query_is_kept", "/v1/charges?", "/v1/charges?"},
        target_row{"trailing_slash_is_kept", "/v1/charges/", "/v1/charges/"},
        target_row{"double_slashes_are_one", "/v1//charges", "/v1/charges"},
        target_row{"leading_double_slash", "//v1/charges", "/v1/charges"},
        target_row{"dot_segment_removed", "/v1/./charges", "/v1/charges"},
        target_row{"dot_dot_inside_the_path", "/v1/x/../charges", "/v1/charges"},
        target_row{"final_dot_dot_leaves_a_slash", "/v1/charges/x/..", "/v1/charges/"},
        target_row{"final_dot_leaves_a_slash", "/v1/charges/.", "/v1/charges/"},
        target_row{"encoded_unreserved_decoded", "/v1/%63harges%7E", "/v1/charges~"},
        target_row{"other_escapes_upper_cased", "/v1/a%2fb%c3%a9", "/v1/a%2Fb%C3%A9"},
        target_row{"encoded_dot_dot_inside", "/v1/x/%2e%2E/charges", "/v1/charges"},
        target_row{"encoded_slash_alone_is_data", "/v1/files/a%2Fb", "/v1/files/a%2Fb"},
        target_row{"climbing_above_root", "/../x", std::nullopt},
        target_row{"climbing_after_a_segment", "/v1/../../x", std::nullopt},
        target_row{"encoded_dot_dot_above_root", "/%2e%2e/x", std::nullopt},
        target_row{"dot_dot_behind_an_encoded_slash", "/..%2fx", std::nullopt},
        target_row{"dot_dot_behind_an_encoded_backslash", "/..%5Cx", std::nullopt},
        target_row{"encoded_slash_then_dot_dot", "/v1/x%2F..%2F..%2Fy", std::nullopt},
        target_row{"dot_dot_with_a_path_parameter", "/v1/..;/x", std::nullopt},
        target_row{"fragment", "/v1/charges#frag", std::nullopt},
        target_row{"space", "/v1/ch arges", std::nullopt},
        target_row{"raw_backslash", "/v1\\charges", std::nullopt},
        target_row{"non_ascii_byte", "/v1/caf\xc3\xa9", std::nullopt},
        target_row{"bad_escape", "/v1/%zz", std::nullopt},
        target_row{"no_leading_slash", "v1/charges", std::nullopt},
        target_row{"asterisk_form", "*", std::nullopt},
        target_row{"authority_form", "api.example.com:443", std::nullopt},
        target_row{"empty", "", std::nullopt},
        target_row{"absolute_form_with_the_host", "http://api.example.com/v1/./charges?x=1",
                   "/v1/charges?x=1"},
        target_row{"absolute_form_host_case", "http://API.example.COM/v1", "/v1"},
        target_row{"absolute_form_without_path", "https://api.example.com", "/"},
        target_row{"absolute_form_other_host", "http://evil.example/v1/charges", std::nullopt},
        target_row{"absolute_form_with_userinfo", "http://u@api.example.com/v1", std::nullopt,
                   "u@api.example.com"},
        target_row{"absolute_form_other_scheme", "ftp://api.example.com/v1", std::nullopt},
        target_row{"absolute_form_climbing", "http://api.example.com/../x", std::nullopt}),
    [](auto const& param_info) { return param_info.param.name; });

} // namespace
} // namespace idemgate::http_server
