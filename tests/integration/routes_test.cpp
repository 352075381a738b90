// routes (docs/configuration.md "Routes"): each request gets the policy of the longest
// `match` its path falls under, on segment boundaries, or the global one; a disabled route
// is forwarded untouched; the `route` label of the request metrics names the policy. Both
// store backends.
#include "gateway_fixture.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace idemgate::test {
namespace {

class routes : public store_gateway_test {
protected:
    /// Sends `req` every 50 ms until `done` holds for the answer or `limit` passes.
    template <class Done>
    http_response poll_until(http_request const& req, Done done,
                             std::chrono::milliseconds limit = 5s) const {
        auto const end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            auto r = send(req);
            if (done(r) || std::chrono::steady_clock::now() >= end) return r;
            std::this_thread::sleep_for(50ms); // the polling interval
        }
    }

    /// Polls /metrics until `series` has `value` or `limit` passes; whether it got there.
    bool metric_reaches(std::string const& series, double value,
                        std::chrono::milliseconds limit = 5s) const {
        auto const end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            if (metric_value(admin_get("/metrics").body, series) == value) return true;
            if (std::chrono::steady_clock::now() >= end) return false;
            std::this_thread::sleep_for(10ms);
        }
    }
};

/// A request without Idempotency-Key (forwarded or refused as missing_key says).
http_request unkeyed(std::string method, std::string target) {
    return without_header(keyed(std::move(method), std::move(target), "unused"), "Idempotency-Key");
}

TEST_P(routes, each_path_counts_on_the_longest_match_on_segment_boundaries) {
    start_gateway(gateway_config{}.set(
        "routes", "[{match: /v1/payments}, {match: /v1/payments/refunds/}, {match: /v2}]"));
    struct row {
        std::string target;
        std::string route;
    };
    std::vector<row> const rows{
        {"/v1/payments", "/v1/payments"},
        {"/v1/payments/pay_1", "/v1/payments"},
        {"/v1/payments/", "/v1/payments"},
        {"/v1/payments?next=/v1/payments/refunds", "/v1/payments"},
        {"/v1/payments/refunds", "/v1/payments/refunds"}, // trailing / of the match ignored
        {"/v1/payments/refunds/re_1", "/v1/payments/refunds"},
        {"/v1/payments/refundsx", "/v1/payments"},
        {"/v1/paymentsx", "default"},
        {"/v1", "default"},
        {"/v2/orders", "/v2"},
        {"/v1//payments/./pay_2", "/v1/payments"}, // matched in the normal form
        {"/", "default"},
    };
    std::size_t n = 0;
    for (auto const& r : rows) {
        SCOPED_TRACE(r.target);
        auto const before =
            metric_value(admin_get("/metrics").body, requests_series("executed", r.route));
        auto const res = send(keyed("POST", r.target, "lp-" + std::to_string(++n)));
        EXPECT_EQ(res.status, 201U) << res.error << res.body;
        EXPECT_EQ(metric_value(admin_get("/metrics").body, requests_series("executed", r.route)),
                  before + 1);
    }
    EXPECT_EQ(upstream_.calls(), rows.size());
}

TEST_P(routes, every_route_series_exists_at_start_and_no_request_path_becomes_a_label) {
    start_gateway(
        gateway_config{}.set("routes", "[{match: /v1/payments/}, {match: /up, enabled: false}]"));
    auto const text = admin_get("/metrics").body;
    for (auto const* route : {"default", "/v1/payments", "/up"}) {
        for (auto const* outcome : {"executed", "replayed", "passthrough", "rejected"}) {
            SCOPED_TRACE(std::string(route) + " " + outcome);
            EXPECT_EQ(metric_value(text, requests_series(outcome, route)), 0.0);
            EXPECT_EQ(metric_value(text, std::string("idemgate_request_duration_seconds_count{"
                                                     "outcome=\"") +
                                             outcome + "\",route=\"" + route + "\"}"),
                      0.0);
        }
    }
    EXPECT_EQ(send(keyed("POST", "/v1/payments/pay_secret_9", "lbl-1")).status, 201U);
    EXPECT_EQ(send(keyed("POST", "/up/file_secret_9", "lbl-2")).status, 201U);
    EXPECT_EQ(send(keyed("POST", "/other_secret_9", "lbl-3")).status, 201U);
    auto const after = admin_get("/metrics").body;
    EXPECT_EQ(after.find("secret_9"), std::string::npos);
    EXPECT_EQ(metric_value(after, requests_series("executed", "/v1/payments")), 1.0);
    EXPECT_EQ(metric_value(after, requests_series("passthrough", "/up")), 1.0);
    EXPECT_EQ(metric_value(after, requests_series("executed", "default")), 1.0);
}

TEST_P(routes, a_disabled_route_is_forwarded_untouched_even_where_the_global_policy_rejects) {
    start_gateway(gateway_config{}
                      .set("idempotency.missing_key", "reject")
                      .set("routes", "[{match: /v1/uploads, enabled: false}]"));
    auto const first = send(keyed("POST", "/v1/uploads/f_1", "up-1"));
    auto const second = send(keyed("POST", "/v1/uploads/f_1", "up-1"));
    EXPECT_EQ(first.status, 201U) << first.error;
    EXPECT_EQ(second.status, 201U) << second.error;
    EXPECT_FALSE(first.has(replay_header));
    EXPECT_FALSE(second.has(replay_header));
    EXPECT_EQ(second.header("X-Upstream-Call"), "2");
    EXPECT_EQ(upstream_.last_request().header("Idempotency-Key"), "up-1"); // untouched
    EXPECT_EQ(send(unkeyed("POST", "/v1/uploads")).status, 201U);          // no key: forwarded
    EXPECT_EQ(upstream_.calls(), 3U);
    // Outside the route, the global policy: a replay, and a keyless POST refused.
    auto const charged = send(protected_post("up-2"));
    expect_replay_of(charged, send(protected_post("up-2")));
    expect_error(send(unkeyed("POST", "/v1/uploadsx")), 400, "idempotency_key_required");
    EXPECT_EQ(upstream_.calls(), 4U);
}

TEST_P(routes, a_route_ttl_expires_its_records_while_the_global_ttl_keeps_others) {
    start_gateway(gateway_config{}.set("routes", "[{match: /short, ttl: 1s, lock_ttl: 1s}]"));
    auto const t0 = std::chrono::steady_clock::now();
    auto const first = send(keyed("POST", "/short/x", "ttl-r"));
    auto const global = send(protected_post("ttl-r"));
    expect_replay_of(first, send(keyed("POST", "/short/x", "ttl-r")));
    auto const later = poll_until(keyed("POST", "/short/x", "ttl-r"),
                                  [](http_response const& r) { return !r.has(replay_header); });
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 1s); // not before the route's ttl
    EXPECT_EQ(later.status, 201U) << later.error;
    EXPECT_FALSE(later.has(replay_header)) << "the route's 1s ttl did not expire the record";
    EXPECT_EQ(upstream_.calls(), 3U);
    expect_replay_of(global, send(protected_post("ttl-r"))); // global ttl: 24h
    EXPECT_EQ(upstream_.calls(), 3U);
}

TEST_P(routes, a_route_in_wait_mode_waits_for_the_first_while_the_global_reject_answers_409) {
    // The upstream holds each first request until the test lets it go.
    auto const answer = std::make_shared<std::atomic<bool>>(false);
    upstream_.set_handler([answer](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.hold_until = [answer] { return answer->load(); };
        return reply;
    });
    start_gateway(gateway_config{}.set("routes", "[{match: /v1/payments, concurrent: wait}]"));

    // Global policy (reject): a retry while the first is held gets 409 at once.
    http_response first;
    std::thread owner([&] { first = send(protected_post("cc-r")); });
    ASSERT_TRUE(upstream_.wait_for_calls(1, 5s));
    expect_error(send(protected_post("cc-r")), 409, "idempotency_request_in_progress");
    *answer = true;
    owner.join();
    EXPECT_EQ(first.status, 201U) << first.error;

    // The route (wait): the retry waits for the first and gets its replay.
    *answer = false;
    http_response paid;
    http_response waited;
    std::thread payer([&] { paid = send(keyed("POST", "/v1/payments", "cc-w")); });
    ASSERT_TRUE(upstream_.wait_for_calls(2, 5s));
    std::thread waiter([&] { waited = send(keyed("POST", "/v1/payments", "cc-w")); });
    // Both in the engine (the owner and the waiter polling the store), then let it answer.
    EXPECT_TRUE(metric_reaches("idemgate_inflight_requests", 2.0));
    *answer = true;
    payer.join();
    waiter.join();
    EXPECT_EQ(paid.status, 201U) << paid.error;
    expect_replay_of(paid, waited);
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(routes, a_route_missing_key_reject_refuses_keyless_calls_the_global_passthrough_forwards) {
    start_gateway(gateway_config{}.set("routes",
                                       "[{match: /v1/payments, missing_key: reject}, "
                                       "{match: /v1/payments/legacy, missing_key: passthrough}]"));
    expect_error(send(unkeyed("POST", "/v1/payments")), 400, "idempotency_key_required");
    expect_error(send(unkeyed("POST", "/v1/payments/pay_1/capture")), 400,
                 "idempotency_key_required");
    EXPECT_EQ(upstream_.calls(), 0U);
    EXPECT_EQ(send(unkeyed("POST", "/v1/payments/legacy/charge")).status, 201U);
    EXPECT_EQ(send(unkeyed("POST", "/v1/paymentsx")).status, 201U);
    EXPECT_EQ(send(unkeyed("POST", "/v1/charges")).status, 201U);
    EXPECT_EQ(upstream_.calls(), 3U);
}

TEST_P(routes, a_route_methods_list_replaces_the_global_one) {
    start_gateway(gateway_config{}.set("routes", "[{match: /v1/documents, methods: [PUT]}]"));
    // PUT is protected on the route only.
    auto const put = send(keyed("PUT", "/v1/documents/d_1", "m-1"));
    expect_replay_of(put, send(keyed("PUT", "/v1/documents/d_1", "m-1")));
    EXPECT_EQ(upstream_.calls(), 1U);
    EXPECT_FALSE(send(keyed("PUT", "/v1/charges/c_1", "m-2")).has(replay_header));
    EXPECT_FALSE(send(keyed("PUT", "/v1/charges/c_1", "m-2")).has(replay_header));
    EXPECT_EQ(upstream_.calls(), 3U);
    // POST (global list) is not protected on the route, still is elsewhere.
    EXPECT_FALSE(send(keyed("POST", "/v1/documents", "m-3")).has(replay_header));
    EXPECT_FALSE(send(keyed("POST", "/v1/documents", "m-3")).has(replay_header));
    EXPECT_EQ(upstream_.calls(), 5U);
    auto const post = send(protected_post("m-4"));
    expect_replay_of(post, send(protected_post("m-4")));
    EXPECT_EQ(upstream_.calls(), 6U);
}

TEST_P(routes, a_route_stores_a_status_the_global_policy_would_not) {
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.status = 503;
        return reply;
    });
    start_gateway(gateway_config{}.set("routes", "[{match: /v1/jobs, no_store_statuses: []}]"));
    auto const job = send(keyed("POST", "/v1/jobs", "ns-1"));
    EXPECT_EQ(job.status, 503U) << job.error;
    expect_replay_of(job, send(keyed("POST", "/v1/jobs", "ns-1")));
    EXPECT_EQ(send(protected_post("ns-2")).status, 503U); // global: 503 is not stored
    EXPECT_FALSE(send(protected_post("ns-2")).has(replay_header));
    EXPECT_EQ(upstream_.calls(), 3U);
}

TEST_P(routes, a_route_fingerprints_canonical_json_while_the_global_policy_hashes_the_bytes) {
    start_gateway(
        gateway_config{}.set("routes", "[{match: /v1/json, fingerprint: canonical_json}]"));
    std::string const body = R"({"a":1,"b":2})";
    std::string const reordered = "{\"b\": 2, \"a\": 1}";
    auto const first = send(keyed("POST", "/v1/json", "fp-r", body));
    expect_replay_of(first, send(keyed("POST", "/v1/json", "fp-r", reordered)));
    EXPECT_EQ(send(protected_post("fp-g", body)).status, 201U);
    expect_error(send(protected_post("fp-g", reordered)), 409, "idempotency_key_in_use");
    EXPECT_EQ(upstream_.calls(), 2U);
}

TEST_P(routes, a_route_max_stored_body_keeps_only_the_head_of_its_large_responses) {
    std::string const big(4096, 'z');
    upstream_.set_handler([big](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.body = big;
        return reply;
    });
    start_gateway(gateway_config{}.set("routes", "[{match: /v1/exports, max_stored_body: 1KiB}]"));
    EXPECT_EQ(send(keyed("POST", "/v1/exports", "sb-r")).body, big);
    auto const replay = send(keyed("POST", "/v1/exports", "sb-r"));
    EXPECT_EQ(replay.header(replay_header), "true");
    EXPECT_TRUE(replay.body.empty()) << replay.body.size() << " bytes";
    EXPECT_EQ(replay.header("Idempotency-Replay-Body-Omitted"), "true");
    EXPECT_EQ(send(protected_post("sb-g")).body, big); // global 4MiB: stored whole
    auto const global = send(protected_post("sb-g"));
    EXPECT_EQ(global.header(replay_header), "true");
    EXPECT_EQ(global.body, big);
    EXPECT_EQ(upstream_.calls(), 2U);
}

INSTANTIATE_TEST_SUITE_P(stores, routes, ::testing::ValuesIn(store_kinds()), store_name);

/// --check-config on `yaml`: exit 2 and a line holding each of `parts`.
void expect_check_refused(std::string const& yaml, std::vector<std::string> const& parts) {
    temp_config_file const file(yaml);
    auto const r = run_cli({"--check-config", file.path.string()});
    EXPECT_EQ(r.exit_code, 2) << yaml << r.out << r.err;
    for (auto const& part : parts)
        EXPECT_NE(r.err.find(part), std::string::npos) << part << " not in:\n" << r.err;
}

TEST(routes_config, check_config_refuses_duplicates_relative_matches_global_keys_and_bounds) {
    expect_check_refused("routes:\n  - match: /v1/payments\n  - match: /v1/payments/\n",
                         {"routes[1].match", "duplicate match"});
    expect_check_refused("routes:\n  - match: v1/payments\n", {"routes[0].match", "start with /"});
    expect_check_refused("routes:\n  - match: /a\n    key_header: X-Key\n",
                         {"routes[0].key_header", "global-only"});
    expect_check_refused("routes:\n  - match: /a\n    scope: route\n",
                         {"routes[0].scope", "needs key_from"});
    expect_check_refused("routes:\n  - match: /a\n    ttl: 30s\n", {"routes[0].ttl", "lock_ttl"});
    expect_check_refused("routes:\n  - match: /a\n    wait_timeout: 31d\n",
                         {"routes[0].wait_timeout", "at most 30d"});
    std::string many = "routes:\n";
    for (int i = 0; i <= 1000; ++i) many += "  - match: /r" + std::to_string(i) + "\n";
    expect_check_refused(many, {"routes", "at most 1000"});
}

TEST(routes_config, check_config_accepts_routes_and_warns_about_a_disabled_route_with_overrides) {
    temp_config_file const file("routes:\n  - match: /v1/payments\n    ttl: 72h\n"
                                "  - match: /v1/uploads\n    enabled: false\n    ttl: 1h\n");
    auto const r = run_cli({"--check-config", file.path.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("warning: routes[1].enabled"), std::string::npos) << r.err;
}

TEST(routes_config, check_config_warns_about_a_route_scoped_ledger_without_verify) {
    temp_config_file const file("routes:\n  - match: /webhooks/x\n    key_from: 'json:/id'\n"
                                "    scope: route\n");
    auto const r = run_cli({"--check-config", file.path.string()});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("warning: routes[0].scope"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("ledger poisoning"), std::string::npos) << r.err;
    temp_config_file const api_key_scoped("routes:\n  - match: /webhooks/x\n"
                                          "    key_from: 'json:/id'\n");
    auto const quiet = run_cli({"--check-config", api_key_scoped.path.string()});
    EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
    EXPECT_EQ(quiet.err.find("warning"), std::string::npos) << quiet.err;
}

class routes_warnings : public gateway_test {};

TEST_F(routes_warnings, the_gateway_logs_an_unverified_route_scoped_ledger_at_start) {
    start_gateway(gateway_config{}.set(
        "routes", "[{match: /webhooks/x, key_from: 'json:/id', scope: route}]"));
    auto const warned = gateway_->json_lines("risky setting");
    ASSERT_EQ(warned.size(), 1u) << gateway_->output();
    EXPECT_EQ(warned[0].value("key", ""), "routes[0].scope");
    EXPECT_EQ(warned[0].value("level", ""), "warning") << warned[0].dump();
}

} // namespace
} // namespace idemgate::test
