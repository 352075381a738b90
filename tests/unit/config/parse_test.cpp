#include "idemgate/config/parse.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace idemgate::config {
namespace {

using namespace std::chrono_literals;

/// An empty environment: the tests must not depend on the machine's variables.
env_lookup const no_env = [](std::string const&) -> std::optional<std::string> {
    return std::nullopt;
};

std::string fixture(std::string const& name) {
    return std::string(IDEMGATE_TEST_DATA) + "/" + name;
}

parse_result parse(std::string_view text) {
    return parse_yaml(text, "test.yaml", no_env);
}

std::string all_problems(parse_result const& r) {
    std::string out;
    for (auto const& p : r.problems) out += p.to_string() + "\n";
    return out;
}

TEST(parse_yaml, reads_every_key_of_the_full_fixture) {
    auto const r = load_file(fixture("valid_full.yaml"), no_env);
    ASSERT_TRUE(r.ok()) << all_problems(r);
    auto const& c = r.cfg;
    EXPECT_EQ(c.listen, "127.0.0.1:18080");
    EXPECT_EQ(c.threads, 3u);
    EXPECT_EQ(c.limits.max_header_bytes.bytes, 16u * 1024);
    EXPECT_EQ(c.limits.max_headers, 50u);
    EXPECT_EQ(c.limits.max_request_body.bytes, 2u * 1024 * 1024);
    EXPECT_EQ(c.limits.max_connections, 500u);
    EXPECT_EQ(c.limits.max_inflight, 300u);
    EXPECT_EQ(c.limits.max_buffered_bytes.bytes, 100u * 1024 * 1024);
    EXPECT_EQ(c.timeouts.request_headers, 3s);
    EXPECT_EQ(c.timeouts.idle, 45s);
    EXPECT_EQ(c.timeouts.write, 20s);
    EXPECT_EQ(c.upstream.url, "https://api.example.test:8443/base");
    EXPECT_EQ(c.upstream.connect_timeout, 2s);
    EXPECT_EQ(c.upstream.timeout, 1min);
    EXPECT_EQ(c.upstream.pool_size, 16u);
    EXPECT_EQ(c.upstream.max_response_body.bytes, 32u * 1024 * 1024);
    EXPECT_EQ(c.upstream.tls.ca_file, "/etc/ssl/upstream-ca.pem");
    EXPECT_TRUE(c.upstream.tls.insecure_skip_verify);
    EXPECT_EQ(c.store.backend, store_backend::redis);
    EXPECT_EQ(c.store.on_unavailable, unavailable_mode::fail_open);
    EXPECT_EQ(c.store.max_records_per_credential, 777U);
    EXPECT_EQ(c.store.memory.max_records, 5000u);
    EXPECT_EQ(c.store.memory.max_bytes.bytes, 64'000'000u);
    EXPECT_EQ(c.store.redis.url, "rediss://app:s3cret@redis.example.test:6380/2");
    EXPECT_EQ(c.store.redis.password, "hunter2");
    EXPECT_EQ(c.store.redis.key_prefix, "gw:");
    EXPECT_EQ(c.store.redis.pool_size, 4u);
    EXPECT_EQ(c.store.redis.connect_timeout, 1500ms);
    EXPECT_EQ(c.store.redis.command_timeout, 250ms);
    EXPECT_EQ(c.store.redis.wait_replicas, 1u);
    EXPECT_EQ(c.store.redis.wait_timeout, 50ms);
    EXPECT_EQ(c.store.redis.tls.ca_file, "/etc/ssl/redis-ca.pem");
    EXPECT_FALSE(c.store.redis.tls.insecure_skip_verify);
    EXPECT_EQ(c.idempotency.methods, (std::vector<std::string>{"POST", "PUT", "PATCH"}));
    EXPECT_EQ(c.idempotency.ttl, 24h);
    EXPECT_EQ(c.idempotency.lock_ttl, 30s);
    EXPECT_EQ(c.idempotency.missing_key, missing_key_mode::reject);
    EXPECT_EQ(c.idempotency.concurrent, concurrent_mode::wait);
    EXPECT_EQ(c.idempotency.wait_timeout, 5s);
    EXPECT_EQ(c.idempotency.fingerprint, fingerprint_mode::canonical_json);
    EXPECT_EQ(c.idempotency.no_store_statuses, (std::vector<unsigned>{429, 503}));
    EXPECT_EQ(c.idempotency.max_stored_body.bytes, 1'000'000u);
    EXPECT_EQ(c.idempotency.max_key_length, 128u);
    EXPECT_EQ(c.idempotency.account_header, "X-Account");
    EXPECT_EQ(c.idempotency.key_header, "X-Idempotency-Key");
    EXPECT_EQ(c.idempotency.replay_header, "X-Replayed");
    EXPECT_EQ(c.idempotency.scope_secret, "pepper");
    ASSERT_EQ(c.routes.size(), 2u);
    auto const& pay = c.routes[0];
    EXPECT_EQ(pay.match, "/v1/payments/");
    EXPECT_TRUE(pay.enabled);
    EXPECT_EQ(pay.methods, (std::vector<std::string>{"POST", "PUT"}));
    EXPECT_EQ(pay.ttl, 72h);
    EXPECT_EQ(pay.lock_ttl, 2min);
    EXPECT_EQ(pay.missing_key, missing_key_mode::passthrough);
    EXPECT_EQ(pay.concurrent, concurrent_mode::reject);
    EXPECT_EQ(pay.wait_timeout, 20s);
    EXPECT_EQ(pay.fingerprint, fingerprint_mode::body);
    EXPECT_EQ(pay.no_store_statuses, (std::vector<unsigned>{503}));
    ASSERT_TRUE(pay.max_stored_body.has_value());
    EXPECT_EQ(pay.max_stored_body->bytes, 1024u * 1024);
    EXPECT_EQ(c.routes[1].match, "/v1/uploads");
    EXPECT_FALSE(c.routes[1].enabled);
    EXPECT_FALSE(c.routes[1].ttl.has_value());
    EXPECT_FALSE(c.routes[1].methods.has_value());
    EXPECT_EQ(c.admin.listen, "[::1]:19090");
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.log.format, log_format::text);
    EXPECT_FALSE(c.log.access_log);
    EXPECT_EQ(c.shutdown.drain_delay, 2s);
    EXPECT_EQ(c.shutdown.timeout, 15s);
}

TEST(parse_yaml, gives_the_defaults_for_an_empty_document) {
    for (std::string_view const text : {"{}", "", "# only a comment\n", "---\n", "~\n"}) {
        auto const r = parse(text);
        ASSERT_TRUE(r.ok()) << "input: " << text << "\n" << all_problems(r);
        EXPECT_EQ(to_yaml(r.cfg), to_yaml(config{})) << "input: " << text;
        EXPECT_EQ(r.cfg.idempotency.lock_ttl, 60s);
        EXPECT_EQ(r.cfg.idempotency.methods, (std::vector<std::string>{"POST", "PATCH"}));
        EXPECT_EQ(r.cfg.store.backend, store_backend::memory);
    }
}

TEST(parse_yaml, treats_an_empty_section_as_all_defaults) {
    auto const r = parse("store:\n  redis:\n    # all commented out\nlog:\n");
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.store.redis.url, "redis://127.0.0.1:6379/0");
}

TEST(parse_yaml, the_default_config_passes_validation) {
    EXPECT_TRUE(validate(config{}).empty());
}

struct fixture_row {
    std::string file;
    std::string key_path;
    int line;
    std::string message_part;
};

class invalid_fixture : public testing::TestWithParam<fixture_row> {};

TEST_P(invalid_fixture, gives_one_problem_naming_the_key_and_its_line) {
    auto const& row = GetParam();
    auto const r = load_file(fixture(row.file), no_env);
    ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
    auto const& p = r.problems.front();
    EXPECT_EQ(p.key_path, row.key_path);
    EXPECT_EQ(p.line, row.line);
    EXPECT_GT(p.column, 0);
    EXPECT_EQ(p.file, fixture(row.file));
    EXPECT_NE(p.message.find(row.message_part), std::string::npos) << p.message;
    auto const prefix = fixture(row.file) + ":" + std::to_string(row.line) + ":";
    EXPECT_EQ(p.to_string().rfind(prefix, 0), 0u) << p.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    fixtures, invalid_fixture,
    testing::Values(
        fixture_row{"invalid_unknown_key.yaml", "idempotency.lock_tll", 5,
                    "did you mean \"lock_ttl\""},
        fixture_row{"invalid_duplicate_key.yaml", "idempotency.ttl", 5, "first set on line 3"},
        fixture_row{"invalid_wrong_type.yaml", "idempotency.methods", 3, "expected a list"},
        fixture_row{"invalid_duration.yaml", "idempotency.lock_ttl", 3, "with a unit"},
        fixture_row{"invalid_size.yaml", "idempotency.max_stored_body", 3, "\"4 MB\""},
        fixture_row{"invalid_range.yaml", "idempotency.max_key_length", 3, "from 1 to 4096"},
        fixture_row{"invalid_zero_pool.yaml", "upstream.pool_size", 3, "got 0"},
        fixture_row{"invalid_enum.yaml", "store.on_unavailable", 3, "fail_closed fail_open"},
        fixture_row{"invalid_status.yaml", "idempotency.no_store_statuses[1]", 5, "100 to 599"},
        fixture_row{"invalid_listen.yaml", "listen", 2, "missing :port"},
        fixture_row{"invalid_upstream_url.yaml", "upstream.url", 3, "http:// or https://"},
        fixture_row{"invalid_redis_url.yaml", "store.redis.url", 5, "0 to 15"},
        fixture_row{"invalid_methods.yaml", "idempotency.methods", 3, "at least one"},
        fixture_row{"invalid_bool.yaml", "upstream.tls.insecure_skip_verify", 4, "true or false"},
        fixture_row{"invalid_threads.yaml", "threads", 2, "from 0 to 1024"},
        fixture_row{"invalid_unset_variable.yaml", "store.redis.url", 4,
                    "IDEMGATE_TEST_UNSET_REDIS_URL is not set"},
        fixture_row{"invalid_syntax.yaml", "", 4, "invalid YAML"},
        fixture_row{"invalid_not_a_mapping.yaml", "store", 2, "expected a mapping"},
        fixture_row{"invalid_lock_ttl_overflow.yaml", "idempotency.lock_ttl", 3,
                    "must be at most 30d"},
        fixture_row{"invalid_ttl_below_lock_ttl.yaml", "idempotency.ttl", 4,
                    "at least lock_ttl (1m)"},
        fixture_row{"invalid_idle_overflow.yaml", "timeouts.idle", 3, "at most 30d, got 200000d"}),
    [](testing::TestParamInfo<fixture_row> const& row) {
        return row.param.file.substr(0, row.param.file.find('.'));
    });

TEST(parse_yaml, reports_every_problem_of_a_file_not_only_the_first) {
    auto const r = load_file(fixture("invalid_many.yaml"), no_env);
    std::vector<std::pair<std::string, int>> found;
    for (auto const& p : r.problems) found.emplace_back(p.key_path, p.line);
    std::sort(found.begin(), found.end());
    std::vector<std::pair<std::string, int>> const expected{{"bogus", 4},
                                                            {"idempotency.concurrent", 8},
                                                            {"idempotency.lock_ttl", 7},
                                                            {"idempotency.ttl", 6},
                                                            {"listen", 2},
                                                            {"log.level", 10},
                                                            {"log.level", 11},
                                                            {"threads", 3}};
    EXPECT_EQ(found, expected) << all_problems(r);
}

TEST(parse_yaml, a_value_that_fails_keeps_its_default) {
    auto const r = parse("idempotency:\n  lock_ttl: soon\n  ttl: 2h\n");
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_EQ(r.cfg.idempotency.lock_ttl, 60s);
    EXPECT_EQ(r.cfg.idempotency.ttl, 2h);
}

TEST(parse_yaml, detects_duplicate_keys_at_the_top_level_and_deep_down) {
    auto const top = parse("listen: 127.0.0.1:1\nthreads: 2\nlisten: 127.0.0.1:2\n");
    ASSERT_EQ(top.problems.size(), 1u) << all_problems(top);
    EXPECT_EQ(top.problems[0].to_string(),
              "test.yaml:3:1 listen: duplicate key (first set on line 1)");

    auto const deep = parse("store:\n  redis:\n    tls:\n      ca_file: a\n      ca_file: b\n");
    ASSERT_EQ(deep.problems.size(), 1u) << all_problems(deep);
    EXPECT_EQ(deep.problems[0].key_path, "store.redis.tls.ca_file");
    EXPECT_EQ(deep.problems[0].line, 5);
    EXPECT_EQ(deep.problems[0].column, 7);
}

TEST(parse_yaml, detects_a_duplicate_section) {
    auto const r = parse("log:\n  level: info\nlog:\n  format: text\n");
    ASSERT_EQ(r.problems.size(), 1u) << all_problems(r);
    EXPECT_EQ(r.problems[0].key_path, "log");
    EXPECT_EQ(r.problems[0].line, 3);
}

TEST(parse_yaml, detects_unknown_keys_at_every_depth) {
    auto const r = parse("listn: x\nstore:\n  redis:\n    passwrd: x\n    zzzzzzzz: 1\n");
    ASSERT_EQ(r.problems.size(), 3u) << all_problems(r);
    EXPECT_EQ(r.problems[0].to_string(),
              "test.yaml:4:5 store.redis.passwrd: unknown key (did you mean \"password\"?)");
    EXPECT_EQ(r.problems[1].to_string(), "test.yaml:5:5 store.redis.zzzzzzzz: unknown key");
    EXPECT_EQ(r.problems[2].to_string(),
              "test.yaml:1:1 listn: unknown key (did you mean \"listen\"?)");
}

TEST(parse_yaml, reports_wrong_types_with_what_was_found) {
    auto const r = parse("listen: [a, b]\nthreads: {a: 1}\nlimits: [1]\nadmin:\n  listen:\n");
    ASSERT_EQ(r.problems.size(), 4u) << all_problems(r);
    EXPECT_EQ(r.problems[0].key_path, "listen");
    EXPECT_NE(r.problems[0].message.find("got a list"), std::string::npos);
    EXPECT_EQ(r.problems[1].key_path, "threads");
    EXPECT_NE(r.problems[1].message.find("got a mapping"), std::string::npos);
    EXPECT_EQ(r.problems[2].key_path, "limits");
    EXPECT_EQ(r.problems[3].key_path, "admin.listen");
    EXPECT_NE(r.problems[3].message.find("write \"\""), std::string::npos);
    EXPECT_EQ(r.problems[3].line, 5);
}

TEST(parse_yaml, reads_routes_and_leaves_unset_overrides_to_the_global_policy) {
    auto const r = parse("idempotency:\n  ttl: 2h\nroutes:\n  - match: /a\n    ttl: 3h\n"
                         "  - {match: /b, concurrent: wait}\n");
    ASSERT_TRUE(r.ok()) << all_problems(r);
    ASSERT_EQ(r.cfg.routes.size(), 2u);
    EXPECT_EQ(r.cfg.routes[0].ttl, 3h);
    EXPECT_FALSE(r.cfg.routes[0].concurrent.has_value());
    EXPECT_FALSE(r.cfg.routes[1].ttl.has_value());
    EXPECT_EQ(r.cfg.routes[1].concurrent, concurrent_mode::wait);
    EXPECT_TRUE(parse("routes: []\n").cfg.routes.empty());
    EXPECT_TRUE(parse("routes:\n").ok());
}

/// Each row: a `routes` text, the one problem's key path, line and a word of its message.
struct route_row {
    std::string text;
    std::string key_path;
    int line;
    std::string message_part;
};

TEST(parse_yaml, reports_each_bad_route_at_its_key) {
    std::vector<route_row> const rows{
        {"routes:\n  - match: /a\n    tll: 1h\n", "routes[0].tll", 3, "did you mean \"ttl\""},
        {"routes:\n  - match: /a\n    key_header: X-K\n", "routes[0].key_header", 3, "global-only"},
        {"routes:\n  - match: /a\n    scope_secret: s\n", "routes[0].scope_secret", 3,
         "global-only"},
        {"routes:\n  - match: /a\n    max_key_length: 9\n", "routes[0].max_key_length", 3,
         "global-only"},
        {"routes:\n  - match: /a\n    account_header: X-A\n", "routes[0].account_header", 3,
         "global-only"},
        {"routes:\n  - match: /a\n    replay_header: X-R\n", "routes[0].replay_header", 3,
         "global-only"},
        {"routes:\n  - match: /a\n    scope: route\n", "routes[0].scope", 3, "key_from"},
        {"routes:\n  - match: /a\n    fingerprint: none\n", "routes[0].fingerprint", 3, "key_from"},
        {"routes:\n  - match: /a\n    key_from: \"query:x\"\n", "routes[0].key_from", 3, "json:"},
        {"routes:\n  - match: /a\n  - match: /a/\n", "routes[1].match", 3, "duplicate match"},
        {"routes:\n  - match: v1\n", "routes[0].match", 2, "start with /"},
        {"routes:\n  - ttl: 1h\n", "routes[0].match", 2, "required"},
        {"routes:\n  - match: /a\n    ttl: 10s\n", "routes[0].ttl", 3, "at least lock_ttl"},
        {"routes:\n  - match: /a\n    ttl: soon\n", "routes[0].ttl", 3, "with a unit"},
        {"routes:\n  - match: /a\n    concurrent: queue\n", "routes[0].concurrent", 3,
         "reject wait"},
        {"routes:\n  - match: /a\n    methods: []\n", "routes[0].methods", 3, "at least one"},
        {"routes:\n  - match: /a\n    no_store_statuses: [700]\n", "routes[0].no_store_statuses[0]",
         3, "100 to 599"},
        {"routes:\n  - match: /a\n    enabled: maybe\n", "routes[0].enabled", 3, "true or false"},
        {"routes:\n  match: /a\n", "routes", 2, "list of mappings"},
        {"routes:\n  - /a\n", "routes[0]", 2, "expected a mapping"},
    };
    for (auto const& row : rows) {
        auto const r = parse(row.text);
        ASSERT_EQ(r.problems.size(), 1u) << row.text << all_problems(r);
        auto const& p = r.problems.front();
        EXPECT_EQ(p.key_path, row.key_path) << row.text;
        EXPECT_EQ(p.line, row.line) << row.text << p.to_string();
        EXPECT_NE(p.message.find(row.message_part), std::string::npos) << p.to_string();
    }
}

TEST(parse_yaml, a_ledger_route_names_a_bad_scheme_and_a_missing_secret_file) {
    auto const r = parse("routes:\n  - match: /a\n    key_from: \"json:/id\"\n"
                         "    verify: {scheme: hmac}\n");
    ASSERT_EQ(r.problems.size(), 2u) << all_problems(r);
    EXPECT_EQ(r.problems[0].key_path, "routes[0].verify.scheme");
    EXPECT_NE(r.problems[0].message.find("standard-webhooks"), std::string::npos);
    EXPECT_EQ(r.problems[1].key_path, "routes[0].verify.secret_file");
}

TEST(parse_yaml, route_keys_have_no_override_variables) {
    env_lookup const env = [](std::string const& name) -> std::optional<std::string> {
        if (name.starts_with("IDEMGATE_ROUTES")) return "1ms";
        return std::nullopt;
    };
    auto const r = parse_yaml("routes:\n  - match: /a\n    ttl: 2h\n", "test.yaml", env);
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.routes.at(0).ttl, 2h);
}

TEST(parse_yaml, refuses_numbers_that_are_negative_fractional_or_too_large) {
    for (std::string_view const text :
         {"threads: -1", "threads: 1.5", "threads: 4294967296", "threads: 0x10", "threads: +3"}) {
        auto const r = parse(text);
        ASSERT_EQ(r.problems.size(), 1u) << text;
        EXPECT_EQ(r.problems[0].key_path, "threads");
    }
}

TEST(parse_yaml, reports_a_syntax_error_with_its_position) {
    auto const r = parse("listen: [127.0.0.1:8080\n");
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_EQ(r.problems[0].key_path, "");
    EXPECT_GT(r.problems[0].line, 0);
    EXPECT_EQ(r.problems[0].to_string().rfind("test.yaml:", 0), 0u);
}

TEST(parse_yaml, refuses_several_documents_and_a_scalar_document) {
    auto const docs = parse("listen: 127.0.0.1:1\n---\nlisten: 127.0.0.1:2\n");
    ASSERT_EQ(docs.problems.size(), 1u);
    EXPECT_NE(docs.problems[0].message.find("one YAML document"), std::string::npos);
    auto const scalar = parse("hello\n");
    ASSERT_EQ(scalar.problems.size(), 1u);
    EXPECT_NE(scalar.problems[0].message.find("expected a mapping"), std::string::npos);
}

TEST(parse_yaml, refuses_a_stray_comma_instead_of_looping_forever) {
    // yaml-cpp 0.7's LoadAll never returns on these and takes memory until the process dies
    // (jbeder/yaml-cpp#1040); found by config_fuzz (corpus/config/timeout_stray_comma).
    for (auto const* text : {",", "\"x\" ,\n", ",pstream:\n  url: ${NOPE}\n"}) {
        auto const r = parse(text);
        ASSERT_EQ(r.problems.size(), 1u) << text;
        EXPECT_EQ(r.problems[0].message.rfind("invalid YAML", 0), 0u) << r.problems[0].message;
        EXPECT_GT(r.problems[0].line, 0) << text;
    }
}

TEST(parse_yaml, refuses_a_key_that_is_not_a_plain_name) {
    auto const r = parse("? [a, b]\n: 1\n");
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_NE(r.problems[0].message.find("plain name"), std::string::npos);
}

TEST(parse_yaml, upper_cases_methods) {
    auto const r = parse("idempotency:\n  methods: [post, Patch]\n");
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.idempotency.methods, (std::vector<std::string>{"POST", "PATCH"}));
}

TEST(parse_yaml, refuses_methods_with_characters_outside_a_token) {
    auto const r = parse("idempotency:\n  methods: [POST, \"PO ST\", \"\"]\n");
    ASSERT_EQ(r.problems.size(), 2u) << all_problems(r);
    EXPECT_EQ(r.problems[0].key_path, "idempotency.methods[1]");
    EXPECT_EQ(r.problems[0].line, 2);
    EXPECT_EQ(r.problems[1].key_path, "idempotency.methods[2]");
}

TEST(parse_yaml, accepts_yaml_booleans_in_the_three_spellings) {
    for (std::string_view const text :
         {"log: {access_log: false}", "log: {access_log: False}", "log: {access_log: FALSE}"}) {
        auto const r = parse(text);
        ASSERT_TRUE(r.ok()) << all_problems(r);
        EXPECT_FALSE(r.cfg.log.access_log);
    }
    EXPECT_FALSE(parse("log: {access_log: yes}").ok());
}

TEST(parse_yaml, quotes_a_bad_value_without_control_characters) {
    auto const r = parse("idempotency:\n  ttl: \"1\\u0007h\"\n");
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_NE(r.problems[0].message.find("got \"1?h\""), std::string::npos)
        << r.problems[0].message;
}

TEST(load_file, reports_a_missing_file_as_one_problem) {
    auto const r = load_file("/nonexistent/idemgate.yaml", no_env);
    ASSERT_EQ(r.problems.size(), 1u);
    EXPECT_EQ(r.problems[0].file, "/nonexistent/idemgate.yaml");
    EXPECT_NE(r.problems[0].to_string().find("cannot open config file"), std::string::npos);
}

TEST(load_file, accepts_the_example_config_of_the_repository) {
    auto const r = load_file(std::string(IDEMGATE_SOURCE_DIR) + "/config/idemgate.yaml", no_env);
    ASSERT_TRUE(r.ok()) << all_problems(r);
    EXPECT_EQ(r.cfg.listen, "127.0.0.1:8080");
    EXPECT_EQ(r.cfg.upstream.url, "http://127.0.0.1:9000");
    EXPECT_EQ(r.cfg.store.backend, store_backend::memory);
    EXPECT_EQ(r.cfg.admin.listen, "127.0.0.1:9090");
    EXPECT_EQ(r.cfg.log.format, log_format::json);
}

TEST(problem, prints_file_position_key_and_message) {
    EXPECT_EQ((problem{"a.yaml", 3, 7, "idempotency.ttl", "bad"}).to_string(),
              "a.yaml:3:7 idempotency.ttl: bad");
    EXPECT_EQ((problem{"a.yaml", 0, 0, "listen", "bad"}).to_string(), "a.yaml listen: bad");
    EXPECT_EQ((problem{"a.yaml", 2, 1, "", "invalid YAML: x"}).to_string(),
              "a.yaml:2:1: invalid YAML: x");
    EXPECT_EQ((problem{"", 0, 0, "listen", "bad"}).to_string(), "listen: bad");
}

} // namespace
} // namespace idemgate::config
