// Contract §7 "no setting may overflow" (issue 9 §6): --check-config refuses durations and
// sizes over their bounds and a ttl below lock_ttl; a ttl below upstream.timeout is only a
// warning, printed by --check-config and logged at start.
#include "gateway_fixture.hpp"

namespace idemgate::test {
namespace {

/// --check-config on `yaml`: exit 2 and a line naming `key`.
void expect_refused(std::string const& yaml, std::string const& key) {
    temp_config_file const file(yaml);
    auto const r = run_cli({"--check-config", file.path.string()});
    EXPECT_EQ(r.exit_code, 2) << yaml << r.out << r.err;
    EXPECT_NE(r.err.find(key), std::string::npos) << key << " not named in:\n" << r.err;
}

TEST(config_bounds, check_config_refuses_a_lock_ttl_that_would_overflow) {
    expect_refused("idempotency:\n  lock_ttl: 9223372036854775807ms\n", "idempotency.lock_ttl");
}

TEST(config_bounds, check_config_refuses_every_duration_over_30_days) {
    for (auto const& [section, key] : {std::pair{"idempotency", "ttl"},
                                       {"idempotency", "wait_timeout"},
                                       {"timeouts", "idle"},
                                       {"timeouts", "request_headers"},
                                       {"timeouts", "write"},
                                       {"upstream", "timeout"},
                                       {"upstream", "connect_timeout"},
                                       {"shutdown", "timeout"},
                                       {"shutdown", "drain_delay"}}) {
        expect_refused(std::string(section) + ":\n  " + key + ": 200000d\n",
                       std::string(section) + "." + key);
    }
}

TEST(config_bounds, check_config_refuses_sizes_over_their_bounds) {
    expect_refused("limits:\n  max_request_body: 18446744073709551615\n",
                   "limits.max_request_body");
    expect_refused("upstream:\n  max_response_body: 2GiB\n", "upstream.max_response_body");
    expect_refused("idempotency:\n  max_stored_body: 1GiB\n", "idempotency.max_stored_body");
}

TEST(config_bounds, check_config_refuses_a_ttl_shorter_than_lock_ttl) {
    expect_refused("idempotency:\n  ttl: 30s\n  lock_ttl: 60s\n", "idempotency.ttl");
}

TEST(config_bounds, check_config_warns_about_a_ttl_shorter_than_upstream_timeout_and_exits_0) {
    temp_config_file const file(
        "idempotency:\n  ttl: 10s\n  lock_ttl: 10s\nupstream:\n  timeout: 30s\n");
    auto const r = run_cli({"--check-config", file.path.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("warning: idempotency.ttl"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("upstream.timeout"), std::string::npos) << r.err;
}

class config_warnings : public gateway_test {};

TEST_F(config_warnings, the_gateway_logs_a_ttl_shorter_than_upstream_timeout_at_start) {
    start_gateway(gateway_config{}
                      .set("idempotency.ttl", "2s")
                      .set("idempotency.lock_ttl", "1s")
                      .set("upstream.timeout", "5s"));
    auto const warned = gateway_->json_lines("risky setting");
    ASSERT_EQ(warned.size(), 1u) << gateway_->output();
    EXPECT_EQ(warned[0].value("key", ""), "idempotency.ttl");
    EXPECT_EQ(warned[0].value("level", ""), "warning") << warned[0].dump();
}

} // namespace
} // namespace idemgate::test
