// Proxy hygiene (forward.hpp): what crosses the proxy, in both directions.
#include "idemgate/proxy/forward.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace idemgate::proxy {
namespace {

using field_list = std::vector<std::pair<std::string, std::string>>;

field_list fields_in_order(http::fields const& f) {
    field_list out;
    for (auto const& field : f)
        out.emplace_back(std::string(field.name_string()), std::string(field.value()));
    return out;
}

TEST(drop_connection_fields, drops_hop_by_hop_fields_and_those_named_by_connection_keeping_order) {
    field_list const in{
        {"Content-Type", "application/json"},
        {"Connection", "keep-alive, X-Trace"},
        {"Keep-Alive", "timeout=5"},
        {"Set-Cookie", "a=1"},
        {"x-trace", "abc"},
        {"Transfer-Encoding", "chunked"},
        {"Upgrade", "h2c"},
        {"Proxy-Connection", "keep-alive"},
        {"TE", "trailers"},
        {"Trailer", "Expires"},
        {"Proxy-Authenticate", "Basic"},
        {"Set-Cookie", "b=2"},
        {"connection", "x-other"},
        {"X-Other", "1"},
        {"Request-Id", "req_1"},
    };
    response res{http::status::created, 11};
    for (auto const& [name, value] : in) res.insert(name, value);
    drop_connection_fields(res);
    field_list const expected{
        {"Content-Type", "application/json"},
        {"Set-Cookie", "a=1"},
        {"Set-Cookie", "b=2"},
        {"Request-Id", "req_1"},
    };
    EXPECT_EQ(fields_in_order(res), expected);
}

TEST(prepare_client_response, frames_the_body_and_never_gives_a_204_a_content_length) {
    response ok{http::status::created, 10};
    ok.body() = "{}";
    prepare_client_response(ok, 11, true, false);
    EXPECT_EQ(ok.version(), 11U);
    EXPECT_EQ(ok[http::field::content_length], "2");
    EXPECT_TRUE(ok.keep_alive());

    response none{http::status::no_content, 11};
    none.set(http::field::content_length, "5");
    none.body() = "12345";
    prepare_client_response(none, 11, false, false);
    EXPECT_EQ(none.count(http::field::content_length), 0U);
    EXPECT_TRUE(none.body().empty());
    EXPECT_FALSE(none.keep_alive());
}

TEST(prepare_client_response, keeps_a_head_answers_content_length_and_sends_no_body) {
    response res{http::status::ok, 11};
    res.set(http::field::content_length, "42");
    prepare_client_response(res, 10, false, true);
    EXPECT_EQ(res.version(), 10U);
    EXPECT_EQ(res[http::field::content_length], "42");
    EXPECT_TRUE(res.body().empty());
}

} // namespace
} // namespace idemgate::proxy
