// The redis store against a real redis-server: layout, TTLs, round trips per call, script
// reloading, WAIT, and failure behaviour. The shared contract is store_conformance_test.cpp.
#include "idemgate/error.hpp"
#include "idemgate/redis/connection.hpp"
#include "idemgate/redis/router.hpp"
#include "idemgate/store/record_codec.hpp"
#include "idemgate/store/redis_factory.hpp"
#include "idemgate/store/redis_store.hpp"
#include "idemgate/util/clock.hpp"
#include "support/digest.hpp"
#include "support/redis_server.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

namespace idemgate::store {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using test::redis_server;

using test::sha256_hex;

scope_key key(std::string const& name) {
    return scope_key{sha256_hex("scope/" + name)};
}

fingerprint fp(std::uint8_t seed) {
    fingerprint f{};
    for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(seed + i);
    return f;
}

stored_response response(std::string body) {
    stored_response r;
    r.status = 201;
    r.headers = {{"Content-Type", "application/json"}, {"Set-Cookie", "a=1"}};
    r.body = std::move(body);
    return r;
}

/// HGETALL as a map.
std::map<std::string, std::string> hash_of(redis_server const& s, std::string const& k) {
    auto const r = s.command({"HGETALL", k});
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i + 1 < r.elements.size(); i += 2) {
        out[r.elements[i].str] = r.elements[i + 1].str;
    }
    return out;
}

class redis_store_test : public ::testing::Test {
protected:
    config::redis_store_config config_for(redis_server const& s) {
        config::redis_store_config cfg;
        cfg.url = s.url();
        cfg.key_prefix = "t:";
        cfg.pool_size = 1;
        cfg.command_timeout = 500ms;
        return cfg;
    }

    redis_store& open(config::redis_store_config const& cfg) {
        store_ = std::make_unique<redis_store>(ioc_.get_executor(), cfg);
        return *store_;
    }

    result<begin_result> begin(scope_key const& k, fingerprint const& f,
                               std::chrono::milliseconds lock_ttl = 60s) {
        return test::run_task(ioc_, store_->begin(k, f, lock_ttl));
    }

    error_code complete(scope_key const& k, owner_token const& o, stored_response r,
                        std::chrono::milliseconds ttl = 1h) {
        return test::run_task(ioc_, store_->complete(k, o, std::move(r), ttl));
    }

    error_code release(scope_key const& k, owner_token const& o) {
        return test::run_task(ioc_, store_->release(k, o));
    }

    error_code renew(scope_key const& k, owner_token const& o) {
        return test::run_task(ioc_, store_->renew(k, o, 60s));
    }

    /// Runs the io_context until `done` holds; false after `limit`.
    bool run_until(std::function<bool()> const& done, std::chrono::milliseconds limit) {
        auto const deadline = steady::now() + limit;
        ioc_.restart();
        while (!done() && steady::now() < deadline) ioc_.run_for(5ms);
        return done();
    }

    /// Retries begin until it answers (the store reconnecting in the background).
    result<begin_result> begin_when_back(scope_key const& k, std::chrono::milliseconds limit) {
        auto const deadline = steady::now() + limit;
        auto r = begin(k, fp(1));
        while (!r && steady::now() < deadline) {
            run_until([] { return false; }, 20ms);
            r = begin(k, fp(1));
        }
        return r;
    }

    net::io_context ioc_;
    std::unique_ptr<redis_store> store_; // destroyed before ioc_
};

TEST_F(redis_store_test, a_claim_is_one_hash_under_prefix_and_hash_tag_with_the_lock_ttl) {
    redis_server server;
    auto& s = open(config_for(server));
    auto const k = key("layout");
    EXPECT_EQ(s.key_of(k), "t:{" + k.hash + "}");
    auto const before = util::real_clock().now_ms();
    auto const a = begin(k, fp(9), 60s);
    ASSERT_TRUE(a);
    ASSERT_EQ(a->kind, begin_kind::acquired);

    auto const h = hash_of(server, "t:{" + k.hash + "}");
    EXPECT_EQ(h.size(), 4U);
    EXPECT_EQ(h.at("st"), "p");
    EXPECT_EQ(h.at("fp"), "090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728");
    EXPECT_EQ(h.at("ow"), a->owner);
    EXPECT_GE(std::stoll(h.at("cr")), before - 5); // Redis TIME: same host clock
    EXPECT_LE(std::stoll(h.at("cr")), util::real_clock().now_ms() + 5);
    auto const pttl = server.command({"PTTL", "t:{" + k.hash + "}"}).integer;
    EXPECT_GT(pttl, 59'000);
    EXPECT_LE(pttl, 60'000);
}

TEST_F(redis_store_test, a_completed_record_keeps_only_the_encoded_response_and_expires_after_ttl) {
    redis_server server;
    open(config_for(server));
    auto const k = key("completed");
    auto const a = begin(k, fp(1));
    ASSERT_TRUE(a);
    ASSERT_EQ(complete(k, a->owner, response("{\"id\":1}"), 1h), error_code{});

    auto const h = hash_of(server, "t:{" + k.hash + "}");
    EXPECT_EQ(h.size(), 4U); // st fp cr rs: the owner token is gone
    EXPECT_EQ(h.at("st"), "c");
    EXPECT_EQ(h.count("ow"), 0U);
    record expected;
    expected.state = record_state::completed;
    expected.response = response("{\"id\":1}");
    EXPECT_EQ(h.at("rs"), encode(expected));
    auto const pttl = server.command({"PTTL", "t:{" + k.hash + "}"}).integer;
    EXPECT_GT(pttl, 3'590'000);
    EXPECT_LE(pttl, 3'600'000);
}

TEST_F(redis_store_test, nothing_in_redis_holds_the_api_key_the_engine_hashed_into_the_scope) {
    redis_server server;
    open(config_for(server));
    std::string const api_key = "sk_live_51Hx9SECRETvalue";
    scope_key const k{sha256_hex(api_key + "\n\nPOST\n/v1/charges\nkey-1")};
    auto const a = begin(k, fp(2));
    ASSERT_TRUE(a);
    ASSERT_EQ(complete(k, a->owner, response("charged")), error_code{});

    auto const keys = server.command({"KEYS", "*"});
    ASSERT_EQ(keys.elements.size(), 1U);
    EXPECT_EQ(keys.elements[0].str, "t:{" + k.hash + "}");
    for (auto const& [field, value] : hash_of(server, keys.elements[0].str)) {
        EXPECT_EQ(value.find(api_key), std::string::npos) << field;
        EXPECT_EQ(value.find("51Hx9"), std::string::npos) << field;
    }
}

TEST_F(redis_store_test, a_replay_returns_a_large_binary_body_intact) {
    redis_server server;
    open(config_for(server));
    std::string body(1 << 20, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 % 251);
    auto const k = key("large");
    auto const a = begin(k, fp(3));
    ASSERT_TRUE(a);
    ASSERT_EQ(complete(k, a->owner, response(body)), error_code{});
    auto const replay = begin(k, fp(3));
    ASSERT_TRUE(replay);
    ASSERT_EQ(replay->kind, begin_kind::replay);
    EXPECT_EQ(replay->existing->response.body, body);
}

TEST_F(redis_store_test, each_call_costs_exactly_one_redis_command_once_the_scripts_are_loaded) {
    redis_server server;
    open(config_for(server));
    auto const warm = begin(key("warm"), fp(1)); // loads begin (NOSCRIPT, then EVAL)
    ASSERT_TRUE(warm);
    ASSERT_EQ(complete(key("warm"), warm->owner, response("x")), error_code{});
    auto const warm2 = begin(key("warm2"), fp(1));
    ASSERT_TRUE(warm2);
    ASSERT_EQ(renew(key("warm2"), warm2->owner), error_code{});
    ASSERT_EQ(release(key("warm2"), warm2->owner), error_code{});

    // commandstats also counts the commands a script runs (redis.call): leave those out, and
    // INFO itself, so what remains is what the store sent.
    auto const calls = [&] {
        return test::command_calls(
            server, {"info", "hmget", "hset", "hdel", "time", "pexpire", "pexpireat", "del"});
    };
    auto const evalsha = [&] { return test::command_calls_of(server, "evalsha"); };
    auto const k = key("counted");
    auto c0 = calls();
    auto e0 = evalsha();
    auto const a = begin(k, fp(1));
    ASSERT_TRUE(a);
    EXPECT_EQ(calls() - c0, 1U) << "begin (acquired)";
    EXPECT_EQ(evalsha() - e0, 1U);
    c0 = calls();
    ASSERT_EQ(renew(k, a->owner), error_code{});
    EXPECT_EQ(calls() - c0, 1U) << "renew";
    c0 = calls();
    ASSERT_EQ(complete(k, a->owner, response("done")), error_code{});
    EXPECT_EQ(calls() - c0, 1U) << "complete";
    c0 = calls();
    auto const replay = begin(k, fp(1));
    ASSERT_TRUE(replay);
    EXPECT_EQ(replay->kind, begin_kind::replay);
    EXPECT_EQ(calls() - c0, 1U) << "begin (replay)";
    auto const b = begin(key("released"), fp(1));
    ASSERT_TRUE(b);
    c0 = calls();
    ASSERT_EQ(release(key("released"), b->owner), error_code{});
    EXPECT_EQ(calls() - c0, 1U) << "release";
}

TEST_F(redis_store_test, after_script_flush_a_call_reloads_its_script_once_and_succeeds) {
    redis_server server;
    open(config_for(server));
    ASSERT_TRUE(begin(key("before"), fp(1)));
    server.command({"SCRIPT", "FLUSH"});
    auto const evalsha0 = test::command_calls_of(server, "evalsha");
    auto const eval0 = test::command_calls_of(server, "eval");
    auto const a = begin(key("after"), fp(1));
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(a->kind, begin_kind::acquired);
    EXPECT_EQ(test::command_calls_of(server, "evalsha") - evalsha0, 1U); // NOSCRIPT
    EXPECT_EQ(test::command_calls_of(server, "eval") - eval0, 1U);       // ran and cached it
    auto const again = begin(key("after"), fp(1));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->kind, begin_kind::in_progress);
    EXPECT_EQ(test::command_calls_of(server, "eval") - eval0, 1U);
}

TEST_F(redis_store_test, too_few_replicas_for_wait_release_the_claim_and_fail) {
    redis_server server;
    auto cfg = config_for(server);
    cfg.wait_replicas = 1; // this server has none
    cfg.wait_timeout = 50ms;
    open(cfg);
    auto const k = key("wait");
    auto const r = begin(k, fp(1));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::store_unavailable);
    EXPECT_EQ(server.command({"EXISTS", "t:{" + k.hash + "}"}).integer, 0);
    EXPECT_EQ(test::command_calls_of(server, "wait"), 1U);
}

TEST_F(redis_store_test, a_completion_waits_for_the_replicas_too_and_a_shortfall_only_counts) {
    redis_server primary({"--repl-diskless-sync-delay", "0"}); // the replica syncs at once
    redis_server replica({"--replicaof", "127.0.0.1", std::to_string(primary.port())});
    ASSERT_TRUE(run_until(
        [&] {
            return primary.info_field("replication", "slave0").find("state=online") !=
                   std::string::npos;
        },
        5s));
    auto cfg = config_for(primary);
    cfg.wait_replicas = 1;
    cfg.wait_timeout = 1s; // a loaded machine may take a while to acknowledge
    auto const stats = std::make_shared<redis::topology_stats>();
    store_ =
        std::make_unique<redis_store>(ioc_.get_executor(), cfg, make_redis_connection_config(cfg),
                                      credential_bound{}, record_sealing{}, stats);
    auto const a = begin(key("replicated"), fp(1));
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_FALSE(complete(key("replicated"), a->owner, response("one")));
    EXPECT_EQ(test::command_calls_of(primary, "wait"), 2U); // after the claim and the record
    EXPECT_EQ(replica.command({"HGET", "t:{" + key("replicated").hash + "}", "st"}).str, "c");
    EXPECT_EQ(stats->shortfall_complete.load(), 0U);

    // The replica goes between the claim and the completion: the client already has its
    // answer, so the completion stands on the primary and the shortfall is counted.
    auto const b = begin(key("alone"), fp(1));
    ASSERT_TRUE(b) << b.error().message();
    replica.stop();
    ASSERT_TRUE(run_until(
        [&] { return primary.info_field("replication", "connected_slaves") == "0"; }, 5s));
    EXPECT_FALSE(complete(key("alone"), b->owner, response("two")));
    EXPECT_EQ(stats->shortfall_complete.load(), 1U);
    EXPECT_EQ(stats->shortfall_claim.load(), 0U);
    auto const replay = begin(key("alone"), fp(1));
    ASSERT_TRUE(replay);
    EXPECT_EQ(replay->kind, begin_kind::replay);
    // And a claim now falls short: 503 before the upstream, counted as a claim shortfall.
    EXPECT_FALSE(begin(key("no replica"), fp(1)));
    EXPECT_EQ(stats->shortfall_claim.load(), 1U);
}

TEST_F(redis_store_test, error_replies_and_corrupt_records_are_store_unavailable) {
    redis_server server;
    open(config_for(server));
    server.command({"SET", "t:{" + key("string").hash + "}", "not a hash"});
    auto const wrong_type = begin(key("string"), fp(1));
    ASSERT_FALSE(wrong_type);
    EXPECT_EQ(wrong_type.error(), errc::store_unavailable);

    auto const a = begin(key("corrupt"), fp(1));
    ASSERT_TRUE(a);
    ASSERT_EQ(complete(key("corrupt"), a->owner, response("x")), error_code{});
    server.command({"HSET", "t:{" + key("corrupt").hash + "}", "rs", "garbage"});
    auto const corrupt = begin(key("corrupt"), fp(1));
    ASSERT_FALSE(corrupt);
    EXPECT_EQ(corrupt.error(), errc::store_unavailable);
}

} // namespace
} // namespace idemgate::store
