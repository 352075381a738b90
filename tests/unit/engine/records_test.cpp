// engine/records.hpp: the records API's logic on a memory store — the scope it computes is
// the engine's, the answers' JSON, and the 400s.
#include "idemgate/engine/records.hpp"

#include "idemgate/config/config.hpp"
#include "idemgate/engine/fingerprint.hpp"
#include "idemgate/store/memory_store.hpp"
#include "idemgate/util/clock.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace idemgate::test {
namespace {

using namespace std::chrono_literals;

class records_logic : public ::testing::Test {
protected:
    records_logic()
        : db_(std::make_shared<store::memory_db>(config::memory_store_config{}, clock_)),
          store_(db_), scopes_("pepper") {}

    engine::records_answer call(engine::records_op op, nlohmann::json const& body) {
        return run_task(ioc_,
                        engine::run_records(op, body.dump(), store_, scopes_, ledger_routes_));
    }

    /// Claims (and with `response`, completes) the scope a client request would have.
    store::scope_key stored(std::optional<store::stored_response> response) {
        auto key = scopes_.make("sk_1", "acct", "POST", "/v1/charges", "k1");
        auto const fp = scopes_.keyed(key, engine::sha256("body"));
        auto const b = run_task(ioc_, store_.begin(key, fp, 60s));
        EXPECT_TRUE(b && b->kind == store::begin_kind::acquired);
        if (response) {
            EXPECT_FALSE(run_task(ioc_, store_.complete(key, b->owner, *response, 1h)));
        }
        return key;
    }

    static nlohmann::json scope_json() {
        return {{"api_key", "sk_1"},
                {"account", "acct"},
                {"method", "POST"},
                {"path", "/v1/charges"},
                {"key", "k1"}};
    }

    util::manual_clock clock_;
    net::io_context ioc_;
    std::shared_ptr<store::memory_db> db_;
    store::memory_store store_;
    engine::scope_hasher scopes_;
    std::vector<std::string> ledger_routes_{"/webhooks/x"};
};

TEST_F(records_logic, finds_the_scope_the_engine_computes_from_any_spelling_of_the_path) {
    store::stored_response res{201, {{"Content-Type", "text/plain"}}, "hello", false};
    auto const key = stored(res);
    for (auto const* path : {"/v1/charges", "//v1/./charges", "/v1/charges?x=1", "/v1/%63harges"}) {
        SCOPED_TRACE(path);
        auto body = scope_json();
        body["path"] = path;
        auto const a = call(engine::records_op::lookup, body);
        EXPECT_EQ(a.status, 200U) << a.body;
        EXPECT_EQ(a.scope, key.hash);
    }
    auto quoted = scope_json();
    quoted["key"] = R"("k1")"; // as an sf-string Idempotency-Key field
    EXPECT_EQ(call(engine::records_op::lookup, quoted).status, 200U);

    auto const a = call(engine::records_op::lookup, scope_json());
    auto const j = nlohmann::json::parse(a.body);
    EXPECT_EQ(j["state"], "completed");
    EXPECT_EQ(j["status"], 201);
    EXPECT_EQ(j["created_at"], engine::rfc3339_ms(clock_.now_ms()));
    EXPECT_EQ(j["expires_at"], engine::rfc3339_ms(clock_.now_ms() + 3'600'000));
    EXPECT_EQ(j["body_bytes"], 5);
    EXPECT_EQ(j["body_omitted"], false);
    EXPECT_EQ(j["fingerprint"].get<std::string>().size(), 64U);
    EXPECT_FALSE(j.contains("body_base64"));
    EXPECT_EQ(a.body.find("sk_1"), std::string::npos);

    auto with_body = scope_json();
    with_body["include_body"] = true;
    auto const full = nlohmann::json::parse(call(engine::records_op::lookup, with_body).body);
    EXPECT_EQ(full["body_base64"], "aGVsbG8=");
    EXPECT_EQ(full["headers"], nlohmann::json::parse(R"([["Content-Type","text/plain"]])"));
}

TEST_F(records_logic, an_in_progress_claim_has_a_null_status) {
    stored(std::nullopt);
    auto const j = nlohmann::json::parse(call(engine::records_op::lookup, scope_json()).body);
    EXPECT_EQ(j["state"], "in_progress");
    EXPECT_TRUE(j["status"].is_null());
}

TEST_F(records_logic, other_scopes_are_not_found_and_evict_deletes_once) {
    stored(store::stored_response{200, {}, "x", false});
    for (auto const* field : {"api_key", "account", "method", "key"}) {
        auto other = scope_json();
        other[field] = "other";
        EXPECT_EQ(call(engine::records_op::lookup, other).status, 404U) << field;
    }
    auto const evicted = call(engine::records_op::evict, scope_json());
    EXPECT_EQ(evicted.status, 200U);
    EXPECT_EQ(evicted.body, R"({"evicted":true})");
    EXPECT_EQ(call(engine::records_op::evict, scope_json()).status, 404U);
    EXPECT_EQ(call(engine::records_op::lookup, scope_json()).status, 404U);
}

TEST_F(records_logic, a_body_naming_no_scope_is_400) {
    auto const no = [&](nlohmann::json const& body) {
        auto const a = call(engine::records_op::lookup, body);
        EXPECT_EQ(a.status, 400U) << body.dump() << " " << a.body;
        EXPECT_TRUE(a.scope.empty());
    };
    no(nlohmann::json::array());
    no({{"key", "k1"}});
    auto j = scope_json();
    j["api_key"] = 5;
    no(j);
    j = scope_json();
    j["path"] = "v1/charges";
    no(j);
    j = scope_json();
    j["path"] = "/../x";
    no(j);
    j = scope_json();
    j["key"] = "";
    no(j);
    j = scope_json();
    j["include_body"] = "yes";
    no(j);
    auto const route = call(engine::records_op::lookup, {{"route", "/webhooks"}, {"key", "k"}});
    EXPECT_EQ(route.status, 400U) << "not a scope: route route";
    EXPECT_NE(route.body.find("unknown_route"), std::string::npos) << route.body;
    no({{"route", "/webhooks/x"}});
    no({{"route", "/webhooks/x"}, {"key", ""}});
    no({{"route", 7}, {"key", "k"}});
    auto both = scope_json();
    both["route"] = "/webhooks/x";
    no(both);
}

TEST_F(records_logic, a_route_scoped_record_is_named_by_route_and_key_as_the_ledger_scopes_it) {
    auto const key = scopes_.make_route("/webhooks/x", "evt_1");
    auto const b = run_task(ioc_, store_.begin(key, engine::sha256("delivery"), 60s));
    ASSERT_TRUE(b && b->kind == store::begin_kind::acquired);
    store::stored_response const res{200, {}, "ok", false};
    ASSERT_FALSE(run_task(ioc_, store_.complete(key, b->owner, res, 1h)));
    for (auto const* route : {"/webhooks/x", "/webhooks/x/"}) {
        auto const found = call(engine::records_op::lookup, {{"route", route}, {"key", "evt_1"}});
        EXPECT_EQ(found.status, 200U) << route << " " << found.body;
        EXPECT_EQ(found.scope, key.hash);
    }
    EXPECT_EQ(call(engine::records_op::lookup, {{"route", "/webhooks/x"}, {"key", "evt_2"}}).status,
              404U);
    // The key is taken as key_from read it: not parsed as an Idempotency-Key field.
    EXPECT_EQ(
        call(engine::records_op::lookup, {{"route", "/webhooks/x"}, {"key", "\"evt_1\""}}).status,
        404U);
    EXPECT_EQ(call(engine::records_op::evict, {{"route", "/webhooks/x"}, {"key", "evt_1"}}).status,
              200U);
    EXPECT_EQ(call(engine::records_op::lookup, {{"route", "/webhooks/x"}, {"key", "evt_1"}}).status,
              404U);
}

TEST(rfc3339_ms, formats_utc_with_milliseconds) {
    EXPECT_EQ(engine::rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(engine::rfc3339_ms(1'764'561'322'279), "2025-12-01T03:55:22.279Z");
}

} // namespace
} // namespace idemgate::test
