#include "idemgate/config/parse.hpp"

#include <gtest/gtest.h>

namespace idemgate::config {
namespace {

env_lookup const no_env = [](std::string const&) -> std::optional<std::string> {
    return std::nullopt;
};

TEST(to_yaml, output_parses_back_to_the_same_config) {
    auto const first = load_file(std::string(IDEMGATE_TEST_DATA) + "/valid_full.yaml", no_env);
    ASSERT_TRUE(first.ok());
    auto const text = to_yaml(first.cfg);
    auto const second = parse_yaml(text, "dump", no_env);
    ASSERT_TRUE(second.ok()) << text;
    EXPECT_EQ(to_yaml(second.cfg), text);
    EXPECT_EQ(second.cfg.idempotency.ttl, first.cfg.idempotency.ttl);
    EXPECT_EQ(second.cfg.store.memory.max_bytes, first.cfg.store.memory.max_bytes);
    EXPECT_EQ(second.cfg.idempotency.methods, first.cfg.idempotency.methods);
    ASSERT_EQ(second.cfg.routes.size(), first.cfg.routes.size());
    EXPECT_EQ(second.cfg.routes[0].ttl, first.cfg.routes[0].ttl);
    EXPECT_EQ(second.cfg.routes[1].enabled, first.cfg.routes[1].enabled);
}

TEST(to_yaml, writes_only_the_overrides_a_route_sets) {
    config cfg;
    route_config r;
    r.match = "/v1/payments";
    r.concurrent = concurrent_mode::wait;
    cfg.routes.push_back(r);
    auto const text = to_yaml(cfg);
    auto const at = text.find("routes:");
    ASSERT_NE(at, std::string::npos) << text;
    auto const routes = text.substr(at, text.find("admin:") - at);
    EXPECT_NE(routes.find("match: \"/v1/payments\""), std::string::npos) << routes;
    EXPECT_NE(routes.find("concurrent: wait"), std::string::npos) << routes;
    EXPECT_EQ(routes.find("ttl"), std::string::npos) << routes;
    EXPECT_NE(to_yaml(config{}).find("routes: []"), std::string::npos);
}

TEST(to_yaml, redacts_every_secret) {
    config cfg;
    cfg.store.redis.url = "redis://app:url-secret@h:6379/0";
    cfg.store.redis.password = "password-secret";
    cfg.idempotency.scope_secret = "scope-secret";
    cfg.admin.token = "admin-token-secret";
    auto const text = to_yaml(cfg);
    for (auto const* secret :
         {"url-secret", "password-secret", "scope-secret", "admin-token-secret"}) {
        EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in\n" << text;
    }
    EXPECT_NE(text.find("redis://app:***@h:6379/0"), std::string::npos) << text;
    EXPECT_NE(text.find("password: \"***\""), std::string::npos) << text;
}

TEST(to_yaml, shows_the_tls_paths_and_settings_and_parses_back) {
    config cfg;
    cfg.tls.cert_file = "/etc/idemgate/tls/tls.crt";
    cfg.tls.key_file = "/etc/idemgate/tls/tls.key";
    cfg.tls.min_version = tls_version::v1_3;
    cfg.tls.reload_interval = std::chrono::seconds(30);
    cfg.upstream.tls.cert_file = "/etc/idemgate/upstream/client.crt";
    cfg.store.redis.tls.key_file = "/etc/idemgate/redis/client.key";
    auto const text = to_yaml(cfg);
    for (auto const* shown :
         {"cert_file: \"/etc/idemgate/tls/tls.crt\"", "min_version: 1.3", "reload_interval: 30s",
          "/etc/idemgate/upstream/client.crt", "/etc/idemgate/redis/client.key"})
        EXPECT_NE(text.find(shown), std::string::npos) << shown << " not in\n" << text;
    // The files are not there: parsing it back reports them, and only them.
    auto const back = parse_yaml(text, "dump", no_env);
    for (auto const& p : back.problems)
        EXPECT_TRUE(p.key_path.starts_with("tls.") || p.key_path.starts_with("upstream.tls."))
            << p.to_string();
}

TEST(to_yaml, keeps_a_dollar_brace_literal_through_a_round_trip) {
    config cfg;
    cfg.store.redis.key_prefix = "${literal}:";
    auto const back = parse_yaml(to_yaml(cfg), "dump", no_env);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back.cfg.store.redis.key_prefix, "${literal}:");
}

TEST(name_of, spells_enum_values_as_the_contract_does) {
    EXPECT_EQ(name_of(missing_key_mode::passthrough), "passthrough");
    EXPECT_EQ(name_of(concurrent_mode::wait), "wait");
    EXPECT_EQ(name_of(fingerprint_mode::canonical_json), "canonical_json");
    EXPECT_EQ(name_of(store_backend::redis), "redis");
    EXPECT_EQ(name_of(unavailable_mode::fail_closed), "fail_closed");
    EXPECT_EQ(name_of(log_format::json), "json");
}

} // namespace
} // namespace idemgate::config
