// Contract §7: the checks on a request head that Beast does not make, row by row.
#include "idemgate/http/request_rules.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace idemgate::http_server {
namespace {

using fields = std::vector<std::pair<std::string, std::string>>;

request make(fields const& f, http::verb method = http::verb::post, std::string target = "/v1/x",
             unsigned version = 11) {
    request req{method, target, version};
    for (auto const& [name, value] : f) req.insert(name, value);
    return req;
}

head_rules rules(config::underscores_mode mode = config::underscores_mode::drop) {
    config::config cfg;
    cfg.limits.headers_with_underscores = mode;
    return make_head_rules(cfg);
}

errc check(request req, bool chunked = false) {
    return check_head(req, chunked, rules());
}

TEST(check_head, accepts_an_ordinary_request) {
    EXPECT_EQ(check(make({{"Host", "a"}, {"Authorization", "Bearer t"}})), errc::ok);
}

TEST(check_head, answers_connect_with_405) {
    EXPECT_EQ(check(make({{"Host", "a"}}, http::verb::connect, "a:443")), errc::method_not_allowed);
}

TEST(check_head, accepts_exactly_chunked_and_nothing_else) {
    EXPECT_EQ(check(make({{"Host", "a"}, {"Transfer-Encoding", "chunked"}}), true), errc::ok);
    EXPECT_EQ(check(make({{"Host", "a"}, {"Transfer-Encoding", " Chunked "}}), true), errc::ok);
    EXPECT_EQ(check(make({{"Host", "a"}, {"Transfer-Encoding", "gzip, chunked"}}), true),
              errc::coding_unsupported);
    EXPECT_EQ(check(make({{"Host", "a"}, {"Transfer-Encoding", "gzip"}}), false),
              errc::coding_unsupported);
    EXPECT_EQ(check(make({{"Host", "a"},
                          {"Transfer-Encoding", "chunked"},
                          {"Transfer-Encoding", "chunked"}}),
                    true),
              errc::coding_unsupported);
}

TEST(check_head, refuses_transfer_encoding_on_http_1_0) {
    EXPECT_EQ(check(make({{"Transfer-Encoding", "chunked"}}, http::verb::post, "/", 10), true),
              errc::bad_framing);
}

TEST(check_head, wants_host_exactly_once_on_http_1_1) {
    EXPECT_EQ(check(make({})), errc::bad_header);
    EXPECT_EQ(check(make({{"Host", "a"}, {"Host", "b"}})), errc::bad_header);
    EXPECT_EQ(check(make({}, http::verb::get, "/", 10)), errc::ok); // 1.0 may omit it
    EXPECT_EQ(check(make({{"Host", "a"}, {"Host", "a"}}, http::verb::get, "/", 10)),
              errc::bad_header);
}

TEST(check_head, refuses_a_repeated_identity_field) {
    EXPECT_EQ(check(make({{"Host", "a"}, {"Authorization", "Bearer a"}, {"authorization", "x"}})),
              errc::bad_header);
    EXPECT_EQ(
        check(make(
            {{"Host", "a"}, {"Chronapilot-Account", "acct_1"}, {"Chronapilot-Account", "acct_2"}})),
        errc::bad_header);
}

TEST(check_head, refuses_the_configured_credential_header_twice) {
    config::config cfg;
    cfg.idempotency.credential = "header:X-Api-Key";
    auto req = make({{"Host", "a"}, {"X-Api-Key", "k1"}, {"X-Api-Key", "k2"}});
    EXPECT_EQ(check_head(req, false, make_head_rules(cfg)), errc::bad_header);
}

TEST(check_head, refuses_a_connection_header_naming_an_identity_field) {
    for (auto const* named : {"Authorization", "chronapilot-account", "Idempotency-Key", "Host"}) {
        EXPECT_EQ(check(make({{"Host", "a"}, {"Connection", std::string("close, ") + named}})),
                  errc::bad_header)
            << named;
    }
    EXPECT_EQ(check(make({{"Host", "a"}, {"Connection", "close, X-Other"}})), errc::ok);
}

TEST(check_head, drops_rejects_or_allows_underscored_names) {
    auto req = make({{"Host", "a"}, {"Idempotency_Key", "k"}, {"X-Ok", "1"}});
    EXPECT_EQ(check_head(req, false, rules(config::underscores_mode::drop)), errc::ok);
    EXPECT_EQ(req.count("Idempotency_Key"), 0U);
    EXPECT_EQ(req.count("X-Ok"), 1U);

    req = make({{"Host", "a"}, {"Chronapilot_Account", "x"}});
    EXPECT_EQ(check_head(req, false, rules(config::underscores_mode::reject)), errc::bad_header);

    req = make({{"Host", "a"}, {"X_Trace", "1"}});
    EXPECT_EQ(check_head(req, false, rules(config::underscores_mode::allow)), errc::ok);
    EXPECT_EQ(req.count("X_Trace"), 1U);
}

TEST(check_head, rewrites_the_target_to_its_normal_form) {
    auto req = make({{"Host", "a"}}, http::verb::post, "/v1/./x//y?q=1");
    EXPECT_EQ(check_head(req, false, rules()), errc::ok);
    EXPECT_EQ(req.target(), "/v1/x/y?q=1");
    EXPECT_EQ(check(make({{"Host", "a"}}, http::verb::post, "/../etc")), errc::bad_target);
}

TEST(check_head, counts_fields_against_max_headers) {
    config::config cfg;
    cfg.limits.max_headers = 2;
    auto req = make({{"Host", "a"}, {"A", "1"}, {"B", "2"}});
    EXPECT_EQ(check_head(req, false, make_head_rules(cfg)), errc::header_too_large);
}

TEST(drop_trailers, removes_the_fields_after_the_head) {
    auto req = make({{"Host", "a"}, {"Authorization", "Bearer t"}});
    auto const head = fields_of_head(req);
    req.insert("Authorization", "Bearer other"); // as Beast's parser adds a trailer
    req.insert("Host", "evil");
    req.insert("X-Trailer", "1");
    drop_trailers(req, head);
    EXPECT_EQ(std::distance(req.begin(), req.end()), 2);
    EXPECT_EQ(req.count("Authorization"), 1U);
    EXPECT_EQ(req[http::field::authorization], "Bearer t");
    EXPECT_EQ(req[http::field::host], "a");
}

} // namespace
} // namespace idemgate::http_server
