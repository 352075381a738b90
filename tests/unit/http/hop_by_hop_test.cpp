// RFC 9110 §7.6.1: connection-specific fields never cross the proxy.
#include "idemgate/http/hop_by_hop.hpp"

#include <gtest/gtest.h>

#include <string>

namespace idemgate::http_server {
namespace {

TEST(is_hop_by_hop, is_true_for_every_listed_field_in_any_case) {
    for (std::string const name :
         {"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
          "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "connection",
          "KEEP-ALIVE", "te", "transfer-encoding", "uPgRaDe"}) {
        EXPECT_TRUE(is_hop_by_hop(name)) << name;
    }
}

TEST(is_hop_by_hop, is_false_for_end_to_end_fields) {
    for (std::string const name :
         {"", "Content-Type", "Content-Length", "Set-Cookie", "Trailers", "Connections",
          "Keep-Alive2", "X-Connection", "Authorization", "T", "Upgrade-Insecure-Requests"}) {
        EXPECT_FALSE(is_hop_by_hop(name)) << name;
    }
}

struct row {
    std::string name;
    std::string connection;
    bool expected;
};

TEST(named_by_connection, matches_whole_tokens_case_insensitively) {
    row const rows[] = {
        {"X-Foo", "X-Foo", true},         {"X-Foo", "close, x-foo", true},
        {"x-foo", "X-FOO,close", true},   {"X-Foo", " \t,, X-Foo\t ,", true},
        {"X-Foo", "close", false},        {"X-Foo", "", false},
        {"X-Foo", "X-Foo2, X-Fo", false}, {"Foo", "X-Foo", false},
        {"X-Foo", "X-Foo-Bar", false},    {"", "close, ,", false},
    };
    for (auto const& r : rows) {
        EXPECT_EQ(named_by_connection(r.name, r.connection), r.expected)
            << r.name << " in \"" << r.connection << "\"";
    }
}

} // namespace
} // namespace idemgate::http_server
