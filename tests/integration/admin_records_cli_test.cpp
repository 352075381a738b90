// Issue 13 §3 on a Redis store of its own: `idemgate records` against the store a gateway
// wrote (exit codes, the same JSON), and the records API on sealed records (store.encryption).
#include "replica_fixture.hpp"

#include "idemgate/store/redis_record.hpp"

#include <regex>

namespace idemgate::test {
namespace {

constexpr char const* cli_admin_token = "cli-records-token-0123456789";
std::string const cli_key_line = "ka:" + std::string(43, 'A') + "=";

class records_on_redis : public redis_gateways_test {
protected:
    /// The gateway's store, scope secret and (optionally) keys file, as a config for the CLI.
    std::string cli_config(std::string const& redis_url, std::string const& keys = "") const {
        std::string yaml = "upstream:\n  url: http://127.0.0.1:1\n"
                           "store:\n  backend: redis\n  redis:\n    url: " +
                           redis_url + "\n    key_prefix: \"" + key_prefix_ + "\"\n";
        if (!keys.empty()) yaml += "  encryption:\n    keys_file: " + keys + "\n";
        yaml += "idempotency:\n  scope_secret: s3cret\nlog:\n  format: json\n";
        return yaml;
    }

    gateway_config gateway_cfg(std::string const& keys = "") const {
        gateway_config cfg;
        cfg.set("idempotency.scope_secret", "s3cret");
        cfg.set("admin.token", std::string("\"") + cli_admin_token + "\"");
        if (!keys.empty()) cfg.set("store.encryption.keys_file", keys);
        return cfg;
    }

    cli_result records(std::string const& op, temp_config_file const& cfg,
                       temp_config_file const& api_key, std::string const& key,
                       std::vector<std::string> extra = {}) const {
        std::vector<std::string> args{"records",        op,
                                      "--config",       cfg.path.string(),
                                      "--api-key-file", api_key.path.string(),
                                      "--method",       "POST",
                                      "--path",         "/v1/charges",
                                      "--key",          key};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_cli(args);
    }
};

TEST_F(records_on_redis, the_cli_looks_up_and_evicts_what_the_gateway_stored) {
    start_replica(gateway_cfg());
    auto const first = send_to(0, protected_post("cli-1"));
    ASSERT_EQ(first.status, 201U);
    temp_config_file const cfg(cli_config(redis_.url()));
    temp_config_file const api_key(std::string(test_api_key) + "\n", ".key"); // newline ignored

    auto const found = records("lookup", cfg, api_key, "cli-1");
    EXPECT_EQ(found.exit_code, 0) << found.err;
    auto const j = nlohmann::json::parse(found.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << found.out;
    EXPECT_EQ(j.value("state", ""), "completed");
    EXPECT_EQ(j.value("status", 0), 201);
    EXPECT_EQ(j.value("body_bytes", std::size_t{0}), first.body.size());
    EXPECT_TRUE(found.out.ends_with("\n"));
    EXPECT_EQ(found.out.find(test_api_key), std::string::npos);
    EXPECT_EQ(found.err.find(test_api_key), std::string::npos);

    auto const with_body = records("lookup", cfg, api_key, "cli-1", {"--include-body"});
    EXPECT_EQ(with_body.exit_code, 0) << with_body.err;
    EXPECT_NE(with_body.out.find("body_base64"), std::string::npos) << with_body.out;

    EXPECT_EQ(records("lookup", cfg, api_key, "cli-2").exit_code, 1);
    auto const evicted = records("evict", cfg, api_key, "cli-1");
    EXPECT_EQ(evicted.exit_code, 0) << evicted.err;
    EXPECT_EQ(nlohmann::json::parse(evicted.out, nullptr, false),
              nlohmann::json({{"evicted", true}}));
    EXPECT_EQ(records("evict", cfg, api_key, "cli-1").exit_code, 1);
    EXPECT_EQ(records("lookup", cfg, api_key, "cli-1").exit_code, 1);
    auto const retry = send_to(0, protected_post("cli-1"));
    EXPECT_FALSE(retry.has(replay_header)) << "evicted: the retry runs again";
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_F(records_on_redis, the_cli_names_a_ledger_record_by_route) {
    std::string const routes = "[{match: /webhooks/x, methods: [POST], key_from: "
                               "'header:webhook-id', scope: route, fingerprint: none}]";
    start_replica(gateway_cfg().set("routes", routes));
    http_request delivery{"POST", "/webhooks/x", {{"webhook-id", "msg_7"}}, "{}"};
    ASSERT_EQ(send_to(0, delivery).status, 201U);
    temp_config_file const cfg(cli_config(redis_.url()) + "routes: " + routes + "\n");
    auto const by_route = [&](std::string const& op, std::string const& key) {
        return run_cli(
            {"records", op, "--config", cfg.path.string(), "--route", "/webhooks/x", "--key", key});
    };
    auto const found = by_route("lookup", "msg_7");
    EXPECT_EQ(found.exit_code, 0) << found.err;
    EXPECT_EQ(nlohmann::json::parse(found.out, nullptr, false).value("status", 0), 201)
        << found.out;
    EXPECT_EQ(by_route("lookup", "msg_8").exit_code, 1);
    EXPECT_EQ(by_route("evict", "msg_7").exit_code, 0);
    EXPECT_EQ(by_route("lookup", "msg_7").exit_code, 1);
    auto const again = send_to(0, delivery);
    EXPECT_FALSE(again.has(replay_header)) << "evicted: the redelivery runs the handler";
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_F(records_on_redis, the_cli_exits_2_on_usage_or_config_errors_and_3_without_a_store) {
    temp_config_file const cfg(cli_config(redis_.url()));
    temp_config_file const api_key(test_api_key, ".key");
    EXPECT_EQ(run_cli({"records"}).exit_code, 2);
    EXPECT_EQ(run_cli({"records", "show", "--config", cfg.path.string()}).exit_code, 2);
    auto const both = run_cli({"records", "lookup", "--config", cfg.path.string(), "--route",
                               "/webhooks", "--method", "POST", "--key", "k"});
    EXPECT_EQ(both.exit_code, 2) << both.err;
    auto const no_path =
        run_cli({"records", "lookup", "--config", cfg.path.string(), "--api-key-file",
                 api_key.path.string(), "--method", "POST", "--key", "k"});
    EXPECT_EQ(no_path.exit_code, 2) << no_path.err;
    EXPECT_EQ(records("lookup", cfg, api_key, "k", {"--bogus"}).exit_code, 2);
    auto const route = run_cli(
        {"records", "lookup", "--config", cfg.path.string(), "--route", "/webhooks", "--key", "k"});
    EXPECT_EQ(route.exit_code, 2) << "no route with scope: route is configured";
    EXPECT_NE(route.err.find("unknown_route"), std::string::npos) << route.err;
    temp_config_file const bad("store:\n  backend: nope\n");
    EXPECT_EQ(records("lookup", bad, api_key, "k").exit_code, 2);

    temp_config_file const unreachable(cli_config("redis://127.0.0.1:1"));
    auto const down = records("lookup", unreachable, api_key, "k");
    EXPECT_EQ(down.exit_code, 3) << down.out << down.err;
}

TEST_F(records_on_redis, sealed_records_open_and_one_that_does_not_is_500_without_content) {
    temp_config_file const keys(cli_key_line, ".keys");
    start_replica(gateway_cfg(keys.path.string()));
    auto const a_answer = send_to(0, protected_post("sealed-a"));
    ASSERT_EQ(a_answer.status, 201U);
    ASSERT_FALSE(a_answer.body.empty());
    auto const before = redis_.command({"KEYS", key_prefix_ + "{*}"});
    ASSERT_EQ(before.elements.size(), 1U);
    ASSERT_EQ(send_to(0, protected_post("sealed-b")).status, 201U);
    auto const after = redis_.command({"KEYS", key_prefix_ + "{*}"});
    ASSERT_EQ(after.elements.size(), 2U);
    auto const a_key = before.elements[0].str;
    auto const b_key =
        after.elements[0].str == a_key ? after.elements[1].str : after.elements[0].str;

    auto call = [&](std::string const& key) {
        http_request req{"POST", "/admin/v1/records/lookup", {}, {}};
        req.body = nlohmann::json{
            {"api_key", test_api_key},
            {"method", "POST"},
            {"path", "/v1/charges"},
            {"key", key},
            {"include_body",
             true}}.dump();
        req.headers.emplace_back("Authorization", std::string("Bearer ") + cli_admin_token);
        return send_request(replica(0).admin_port(), req);
    };
    auto const opened = call("sealed-a");
    EXPECT_EQ(opened.status, 200U) << opened.body;
    EXPECT_NE(opened.body.find("\"completed\""), std::string::npos) << opened.body;

    // b's record gets a's sealed response: bound to a's scope, it does not open.
    {
        auto const a_value = redis_.command({"GET", a_key}).str;
        auto const b_value = redis_.command({"GET", b_key}).str;
        auto const a = store::redis_record::decode(a_value);
        auto const b = store::redis_record::decode(b_value);
        ASSERT_TRUE(a && a->done && b && b->done);
        redis_.command(
            {"SET", b_key,
             *store::redis_record::encode_completed(b->c.fp, b->c.created_ms, a->c.response),
             "KEEPTTL"});
    }
    auto const unreadable = call("sealed-b");
    EXPECT_EQ(unreadable.status, 500U) << unreadable.body;
    EXPECT_NE(unreadable.body.find("record_unreadable"), std::string::npos) << unreadable.body;
    EXPECT_EQ(metric(0, R"(idemgate_admin_requests_total{endpoint="lookup",result="error"})"), 1.0);

    // The CLI opens it with the same keys file.
    temp_config_file const cfg(cli_config(redis_.url(), keys.path.string()));
    temp_config_file const api_key(test_api_key, ".key");
    EXPECT_EQ(records("lookup", cfg, api_key, "sealed-a").exit_code, 0);
    EXPECT_EQ(records("lookup", cfg, api_key, "sealed-b").exit_code, 3);
}

} // namespace
} // namespace idemgate::test
