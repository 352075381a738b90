// sentinel_watch against the shared Sentinel set: subscription, moving past dead and silent
// sentinels, and a real +switch-master after the primary is killed.
#include "idemgate/redis/connection.hpp"
#include "idemgate/redis/sentinel_replies.hpp"
#include "idemgate/redis/sentinel_resolver.hpp"
#include "idemgate/redis/sentinel_watch.hpp"

#include "support/redis_sentinel.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <iostream>

namespace idemgate::redis {
namespace {

using namespace std::chrono_literals;
using watch_clock = std::chrono::steady_clock;

node_address watch_closed_port() {
    net::io_context ioc;
    tcp::acceptor a(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    auto const port = a.local_endpoint().port();
    a.close();
    return {"127.0.0.1", port};
}

class sentinel_watch_test : public ::testing::Test {
protected:
    sentinel_watch_test() : set_(test::shared_redis_sentinel()) { set_.restore_killed(); }
    ~sentinel_watch_test() override {
        if (watch_) watch_->stop();
        ioc_.restart();
        ioc_.run_for(100ms); // lets the stopped watch's coroutine end
    }

    void start_watch(std::vector<node_address> sentinels,
                     std::chrono::milliseconds ping_interval = 1000ms) {
        sentinel_config cfg;
        cfg.sentinels = std::move(sentinels);
        cfg.master_name = set_.master_name();
        cfg.connect_timeout = 300ms;
        cfg.ping_interval = ping_interval;
        sentinel_watch::handlers h;
        h.on_switch = [this](node_address const& a) { switched_to_.push_back(a); };
        h.on_subscribed = [this] { ++subscriptions_; };
        watch_ = std::make_shared<sentinel_watch>(ioc_.get_executor(), cfg, std::move(h));
        watch_->start();
    }

    /// Runs the io_context until `done` holds or `limit` passes; returns `done()`.
    bool run_until(std::function<bool()> const& done, std::chrono::milliseconds limit) {
        ioc_.restart();
        auto const deadline = watch_clock::now() + limit;
        while (!done() && watch_clock::now() < deadline) {
            ioc_.run_one_until(std::min(deadline, watch_clock::now() + 50ms));
        }
        return done();
    }

    test::redis_sentinel& set_;
    net::io_context ioc_;
    std::shared_ptr<sentinel_watch> watch_;
    std::vector<node_address> switched_to_;
    int subscriptions_ = 0;
};

TEST_F(sentinel_watch_test, subscribes_to_the_first_sentinel_that_accepts) {
    auto const sentinels = set_.sentinel_addresses();
    start_watch({watch_closed_port(), sentinels[1], sentinels[0]});
    ASSERT_TRUE(run_until([&] { return watch_->subscribed(); }, 5s));
    EXPECT_EQ(watch_->sentinel(), sentinels[1]);
    EXPECT_EQ(subscriptions_, 1);
    EXPECT_TRUE(switched_to_.empty());
}

TEST_F(sentinel_watch_test, a_silent_sentinel_is_left_for_the_next_one) {
    auto const sentinels = set_.sentinel_addresses();
    start_watch({sentinels[0], sentinels[1]}, 100ms);
    ASSERT_TRUE(run_until([&] { return watch_->subscribed(); }, 5s));
    ASSERT_EQ(watch_->sentinel(), sentinels[0]);
    set_.sentinel(0).pause();
    auto const paused_at = watch_clock::now();
    bool const moved = run_until([&] { return watch_->sentinel() == sentinels[1]; }, 5s);
    auto const took = watch_clock::now() - paused_at;
    set_.sentinel(0).resume();
    ASSERT_TRUE(moved);
    // Silent for three pings, then at most one connect_timeout on the next.
    EXPECT_LT(took, 300ms + 300ms + 1000ms);
    EXPECT_EQ(subscriptions_, 2);
}

TEST_F(sentinel_watch_test,
       a_killed_primary_is_announced_and_the_new_master_resolves_and_says_master) {
    auto const sentinels = set_.sentinel_addresses();
    start_watch(sentinels);
    ASSERT_TRUE(run_until([&] { return watch_->subscribed(); }, 5s));
    auto const killed_at = watch_clock::now();
    auto const old_port = set_.kill_primary();
    bool const seen = run_until([&] { return !switched_to_.empty(); }, 30s);
    auto const took = watch_clock::now() - killed_at;
    ASSERT_TRUE(seen) << "no +switch-master within 30 s";
    std::cout << "[ sentinel ] kill -> +switch-master seen by the watch in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
    EXPECT_NE(switched_to_.front().port, old_port);
    EXPECT_EQ(watch_->switches(), switched_to_.size());

    // What a router does next: ask the sentinels, then make sure the node says it is master.
    sentinel_config cfg;
    cfg.sentinels = sentinels;
    cfg.master_name = set_.master_name();
    sentinel_resolver resolver(cfg);
    auto const master = test::run_task(ioc_, resolver.resolve(), 5s);
    ASSERT_TRUE(master.has_value()) << master.error().message();
    EXPECT_EQ(*master, switched_to_.back());
    auto conn_cfg = std::make_shared<connection_config>();
    conn_cfg->url.host = master->host;
    conn_cfg->url.port = master->port;
    conn_cfg->config_check_pending->store(false);
    auto conn = std::make_shared<connection>(ioc_.get_executor(), conn_cfg);
    conn->start();
    auto ask_role = [](std::shared_ptr<connection> c) -> task<result<reply>> {
        command role{"ROLE"};
        co_return co_await c->execute(std::move(role), watch_clock::now() + 2s);
    };
    auto const role = test::run_task(ioc_, ask_role(conn), 5s);
    conn->stop();
    ASSERT_TRUE(role.has_value()) << role.error().message();
    EXPECT_TRUE(is_master_role(*role));

    watch_->stop();
    set_.restore_killed();
}

} // namespace
} // namespace idemgate::redis
