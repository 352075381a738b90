#include "idemgate/redis/cluster_redirect.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace idemgate::redis {
namespace {

struct redirect_case {
    std::string_view text;
    redirect_kind kind;
    std::uint16_t slot;
    std::string_view host;
    std::uint16_t port;
};

TEST(cluster_redirect, moved_and_ask_name_the_slot_and_the_node) {
    std::vector<redirect_case> const cases{
        {"MOVED 3999 127.0.0.1:6381", redirect_kind::moved, 3999, "127.0.0.1", 6381},
        {"-MOVED 3999 127.0.0.1:6381", redirect_kind::moved, 3999, "127.0.0.1", 6381},
        {"ASK 0 10.0.0.2:7000", redirect_kind::ask, 0, "10.0.0.2", 7000},
        {"MOVED 16383 redis-2.cache.internal:6379", redirect_kind::moved, 16383,
         "redis-2.cache.internal", 6379},
        {"MOVED 12182 ::1:7001", redirect_kind::moved, 12182, "::1", 7001},
        {"ASK 1 fe80::1:2:7002", redirect_kind::ask, 1, "fe80::1:2", 7002},
        {"MOVED 5 [2001:db8::7]:7003", redirect_kind::moved, 5, "2001:db8::7", 7003},
        // An unknown endpoint: the host of the connection that got the redirect.
        {"MOVED 7 :7004", redirect_kind::moved, 7, "", 7004},
    };
    for (auto const& c : cases) {
        auto const r = parse_redirect(c.text);
        ASSERT_TRUE(r.has_value()) << c.text;
        EXPECT_EQ(r->kind, c.kind) << c.text;
        EXPECT_EQ(r->slot, c.slot) << c.text;
        EXPECT_EQ(r->target.host, c.host) << c.text;
        EXPECT_EQ(r->target.port, c.port) << c.text;
    }
}

TEST(cluster_redirect, other_errors_and_malformed_redirects_are_not_redirects) {
    std::vector<std::string_view> const cases{
        "",
        "ERR unknown command",
        "TRYAGAIN Multiple keys request during rehashing of slot",
        "CLUSTERDOWN The cluster is down",
        "MOVED",
        "MOVED ",
        "MOVED 3999",
        "MOVED 3999 127.0.0.1",
        "MOVED 16384 127.0.0.1:6381",
        "MOVED -1 127.0.0.1:6381",
        "MOVED +1 127.0.0.1:6381",
        "MOVED 3999 127.0.0.1:0",
        "MOVED 3999 127.0.0.1:65536",
        "MOVED 3999 127.0.0.1:",
        "MOVED 3999 127.0.0.1:6381 extra",
        "MOVED 3999  127.0.0.1:6381",
        "MOVED x 127.0.0.1:6381",
        "MOVED 3999 [::1:6381",
        "moved 3999 127.0.0.1:6381",
        "ASKING",
    };
    for (auto const text : cases) EXPECT_FALSE(parse_redirect(text).has_value()) << text;
}

TEST(cluster_redirect, addresses_print_ipv6_hosts_in_brackets_and_parse_back) {
    for (auto const text : {"127.0.0.1:7000", "[::1]:7001", "cache:6379"}) {
        auto const a = parse_node_address(text);
        ASSERT_TRUE(a.has_value()) << text;
        EXPECT_EQ(a->to_string(), text);
        EXPECT_EQ(parse_node_address(a->to_string()), a);
    }
}

} // namespace
} // namespace idemgate::redis
