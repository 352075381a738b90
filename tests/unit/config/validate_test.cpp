#include "idemgate/config/parse.hpp"
#include "idemgate/config/routes.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace idemgate::config {
namespace {

using namespace std::chrono_literals;

struct rule_row {
    std::string name;
    std::function<void(config&)> change;
    std::string key_path; // "" when the change is valid
};

class validate_rule : public testing::TestWithParam<rule_row> {};

TEST_P(validate_rule, flags_exactly_the_changed_key_or_nothing) {
    config cfg;
    GetParam().change(cfg);
    auto const problems = validate(cfg);
    if (GetParam().key_path.empty()) {
        EXPECT_TRUE(problems.empty()) << problems.front().to_string();
        return;
    }
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].key_path, GetParam().key_path) << problems[0].to_string();
    EXPECT_FALSE(problems[0].message.empty());
}

/// A config with one route `match` changed by `f` (routes[0]).
std::function<void(config&)> route(std::string match, std::function<void(route_config&)> f = {}) {
    return [match = std::move(match), f = std::move(f)](config& c) {
        route_config r;
        r.match = match;
        if (f) f(r);
        c.routes.push_back(std::move(r));
    };
}

rule_row bad(std::string name, std::function<void(config&)> f, std::string key) {
    return {std::move(name), std::move(f), std::move(key)};
}
rule_row good(std::string name, std::function<void(config&)> f) {
    return {std::move(name), std::move(f), ""};
}

INSTANTIATE_TEST_SUITE_P(
    rules, validate_rule,
    testing::Values(
        good("listen_ipv6", [](config& c) { c.listen = "[::]:8080"; }),
        good("listen_hostname_port_0", [](config& c) { c.listen = "localhost:0"; }),
        bad(
            "listen_port_too_big", [](config& c) { c.listen = "127.0.0.1:65536"; }, "listen"),
        bad(
            "listen_no_host", [](config& c) { c.listen = ":8080"; }, "listen"),
        bad(
            "listen_bare_ipv6", [](config& c) { c.listen = "::1:8080"; }, "listen"),
        bad(
            "listen_bad_ipv4", [](config& c) { c.listen = "1.2.3.256:80"; }, "listen"),
        good("admin_disabled", [](config& c) { c.admin.listen = ""; }),
        good("admin_token_16_bytes", [](config& c) { c.admin.token = std::string(16, 't'); }),
        bad(
            "admin_token_15_bytes", [](config& c) { c.admin.token = std::string(15, 't'); },
            "admin.token"),
        bad(
            "admin_same_as_listen", [](config& c) { c.admin.listen = c.listen; }, "admin.listen"),
        bad(
            "admin_garbage", [](config& c) { c.admin.listen = "admin"; }, "admin.listen"),
        good("threads_1024", [](config& c) { c.threads = 1024; }),
        bad(
            "threads_1025", [](config& c) { c.threads = 1025; }, "threads"),
        bad(
            "pool_size_0", [](config& c) { c.upstream.pool_size = 0; }, "upstream.pool_size"),
        bad(
            "redis_pool_0", [](config& c) { c.store.redis.pool_size = 0; },
            "store.redis.pool_size"),
        good("per_credential_0_is_off", [](config& c) { c.store.max_records_per_credential = 0; }),
        good("per_credential_1e8",
             [](config& c) { c.store.max_records_per_credential = 100'000'000; }),
        bad(
            "per_credential_over_1e8",
            [](config& c) { c.store.max_records_per_credential = 100'000'001; },
            "store.max_records_per_credential"),
        bad(
            "lock_ttl_0", [](config& c) { c.idempotency.lock_ttl = 0ms; }, "idempotency.lock_ttl"),
        bad(
            "ttl_0", [](config& c) { c.idempotency.ttl = 0ms; }, "idempotency.ttl"),
        bad(
            "ttl_below_lock_ttl", [](config& c) { c.idempotency.ttl = 1s; }, "idempotency.ttl"),
        good("ttl_equal_to_lock_ttl",
             [](config& c) { c.idempotency.ttl = c.idempotency.lock_ttl; }),
        bad(
            "lock_ttl_int64_max", [](config& c) { c.idempotency.lock_ttl = duration{INT64_MAX}; },
            "idempotency.lock_ttl"),
        bad(
            "wait_timeout_0", [](config& c) { c.idempotency.wait_timeout = 0ms; },
            "idempotency.wait_timeout"),
        bad(
            "key_length_0", [](config& c) { c.idempotency.max_key_length = 0; },
            "idempotency.max_key_length"),
        good("key_length_4096", [](config& c) { c.idempotency.max_key_length = 4096; }),
        bad(
            "key_length_4097", [](config& c) { c.idempotency.max_key_length = 4097; },
            "idempotency.max_key_length"),
        bad(
            "status_99", [](config& c) { c.idempotency.no_store_statuses = {99}; },
            "idempotency.no_store_statuses[0]"),
        good("status_599_and_none", [](config& c) { c.idempotency.no_store_statuses = {599}; }),
        good("no_statuses", [](config& c) { c.idempotency.no_store_statuses.clear(); }),
        bad(
            "methods_empty", [](config& c) { c.idempotency.methods.clear(); },
            "idempotency.methods"),
        bad(
            "method_lower_case", [](config& c) { c.idempotency.methods = {"post"}; },
            "idempotency.methods[0]"),
        bad(
            "method_duplicate",
            [](config& c) {
                c.idempotency.methods = {"POST", "POST"};
            },
            "idempotency.methods[1]"),
        bad(
            "header_with_space", [](config& c) { c.idempotency.account_header = "X Acc"; },
            "idempotency.account_header"),
        bad(
            "key_header_empty", [](config& c) { c.idempotency.key_header = ""; },
            "idempotency.key_header"),
        good("https_upstream", [](config& c) { c.upstream.url = "HTTPS://[::1]:8443/v1"; }),
        bad(
            "upstream_ftp", [](config& c) { c.upstream.url = "ftp://h"; }, "upstream.url"),
        bad(
            "upstream_no_host", [](config& c) { c.upstream.url = "http:///x"; }, "upstream.url"),
        bad(
            "upstream_query", [](config& c) { c.upstream.url = "http://h/?a=1"; }, "upstream.url"),
        bad(
            "upstream_port_0", [](config& c) { c.upstream.url = "http://h:0"; }, "upstream.url"),
        bad(
            "redis_http", [](config& c) { c.store.redis.url = "http://h"; }, "store.redis.url"),
        bad(
            "redis_db_16", [](config& c) { c.store.redis.url = "redis://h/16"; },
            "store.redis.url"),
        good("cluster_with_seeds",
             [](config& c) {
                 c.store.backend = store_backend::redis;
                 c.store.redis.mode = redis_mode::cluster;
                 c.store.redis.nodes = {"10.0.0.1:7000", "[::1]:7001"};
             }),
        bad(
            "cluster_without_nodes",
            [](config& c) {
                c.store.backend = store_backend::redis;
                c.store.redis.mode = redis_mode::cluster;
            },
            "store.redis.nodes"),
        bad(
            "cluster_with_db_3",
            [](config& c) {
                c.store.backend = store_backend::redis;
                c.store.redis.mode = redis_mode::cluster;
                c.store.redis.nodes = {"h:7000"};
                c.store.redis.url = "redis://h/3";
            },
            "store.redis.url"),
        bad(
            "sentinel_without_nodes",
            [](config& c) {
                c.store.backend = store_backend::redis;
                c.store.redis.mode = redis_mode::sentinel;
                c.store.redis.sentinel_master = "mymaster";
            },
            "store.redis.nodes"),
        bad(
            "sentinel_without_master",
            [](config& c) {
                c.store.backend = store_backend::redis;
                c.store.redis.mode = redis_mode::sentinel;
                c.store.redis.nodes = {"h:26379"};
            },
            "store.redis.sentinel_master"),
        good("sentinel_db_3",
             [](config& c) {
                 c.store.backend = store_backend::redis;
                 c.store.redis.mode = redis_mode::sentinel;
                 c.store.redis.nodes = {"h:26379"};
                 c.store.redis.sentinel_master = "mymaster";
                 c.store.redis.url = "redis://h/3";
             }),
        bad(
            "node_not_host_port", [](config& c) { c.store.redis.nodes = {"h"}; },
            "store.redis.nodes[0]"),
        good("memory_ignores_the_redis_mode",
             [](config& c) { c.store.redis.mode = redis_mode::cluster; }),
        good("rediss_db_15", [](config& c) { c.store.redis.url = "rediss://u:p@h:1/15"; }),
        // A lone user info is the password (redis-cli, the IANA redis URI scheme).
        good("redis_password_only", [](config& c) { c.store.redis.url = "redis://pw@h"; }),
        bad(
            "log_level", [](config& c) { c.log.level = "verbose"; }, "log.level"),
        bad(
            "negative_drain", [](config& c) { c.shutdown.drain_delay = -1s; },
            "shutdown.drain_delay"),
        bad(
            "header_bytes_tiny", [](config& c) { c.limits.max_header_bytes = byte_size{100}; },
            "limits.max_header_bytes"),
        good("header_bytes_64KiB",
             [](config& c) { c.limits.max_header_bytes = byte_size{64 * 1024}; }),
        bad(
            // Beast holds a field value of at most 65 533 bytes and throws beyond it.
            "header_bytes_over_what_the_parser_holds",
            [](config& c) { c.limits.max_header_bytes = byte_size{64 * 1024 + 1}; },
            "limits.max_header_bytes"),
        good("credential_header", [](config& c) { c.idempotency.credential = "header:X-Api-Key"; }),
        bad(
            "credential_unknown", [](config& c) { c.idempotency.credential = "cookie"; },
            "idempotency.credential"),
        bad(
            "credential_header_without_name",
            [](config& c) { c.idempotency.credential = "header:"; }, "idempotency.credential"),
        bad(
            "max_stored_body_0", [](config& c) { c.idempotency.max_stored_body = byte_size{0}; },
            "idempotency.max_stored_body"),
        bad(
            "wait_replicas_65", [](config& c) { c.store.redis.wait_replicas = 65; },
            "store.redis.wait_replicas"),
        // Upper bounds (contract §7): the largest allowed value passes, one more fails.
        good("ttl_30d", [](config& c) { c.idempotency.ttl = 30 * 24h; }),
        bad(
            "ttl_30d_1ms", [](config& c) { c.idempotency.ttl = 30 * 24h + 1ms; },
            "idempotency.ttl"),
        good("lock_ttl_30d",
             [](config& c) {
                 c.idempotency.lock_ttl = 30 * 24h;
                 c.idempotency.ttl = 30 * 24h;
             }),
        bad(
            "wait_timeout_31d", [](config& c) { c.idempotency.wait_timeout = 31 * 24h; },
            "idempotency.wait_timeout"),
        bad(
            "idle_200000d", [](config& c) { c.timeouts.idle = 200000 * 24h; }, "timeouts.idle"),
        bad(
            "request_headers_31d", [](config& c) { c.timeouts.request_headers = 31 * 24h; },
            "timeouts.request_headers"),
        bad(
            "write_0", [](config& c) { c.timeouts.write = 0ms; }, "timeouts.write"),
        bad(
            "write_31d", [](config& c) { c.timeouts.write = 31 * 24h; }, "timeouts.write"),
        bad(
            "connect_timeout_31d", [](config& c) { c.upstream.connect_timeout = 31 * 24h; },
            "upstream.connect_timeout"),
        bad(
            "upstream_timeout_31d", [](config& c) { c.upstream.timeout = 31 * 24h; },
            "upstream.timeout"),
        bad(
            "redis_connect_31d", [](config& c) { c.store.redis.connect_timeout = 31 * 24h; },
            "store.redis.connect_timeout"),
        bad(
            "redis_command_31d", [](config& c) { c.store.redis.command_timeout = 31 * 24h; },
            "store.redis.command_timeout"),
        bad(
            "redis_wait_31d", [](config& c) { c.store.redis.wait_timeout = 31 * 24h; },
            "store.redis.wait_timeout"),
        bad(
            "drain_delay_31d", [](config& c) { c.shutdown.drain_delay = 31 * 24h; },
            "shutdown.drain_delay"),
        bad(
            "shutdown_timeout_31d", [](config& c) { c.shutdown.timeout = 31 * 24h; },
            "shutdown.timeout"),
        good("request_body_1GiB",
             [](config& c) { c.limits.max_request_body = byte_size{1024ULL << 20}; }),
        bad(
            "request_body_1GiB_1",
            [](config& c) { c.limits.max_request_body = byte_size{(1024ULL << 20) + 1}; },
            "limits.max_request_body"),
        bad(
            "response_body_2GiB",
            [](config& c) { c.upstream.max_response_body = byte_size{2048ULL << 20}; },
            "upstream.max_response_body"),
        good("stored_body_512MiB",
             [](config& c) { c.idempotency.max_stored_body = byte_size{512ULL << 20}; }),
        bad(
            "stored_body_513MiB",
            [](config& c) { c.idempotency.max_stored_body = byte_size{513ULL << 20}; },
            "idempotency.max_stored_body"),
        bad(
            "memory_bytes_uint64_max",
            [](config& c) { c.store.memory.max_bytes = byte_size{UINT64_MAX}; },
            "store.memory.max_bytes"),
        bad(
            "memory_records_2e9", [](config& c) { c.store.memory.max_records = 2'000'000'000; },
            "store.memory.max_records"),
        bad(
            "inflight_0", [](config& c) { c.limits.max_inflight = 0; }, "limits.max_inflight"),
        bad(
            "inflight_1000001", [](config& c) { c.limits.max_inflight = 1'000'001; },
            "limits.max_inflight"),
        bad(
            "buffered_0", [](config& c) { c.limits.max_buffered_bytes = byte_size{0}; },
            "limits.max_buffered_bytes"),
        bad(
            "buffered_uint64_max",
            [](config& c) { c.limits.max_buffered_bytes = byte_size{UINT64_MAX}; },
            "limits.max_buffered_bytes"),
        // routes: the match, and each override under the global key's rules.
        good("route_prefix", route("/v1/payments")),
        good("route_root", route("/")),
        good("route_trailing_slash", route("/v1/payments/")),
        good("route_escape_upper_case", route("/v1/a%2Fb")),
        good("route_sub_delims", route("/v1/a:b@c;d=e,f+g!$&'()*")),
        bad("route_match_empty", route(""), "routes[0].match"),
        bad("route_match_relative", route("v1/payments"), "routes[0].match"),
        bad("route_match_query", route("/v1?x=1"), "routes[0].match"),
        bad("route_match_space", route("/v1/a b"), "routes[0].match"),
        bad("route_match_fragment", route("/v1#x"), "routes[0].match"),
        bad("route_match_empty_segment", route("/v1//payments"), "routes[0].match"),
        bad("route_match_dot_segment", route("/v1/../payments"), "routes[0].match"),
        bad("route_match_dot", route("/v1/."), "routes[0].match"),
        bad("route_escape_lower_case", route("/v1/a%2fb"), "routes[0].match"),
        bad("route_escape_unreserved", route("/v1/%7Euser"), "routes[0].match"),
        bad("route_escape_truncated", route("/v1/a%2"), "routes[0].match"),
        bad(
            "route_duplicate",
            [](config& c) {
                route("/v1/payments")(c);
                route("/v1/payments/")(c);
            },
            "routes[1].match"),
        good("route_two_distinct",
             [](config& c) {
                 route("/v1/payments")(c);
                 route("/v1/payments/refunds")(c);
             }),
        bad(
            "route_too_many",
            [](config& c) {
                for (std::size_t i = 0; i <= max_routes; ++i) route("/r" + std::to_string(i))(c);
            },
            "routes"),
        good("route_1000",
             [](config& c) {
                 for (std::size_t i = 0; i < max_routes; ++i) route("/r" + std::to_string(i))(c);
             }),
        bad("route_ttl_0", route("/a", [](route_config& r) { r.ttl = 0ms; }), "routes[0].ttl"),
        bad("route_ttl_31d", route("/a", [](route_config& r) { r.ttl = 31 * 24h; }),
            "routes[0].ttl"),
        bad("route_ttl_below_global_lock_ttl",
            route("/a", [](route_config& r) { r.ttl = 59s; }), "routes[0].ttl"),
        bad("route_lock_ttl_above_global_ttl",
            route("/a", [](route_config& r) { r.lock_ttl = 25h; }), "routes[0].lock_ttl"),
        good("route_lock_ttl_and_ttl_together",
             route("/a",
                   [](route_config& r) {
                       r.lock_ttl = 25h;
                       r.ttl = 26h;
                   })),
        bad("route_ttl_below_its_lock_ttl",
            route("/a",
                  [](route_config& r) {
                      r.lock_ttl = 2h;
                      r.ttl = 1h;
                  }),
            "routes[0].ttl"),
        good("route_short_ttl_with_short_global_lock",
             [](config& c) {
                 c.idempotency.lock_ttl = 1s;
                 route("/a", [](route_config& r) { r.ttl = 2s; })(c);
             }),
        bad("route_lock_ttl_0", route("/a", [](route_config& r) { r.lock_ttl = 0ms; }),
            "routes[0].lock_ttl"),
        bad("route_wait_timeout_0", route("/a", [](route_config& r) { r.wait_timeout = 0ms; }),
            "routes[0].wait_timeout"),
        bad("route_methods_empty",
            route("/a", [](route_config& r) { r.methods = std::vector<std::string>{}; }),
            "routes[0].methods"),
        bad("route_method_duplicate",
            route("/a",
                  [](route_config& r) {
                      r.methods = std::vector<std::string>{"PUT", "PUT"};
                  }),
            "routes[0].methods[1]"),
        bad("route_method_lower_case",
            route("/a", [](route_config& r) { r.methods = std::vector<std::string>{"put"}; }),
            "routes[0].methods[0]"),
        bad("route_status_600",
            route("/a",
                  [](route_config& r) {
                      r.no_store_statuses = std::vector<unsigned>{503, 600};
                  }),
            "routes[0].no_store_statuses[1]"),
        good("route_no_statuses",
             route("/a", [](route_config& r) { r.no_store_statuses = std::vector<unsigned>{}; })),
        bad("route_stored_body_0",
            route("/a", [](route_config& r) { r.max_stored_body = byte_size{0}; }),
            "routes[0].max_stored_body"),
        bad("route_stored_body_513MiB",
            route("/a", [](route_config& r) { r.max_stored_body = byte_size{513ULL << 20}; }),
            "routes[0].max_stored_body"),
        good("route_disabled", route("/a", [](route_config& r) { r.enabled = false; }))),
    [](testing::TestParamInfo<rule_row> const& row) { return row.param.name; });

TEST(warnings, name_an_admin_token_without_an_admin_listener) {
    config cfg;
    cfg.admin.token = std::string(32, 't');
    EXPECT_TRUE(warnings(cfg).empty());
    cfg.admin.listen = "";
    auto const found = warnings(cfg);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].key_path, "admin.token");
}

TEST(warnings, name_a_ttl_shorter_than_the_upstream_timeout_and_nothing_by_default) {
    EXPECT_TRUE(warnings(config{}).empty());
    config cfg;
    cfg.idempotency.lock_ttl = 1s;
    cfg.idempotency.ttl = 10s;
    cfg.upstream.timeout = 30s;
    EXPECT_TRUE(validate(cfg).empty()); // allowed (contract §7), only warned about
    auto const found = warnings(cfg);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].key_path, "idempotency.ttl");
    EXPECT_NE(found[0].message.find("upstream.timeout (30s)"), std::string::npos)
        << found[0].message;
}

TEST(warnings, say_the_credential_bound_is_not_enforced_in_cluster_mode) {
    config cfg;
    cfg.store.backend = store_backend::redis;
    cfg.idempotency.scope_secret = "s";
    cfg.store.redis.mode = redis_mode::cluster;
    cfg.store.redis.nodes = {"h:7000"};
    auto const found = warnings(cfg);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].key_path, "store.max_records_per_credential");
    cfg.store.max_records_per_credential = 0;
    EXPECT_TRUE(warnings(cfg).empty());
    cfg.store.max_records_per_credential = 10;
    cfg.store.redis.mode = redis_mode::standalone;
    EXPECT_TRUE(warnings(cfg).empty());
}

TEST(warnings, name_a_short_route_ttl_and_the_overrides_of_a_disabled_route) {
    config cfg;
    cfg.idempotency.lock_ttl = 1s;
    route("/fast", [](route_config& r) { r.ttl = 10s; })(cfg);
    route("/off", [](route_config& r) {
        r.enabled = false;
        r.ttl = 1h;
    })(cfg);
    route("/plain", [](route_config& r) { r.enabled = false; })(cfg);
    EXPECT_TRUE(validate(cfg).empty());
    auto const found = warnings(cfg);
    ASSERT_EQ(found.size(), 2u);
    EXPECT_EQ(found[0].key_path, "routes[0].ttl");
    EXPECT_NE(found[0].message.find("upstream.timeout"), std::string::npos);
    EXPECT_EQ(found[1].key_path, "routes[1].enabled");
}

TEST(routes, normal_match_drops_the_trailing_slash_but_keeps_the_root) {
    EXPECT_EQ(normal_match("/v1/payments/"), "/v1/payments");
    EXPECT_EQ(normal_match("/v1/payments"), "/v1/payments");
    EXPECT_EQ(normal_match("/"), "/");
    EXPECT_EQ(normal_match("/a//"), "/a");
}

TEST(routes, policy_of_overrides_only_what_the_route_sets) {
    idempotency_config global;
    global.ttl = 2h;
    global.key_header = "X-Key";
    route_config r;
    r.match = "/a";
    r.concurrent = concurrent_mode::wait;
    r.methods = std::vector<std::string>{"PUT"};
    auto const p = policy_of(r, global);
    EXPECT_EQ(p.concurrent, concurrent_mode::wait);
    EXPECT_EQ(p.methods, (std::vector<std::string>{"PUT"}));
    EXPECT_EQ(p.ttl, 2h);
    EXPECT_EQ(p.key_header, "X-Key");
    EXPECT_EQ(p.no_store_statuses, global.no_store_statuses);
}

TEST(routes, longest_ttl_covers_every_enabled_route) {
    config cfg;
    EXPECT_EQ(longest_ttl(cfg), cfg.idempotency.ttl);
    route("/long", [](route_config& r) { r.ttl = 72h; })(cfg);
    route("/off", [](route_config& r) {
        r.enabled = false;
        r.ttl = 100h;
    })(cfg);
    EXPECT_EQ(longest_ttl(cfg), 72h);
}

TEST(validate, never_prints_the_password_of_a_bad_redis_url) {
    config cfg;
    cfg.store.redis.url = "redis://app:topsecret@h/99";
    auto const problems = validate(cfg);
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0].to_string().find("topsecret"), std::string::npos)
        << problems[0].to_string();
    EXPECT_NE(problems[0].to_string().find("app:***@h"), std::string::npos);
}

TEST(parse_host_port, splits_ipv4_ipv6_and_names) {
    auto const v4 = parse_host_port("0.0.0.0:8080");
    ASSERT_TRUE(v4);
    EXPECT_EQ(v4->host, "0.0.0.0");
    EXPECT_EQ(v4->port, 8080);
    EXPECT_FALSE(v4->ipv6);
    auto const v6 = parse_host_port("[::1]:9090");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_TRUE(v6->ipv6);
    auto const name = parse_host_port("my_redis.svc:65535");
    ASSERT_TRUE(name);
    EXPECT_EQ(name->port, 65535);
    for (auto const* text : {"", "8080", "host", "host:", "host:x", "host:-1", "[::1]", "[::1]80",
                             "[nope]:80", "-bad-:80", "a..b:80", "host:123456"}) {
        EXPECT_FALSE(parse_host_port(text)) << text;
    }
}

TEST(parse_http_url, fills_default_ports_and_keeps_the_path) {
    auto const plain = parse_http_url("http://127.0.0.1:9000");
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->tls);
    EXPECT_EQ(plain->host, "127.0.0.1");
    EXPECT_EQ(plain->port, 9000);
    EXPECT_EQ(plain->path, "");
    auto const tls = parse_http_url("https://api.example.test/v1/");
    ASSERT_TRUE(tls);
    EXPECT_TRUE(tls->tls);
    EXPECT_EQ(tls->port, 443);
    EXPECT_EQ(tls->path, "/v1/");
    EXPECT_EQ(parse_http_url("http://h")->port, 80);
    for (auto const* text : {"h:80", "http://", "http://u:p@h", "http://h#f", "httpx://h",
                             "http://h:80x/", "http://[::1]x/", "http://h/a b"}) {
        EXPECT_FALSE(parse_http_url(text)) << text;
    }
}

TEST(parse_redis_url, decodes_credentials_and_the_database) {
    auto const url = parse_redis_url("rediss://user:p%40ss@cache:6380/7");
    ASSERT_TRUE(url);
    EXPECT_TRUE(url->tls);
    EXPECT_EQ(url->user, "user");
    EXPECT_EQ(url->password, "p@ss");
    EXPECT_EQ(url->host, "cache");
    EXPECT_EQ(url->port, 6380);
    EXPECT_EQ(url->db, 7u);
    auto const plain = parse_redis_url("redis://127.0.0.1");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->port, 6379);
    EXPECT_EQ(plain->db, 0u);
    EXPECT_EQ(plain->password, "");
    for (auto const* text :
         {"redis://", "redis://h/x", "redis://h/-1", "redis://:p%4@h", "redis://h?db=1",
          "unix:///tmp/redis.sock", "redis://h:0", "redis://h:1x/2", "redis://h/1/2"}) {
        EXPECT_FALSE(parse_redis_url(text)) << text;
    }
}

TEST(parse_redis_url, reads_a_lone_user_info_as_the_password_as_redis_cli_does) {
    auto const url = parse_redis_url("REDIS://p%40ss@[::1]:6380");
    ASSERT_TRUE(url);
    EXPECT_EQ(url->user, "");
    EXPECT_EQ(url->password, "p@ss");
    EXPECT_EQ(url->host, "::1");
    EXPECT_EQ(url->port, 6380);
    EXPECT_EQ(redacted_url("REDIS://p%40ss@[::1]:6380"), "REDIS://***@[::1]:6380");
}

TEST(validate, reports_what_the_runtime_parsers_refuse_with_the_reason) {
    config cfg;
    cfg.listen = "[::1]80";
    cfg.upstream.url = "http://h:80x/";
    cfg.store.redis.url = "redis://u:p%zz@h";
    auto const problems = validate(cfg);
    ASSERT_EQ(problems.size(), 3u);
    EXPECT_EQ(problems[0].to_string(), "listen: expected :port after ] in \"[::1]80\"");
    EXPECT_EQ(problems[1].to_string(),
              "upstream.url: the port must be a number from 1 to 65535 in \"http://h:80x/\"");
    EXPECT_EQ(problems[2].to_string(),
              "store.redis.url: bad %-escape in the user info in \"redis://u:***@h\"");
}

} // namespace
} // namespace idemgate::config
