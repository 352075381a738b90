// The redis store when Redis goes away, pauses or comes back, and the factory's start-up
// checks.
#include "idemgate/error.hpp"
#include "idemgate/redis/connection.hpp"
#include "idemgate/redis/standalone_router.hpp"
#include "idemgate/store/redis_factory.hpp"
#include "idemgate/store/redis_store.hpp"
#include "idemgate/util/clock.hpp"
#include "support/redis_server.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>

namespace idemgate::store {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using test::redis_server;

scope_key key(char c) {
    return scope_key{std::string(64, c)};
}

/// The connections of a standalone store.
std::vector<std::shared_ptr<redis::connection>> const& pool(redis_store const& s) {
    return dynamic_cast<redis::standalone_router&>(s.router()).connections();
}

class redis_store_failure_test : public ::testing::Test {
protected:
    redis_store& open(redis_server const& s, std::uint32_t pool_size = 1) {
        config::redis_store_config cfg;
        cfg.url = s.url();
        cfg.pool_size = pool_size;
        cfg.command_timeout = 300ms;
        store_ = std::make_unique<redis_store>(ioc_.get_executor(), cfg);
        return *store_;
    }

    result<begin_result> begin(scope_key const& k) {
        return test::run_task(ioc_, store_->begin(k, fingerprint{}, 60s));
    }

    /// begin() and how long it took.
    std::pair<result<begin_result>, steady::duration> timed_begin(scope_key const& k) {
        auto const t0 = steady::now();
        auto r = begin(k);
        return {std::move(r), steady::now() - t0};
    }

    bool run_until(std::function<bool()> const& done, std::chrono::milliseconds limit) {
        auto const deadline = steady::now() + limit;
        ioc_.restart();
        while (!done() && steady::now() < deadline) ioc_.run_for(5ms);
        return done();
    }

    net::io_context ioc_;
    std::unique_ptr<redis_store> store_;
};

TEST_F(redis_store_failure_test, a_stopped_server_fails_calls_within_the_timeout_and_goes_down) {
    redis_server server;
    auto& s = open(server);
    ASSERT_TRUE(begin(key('a')));
    EXPECT_EQ(s.state(), store_state::up);
    server.stop();
    auto const [r, took] = timed_begin(key('b'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::store_unavailable);
    EXPECT_LT(took, 400ms);
    ASSERT_TRUE(run_until([&] { return s.state() == store_state::down; }, 1s));
    auto const [fast, fast_took] = timed_begin(key('c'));
    EXPECT_FALSE(fast);
    EXPECT_LT(fast_took, 50ms) << "calls must fail at once while the store is down";
}

TEST_F(redis_store_failure_test, a_restarted_server_is_used_again_without_a_new_store) {
    redis_server server;
    auto& s = open(server);
    ASSERT_TRUE(begin(key('a')));
    server.stop();
    ASSERT_TRUE(run_until([&] { return s.state() == store_state::down; }, 1s));
    server.start(); // same port, empty data set
    ASSERT_TRUE(run_until([&] { return s.state() == store_state::up; }, 5s));
    auto const r = begin(key('a'));
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->kind, begin_kind::acquired);
}

TEST_F(redis_store_failure_test, a_paused_server_times_out_within_command_timeout_then_recovers) {
    redis_server server;
    auto& s = open(server);
    ASSERT_TRUE(begin(key('a')));
    server.pause();
    auto const [r, took] = timed_begin(key('b'));
    server.resume();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::store_unavailable);
    EXPECT_GE(took, 290ms);
    EXPECT_LT(took, 550ms);
    EXPECT_EQ(s.state(), store_state::up); // connected, just slow
    // The claim written while paused ran when Redis woke up: its outcome was unknown, never
    // resent, and its lock now holds the scope.
    auto const after = begin(key('b'));
    ASSERT_TRUE(after) << after.error().message();
    EXPECT_EQ(after->kind, begin_kind::in_progress);
}

TEST_F(redis_store_failure_test, a_store_made_while_redis_is_down_connects_when_it_comes_up) {
    redis_server server;
    server.stop();
    auto& s = open(server);
    ASSERT_TRUE(run_until([&] { return s.state() == store_state::down; }, 2s));
    EXPECT_FALSE(begin(key('a')));
    server.start();
    ASSERT_TRUE(run_until([&] { return s.state() == store_state::up; }, 5s));
    EXPECT_TRUE(begin(key('a')));
}

TEST_F(redis_store_failure_test, calls_are_spread_round_robin_over_the_pool) {
    redis_server server;
    auto& s = open(server, 3);
    for (char c = 'a'; c < 'g'; ++c) ASSERT_TRUE(begin(key(c)));
    ASSERT_EQ(pool(s).size(), 3U);
    // Two calls each; the first also reloaded its script after NOSCRIPT.
    for (auto const& conn : pool(s)) EXPECT_GE(conn->write_count(), 2U);
}

TEST_F(redis_store_failure_test, one_connection_down_leaves_the_store_up_on_the_others) {
    redis_server server;
    auto& s = open(server, 2);
    ASSERT_TRUE(begin(key('a')));
    ASSERT_TRUE(begin(key('b')));
    // Stop one connection by hand: the other keeps answering.
    pool(s)[0]->stop();
    EXPECT_EQ(s.state(), store_state::up);
    for (char c = 'c'; c < 'g'; ++c) EXPECT_TRUE(begin(key(c)));
}

TEST_F(redis_store_failure_test, a_server_out_of_memory_under_noeviction_is_store_unavailable) {
    redis_server server;
    auto& s = open(server);
    ASSERT_TRUE(begin(key('a')));
    server.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
    server.command({"CONFIG", "SET", "maxmemory", "1"});
    auto const r = begin(key('b'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::store_unavailable);
    EXPECT_EQ(s.state(), store_state::up); // the server answers; it is just full
}

TEST_F(redis_store_failure_test, a_full_server_still_replays_and_refuses_only_new_claims) {
    redis_server server;
    auto& s = open(server);
    auto const a = begin(key('a'));
    ASSERT_TRUE(a);
    stored_response done;
    done.status = 201;
    done.body = "kept";
    ASSERT_EQ(test::run_task(ioc_, s.complete(key('a'), a->owner, done, 1h)), error_code{});
    auto const b = begin(key('b'));
    ASSERT_TRUE(b);
    server.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
    server.command({"CONFIG", "SET", "maxmemory", "1"});
    // The plain claim (a SET) is refused with -OOM before it reads the key; the script reads.
    auto const replay = begin(key('a'));
    ASSERT_TRUE(replay) << replay.error().message();
    EXPECT_EQ(replay->kind, begin_kind::replay);
    EXPECT_EQ(replay->existing->response.body, "kept");
    auto const busy = begin(key('b'));
    ASSERT_TRUE(busy) << busy.error().message();
    EXPECT_EQ(busy->kind, begin_kind::in_progress);
    auto const fresh = begin(key('c'));
    ASSERT_FALSE(fresh);
    EXPECT_EQ(fresh.error(), errc::store_unavailable);
    server.command({"CONFIG", "SET", "maxmemory", "0"});
}

TEST_F(redis_store_failure_test, a_completion_refused_with_oom_is_store_full_and_writes_nothing) {
    redis_server server;
    auto& s = open(server);
    auto const a = begin(key('a'));
    ASSERT_TRUE(a);
    // Small writes still fit; a 256 KiB record (its request buffer) does not: contract §7.
    auto const used = std::stoull(server.info_field("memory", "used_memory"));
    server.command({"CONFIG", "SET", "maxmemory-policy", "noeviction"});
    server.command({"CONFIG", "SET", "maxmemory", std::to_string(used + 64 * 1024)});
    stored_response big;
    big.status = 201;
    big.body.assign(256 * 1024, 'x');
    EXPECT_EQ(test::run_task(ioc_, s.complete(key('a'), a->owner, std::move(big), 1h)),
              errc::store_full);
    auto const again = begin(key('a'));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->kind, begin_kind::in_progress); // the claim holds, nothing half-written
}

TEST(redis_factory, a_bad_url_is_rejected_at_start_up_without_echoing_the_password) {
    config::redis_store_config cfg;
    cfg.url = "redis://user:hunter2@host:notaport";
    try {
        (void)make_redis_factory(cfg, util::real_clock());
        FAIL() << "expected std::invalid_argument";
    } catch (std::invalid_argument const& e) {
        EXPECT_NE(std::string(e.what()).find("store.redis.url"), std::string::npos);
        EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos);
    }
}

TEST(redis_factory, a_missing_ca_file_for_rediss_is_rejected_at_start_up) {
    config::redis_store_config cfg;
    cfg.url = "rediss://127.0.0.1:6380";
    cfg.tls.ca_file = "/nonexistent/ca.pem";
    EXPECT_THROW((void)make_redis_factory(cfg, util::real_clock()), std::invalid_argument);
}

TEST(redis_factory, the_config_password_overrides_the_url_password) {
    config::redis_store_config cfg;
    cfg.url = "redis://alice:old@127.0.0.1:7000/2";
    cfg.password = "new";
    auto const c = make_redis_connection_config(cfg);
    EXPECT_EQ(c->url.user, "alice");
    EXPECT_EQ(c->url.password, "new");
    EXPECT_EQ(c->url.db, 2U);
}

TEST(redis_factory, stores_made_by_one_factory_see_the_same_records) {
    redis_server server;
    config::redis_store_config cfg;
    cfg.url = server.url();
    auto const f = make_redis_factory(cfg, util::real_clock());
    net::io_context one;
    net::io_context two;
    auto const a = f->make(one.get_executor());
    auto const b = f->make(two.get_executor());
    auto const first = test::run_task(one, a->begin(key('z'), fingerprint{}, 60s));
    ASSERT_TRUE(first);
    EXPECT_EQ(first->kind, begin_kind::acquired);
    auto const second = test::run_task(two, b->begin(key('z'), fingerprint{}, 60s));
    ASSERT_TRUE(second);
    EXPECT_EQ(second->kind, begin_kind::in_progress);
}

} // namespace
} // namespace idemgate::store
