// Issue 9: a store near its limits. A completed record the store refuses for its size is kept
// without its body (contract §7), so no operation runs twice; 401/403 are not stored by
// default; one credential cannot fill the store (store.max_records_per_credential).
#include "gateway_fixture.hpp"

namespace idemgate::test {
namespace {

/// The upstream answers every request with a large body (150 KB, as in the issue).
void answer_large(upstream_stub& upstream) {
    upstream.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.body = std::string(150 * 1024, 'b');
        return reply;
    });
}

/// Polls a gateway: sends `req` until `done(answer)` or 10 s; the last answer.
class limits_test : public store_gateway_test {
protected:
    http_response send_until(http_request const& req,
                             std::function<bool(http_response const&)> const& done) const {
        auto const deadline = std::chrono::steady_clock::now() + 10s;
        auto res = send(req);
        while (!done(res) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(20ms); // the polling interval, not a wait for an outcome
            res = send(req);
        }
        return res;
    }
};

class store_near_its_limit : public limits_test {
protected:
    /// memory: max_bytes below one large record; redis: a server of its own at maxmemory
    /// (noeviction) just above what it holds, so small claims fit and large records do not.
    void start_full_store() {
        gateway_config cfg;
        // Redis may answer -OOM for a moment after a large request: lock_ttl / 4 (2 s) is how
        // long the gateway retries the record without its body.
        cfg.set("idempotency.lock_ttl", "8s");
        if (store_ == store_kind::memory) {
            cfg.set("store.memory.max_bytes", "64KiB");
            start_gateway(cfg);
            return;
        }
#ifdef IDEMGATE_IT_HAVE_REDIS
        redis_ = std::make_unique<redis_server>(
            std::vector<std::string>{"--maxmemory-policy", "noeviction"});
        cfg.set("store.redis.url", redis_->url());
        start_gateway(cfg);
        ASSERT_EQ(send(protected_post("warm-up")).status, 201U); // scripts loaded, pool open
        auto const used = std::stoull(redis_->info_field("memory", "used_memory"));
        redis_->command({"CONFIG", "SET", "maxmemory", std::to_string(used + 64 * 1024)});
        upstream_calls_before_ = upstream_.calls();
#endif
    }

    /// Sends until the claim is taken (a -OOM claim is a 503 before the upstream is called).
    http_response execute(std::string const& key) {
        return send_until(protected_post(key), [](auto const& r) { return r.status != 503; });
    }

    /// Retries until the in-progress lock of a failed completion would have expired.
    http_response retry(std::string const& key) {
        return send_until(protected_post(key),
                          [](auto const& r) { return r.status != 409 && r.status != 503; });
    }

#ifdef IDEMGATE_IT_HAVE_REDIS
    std::unique_ptr<redis_server> redis_;
#endif
    std::size_t upstream_calls_before_ = 0;
};

TEST_P(store_near_its_limit, a_record_too_big_for_the_store_is_kept_without_its_body) {
    answer_large(upstream_);
    start_full_store();
    constexpr std::size_t operations = 6;
    for (std::size_t k = 0; k < operations; ++k) {
        auto const key = "full-" + std::to_string(k);
        SCOPED_TRACE(key);
        auto const first = execute(key);
        ASSERT_EQ(first.status, 201U) << first.error << first.body;
        EXPECT_EQ(first.body.size(), 150U * 1024); // the client got the whole body
        auto const again = retry(key);
        EXPECT_EQ(again.status, 201U) << again.error << again.body;
        EXPECT_EQ(again.header(replay_header), "true");
        EXPECT_EQ(again.header("Idempotency-Replay-Body-Omitted"), "true");
        EXPECT_EQ(again.header("X-Upstream-Call"), first.header("X-Upstream-Call"));
    }
    // Every operation ran upstream exactly once across its retries.
    EXPECT_EQ(upstream_.calls() - upstream_calls_before_, operations);
    auto const metrics = admin_get("/metrics").body;
    EXPECT_EQ(metric_value(metrics, "idemgate_store_body_omitted_total{reason=\"store_full\"}"),
              static_cast<double>(operations));
    EXPECT_EQ(metric_value(metrics, "idemgate_store_body_omitted_total{reason=\"too_large\"}"),
              0.0);
}

INSTANTIATE_TEST_SUITE_P(stores, store_near_its_limit, ::testing::ValuesIn(store_kinds()),
                         store_name);

class credential_limits : public limits_test {};

TEST_P(credential_limits, refusals_401_and_403_are_not_stored_by_default) {
    start_gateway();
    std::size_t calls = 0;
    for (unsigned const status : {401U, 403U}) {
        SCOPED_TRACE(status);
        upstream_.set_handler([status](recorded_request const&, std::size_t n) {
            auto reply = upstream_stub::default_reply(n);
            reply.status = status;
            return reply;
        });
        auto const key = "auth-" + std::to_string(status);
        auto const first = send(protected_post(key));
        auto const second = send(protected_post(key));
        calls += 2;
        EXPECT_EQ(first.status, status) << first.error;
        EXPECT_EQ(second.status, status) << second.error;
        EXPECT_FALSE(second.has(replay_header)); // the retry ran again
        EXPECT_EQ(upstream_.calls(), calls);
    }
}

/// `req` with the API key `token` instead of the test key.
http_request as(std::string const& token, http_request req) {
    return with_header(without_header(std::move(req), "Authorization"), "Authorization",
                       "Bearer " + token);
}

TEST_P(credential_limits, a_credential_over_its_bound_gets_429_and_the_upstream_is_not_called) {
    start_gateway(gateway_config{}.set("store.max_records_per_credential", "3"));
    std::vector<http_response> firsts;
    for (int k = 0; k < 3; ++k) {
        firsts.push_back(send(as("sk_greedy", protected_post("g-" + std::to_string(k)))));
        EXPECT_EQ(firsts.back().status, 201U) << firsts.back().error << firsts.back().body;
    }
    auto const refused = send(as("sk_greedy", protected_post("g-3")));
    expect_error(refused, 429, "idempotency_key_limit_reached");
    EXPECT_EQ(refused.header("Retry-After"), "60");
    EXPECT_EQ(upstream_.calls(), 3U);
    EXPECT_EQ(outcome_count("rejected"), 1.0);

    // Its existing records are still replayed; other credentials are not affected.
    expect_replay_of(firsts[0], send(as("sk_greedy", protected_post("g-0"))));
    auto const other = send(as("sk_other", protected_post("g-3")));
    EXPECT_EQ(other.status, 201U) << other.error << other.body;
    EXPECT_EQ(upstream_.calls(), 4U);
}

TEST_P(credential_limits, a_released_claim_does_not_count_against_the_bound) {
    start_gateway(gateway_config{}.set("store.max_records_per_credential", "1"));
    upstream_.set_handler([](recorded_request const&, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        reply.status = n == 1 ? 401 : 201; // 401: returned, claim released
        return reply;
    });
    EXPECT_EQ(send(as("sk_once", protected_post("r-1"))).status, 401U);
    EXPECT_EQ(send(as("sk_once", protected_post("r-2"))).status, 201U);
    EXPECT_EQ(send(as("sk_once", protected_post("r-3"))).status, 429U);
    EXPECT_EQ(upstream_.calls(), 2U);
}

using store_gauges = gateway_test;

TEST_F(store_gauges, the_memory_store_exports_the_records_and_bytes_it_holds_and_its_limits) {
    start_gateway(gateway_config{}
                      .set("store.memory.max_records", "5000")
                      .set("store.memory.max_bytes", "3MiB"));
    auto gauge = [this](std::string const& name) {
        return metric_value(admin_get("/metrics").body, name);
    };
    EXPECT_EQ(gauge("idemgate_store_records"), 0.0);
    EXPECT_EQ(gauge("idemgate_store_bytes"), 0.0);
    // The limits, for a "near full" ratio (docker/prometheus/idemgate-rules.yaml).
    EXPECT_EQ(gauge("idemgate_store_max_records"), 5000.0);
    EXPECT_EQ(gauge("idemgate_store_max_bytes"), 3.0 * 1024 * 1024);
    for (int k = 0; k < 3; ++k)
        ASSERT_EQ(send(protected_post("gauge-" + std::to_string(k))).status, 201U);
    EXPECT_EQ(gauge("idemgate_store_records"), 3.0);
    EXPECT_GT(gauge("idemgate_store_bytes"), 3.0 * 300);
}

INSTANTIATE_TEST_SUITE_P(stores, credential_limits, ::testing::ValuesIn(store_kinds()), store_name);

} // namespace
} // namespace idemgate::test
