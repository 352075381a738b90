// sentinel_router against the shared Sentinel set (readiness, routing, a real failover, a
// silent sentinel first) and against a scripted sentinel in front of two plain servers
// (READONLY from a demoted master, a named node that is not a master).
#include "idemgate/error.hpp"
#include "idemgate/redis/sentinel_router.hpp"

#include "support/redis_sentinel.hpp"
#include "support/redis_server.hpp"
#include "support/run_task.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace idemgate::redis {
namespace {

using namespace std::chrono_literals;
using router_clock = std::chrono::steady_clock;

long long router_ms(router_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string router_bulk(std::string_view s) {
    return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

/// A sentinel that says what the test tells it: `SENTINEL get-master-addr-by-name` answers
/// master(), SUBSCRIBE is confirmed (no message ever follows), PING answered.
class scripted_sentinel {
public:
    explicit scripted_sentinel(net::io_context& ioc)
        : acceptor_(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
        net::co_spawn(ioc, accept_loop(), net::detached);
    }
    scripted_sentinel(scripted_sentinel const&) = delete;
    scripted_sentinel& operator=(scripted_sentinel const&) = delete;

    node_address address() const { return {"127.0.0.1", acceptor_.local_endpoint().port()}; }
    void name(node_address master) { master_ = std::move(master); }
    int questions() const noexcept { return questions_; }
    void close() {
        error_code ignored;
        acceptor_.close(ignored);
        for (auto const& s : sockets_) s->close(ignored);
    }

private:
    task<void> accept_loop() {
        for (;;) {
            auto [ec, s] = co_await acceptor_.async_accept(use_nothrow);
            if (ec) co_return;
            auto sp = std::make_shared<tcp::socket>(std::move(s));
            sockets_.push_back(sp);
            net::co_spawn(acceptor_.get_executor(), serve(sp), net::detached);
        }
    }

    std::string answer(reply const& cmd, bool& subscribed) {
        auto const word = [&](std::size_t i) {
            return i < cmd.elements.size() ? cmd.elements[i].str : std::string{};
        };
        if (word(0) == "SENTINEL") {
            ++questions_;
            return "*2\r\n" + router_bulk(master_.host) + router_bulk(std::to_string(master_.port));
        }
        if (word(0) == "SUBSCRIBE") {
            subscribed = true;
            return "*3\r\n" + router_bulk("subscribe") + router_bulk(word(1)) + ":1\r\n";
        }
        if (word(0) == "PING") return subscribed ? "*2\r\n$4\r\npong\r\n$0\r\n\r\n" : "+PONG\r\n";
        return "-ERR not scripted\r\n";
    }

    task<void> serve(std::shared_ptr<tcp::socket> s) {
        reply_parser parser;
        std::array<char, 4096> buf{};
        bool subscribed = false;
        for (;;) {
            auto [ec, n] = co_await s->async_read_some(net::buffer(buf), use_nothrow);
            if (ec) co_return;
            parser.feed(std::string_view(buf.data(), n));
            while (auto cmd = parser.next()) {
                auto const out = answer(*cmd, subscribed);
                auto [wec, wn] = co_await net::async_write(*s, net::buffer(out), use_nothrow);
                if (wec) co_return;
            }
        }
    }

    tcp::acceptor acceptor_;
    std::vector<std::shared_ptr<tcp::socket>> sockets_;
    node_address master_;
    int questions_ = 0;
};

class sentinel_router_test : public ::testing::Test {
protected:
    ~sentinel_router_test() override {
        if (router_) router_->stop();
        if (scripted_) scripted_->close();
        ioc_.restart();
        ioc_.run_for(100ms); // lets the stopped coroutines end
    }

    void start_router(std::vector<node_address> sentinels, std::string master_name,
                      std::uint32_t pool_size = 2) {
        sentinel_config cfg;
        cfg.sentinels = std::move(sentinels);
        cfg.master_name = std::move(master_name);
        cfg.connect_timeout = 300ms;
        auto base = std::make_shared<connection_config>();
        base->url.host = "unused";
        base->connect_timeout = 300ms;
        base->config_check_pending->store(false);
        router_ = std::make_shared<sentinel_router>(ioc_.get_executor(), base, std::move(cfg),
                                                    pool_size, stats_);
        router_->start();
    }

    /// Runs the io_context until `done` holds or `limit` passes; returns `done()`.
    bool run_until(std::function<bool()> const& done, std::chrono::milliseconds limit) {
        ioc_.restart();
        auto const deadline = router_clock::now() + limit;
        while (!done() && router_clock::now() < deadline) {
            ioc_.run_one_until(std::min(deadline, router_clock::now() + 20ms));
        }
        return done();
    }

    routed exec(std::vector<std::string> args, std::chrono::milliseconds budget = 1s) {
        auto body = [](sentinel_router& r, std::vector<std::string> a,
                       router_clock::time_point until) -> task<routed> {
            std::vector<std::string_view> const views(a.begin(), a.end());
            co_return co_await r.execute(views.size() > 1 ? views[1] : views[0], views, until);
        };
        return test::run_task(ioc_, body(*router_, std::move(args), router_clock::now() + budget),
                              budget + 2s);
    }

    net::io_context ioc_;
    std::shared_ptr<topology_stats> stats_ = std::make_shared<topology_stats>();
    std::unique_ptr<scripted_sentinel> scripted_;
    std::shared_ptr<sentinel_router> router_;
};

TEST_F(sentinel_router_test, ready_after_start_and_commands_reach_the_master) {
    auto& set = test::shared_redis_sentinel();
    set.restore_killed();
    auto const started = router_clock::now();
    start_router(set.sentinel_addresses(), set.master_name());
    ASSERT_TRUE(run_until([&] { return router_->ready(); }, 5s));
    std::cout << "[ sentinel ] router ready in " << router_ms(router_clock::now() - started)
              << " ms\n";
    EXPECT_EQ(router_->master(), set.primary_address());
    EXPECT_GE(stats_->refreshes.load(), 1U);
    EXPECT_EQ(stats_->nodes.load(), 1);
    EXPECT_EQ(stats_->master_changes.load(), 0U);

    auto const set_reply = exec({"SET", "sentinel_router_test:reach", "here"});
    ASSERT_TRUE(set_reply.r.has_value()) << set_reply.r.error().message();
    EXPECT_EQ(set_reply.r->str, "OK");
    ASSERT_NE(set_reply.via, nullptr);
    EXPECT_EQ(set.primary().command({"GET", "sentinel_router_test:reach"}).str, "here");
    EXPECT_TRUE(run_until([&] { return router_->subscribed(); }, 5s));
}

TEST_F(sentinel_router_test, follows_a_failover_and_serves_the_new_master_without_restart) {
    auto& set = test::shared_redis_sentinel();
    set.restore_killed();
    start_router(set.sentinel_addresses(), set.master_name());
    ASSERT_TRUE(run_until([&] { return router_->ready() && router_->subscribed(); }, 5s));
    ASSERT_TRUE(exec({"SET", "sentinel_router_test:failover", "0"}).r.has_value());

    auto const killed_at = router_clock::now();
    auto const old_port = set.kill_primary();
    std::optional<router_clock::time_point> first_failure;
    std::optional<router_clock::time_point> switched_at;
    std::optional<router_clock::time_point> first_success;
    auto const limit = killed_at + 30s;
    for (int i = 1; router_clock::now() < limit; ++i) {
        auto const r = exec({"SET", "sentinel_router_test:failover", std::to_string(i)}, 250ms);
        auto const now = router_clock::now();
        if (!r.r) {
            EXPECT_EQ(r.r.error(), make_error_code(errc::store_unavailable));
            if (!first_failure) first_failure = now;
        } else if (first_failure && switched_at) {
            first_success = now;
            break;
        }
        if (!switched_at) {
            auto const seen = set.master_seen_by(0);
            if (seen && seen->port != old_port) switched_at = router_clock::now();
        }
        run_until([] { return false; }, 20ms);
    }
    ASSERT_TRUE(first_failure.has_value()) << "no command failed after the kill";
    ASSERT_TRUE(switched_at.has_value()) << "the sentinels did not switch within 30 s";
    ASSERT_TRUE(first_success.has_value()) << "no success after the switch";
    std::cout << "[ sentinel ] router: kill -> first failure "
              << router_ms(*first_failure - killed_at) << " ms; kill -> switch "
              << router_ms(*switched_at - killed_at) << " ms; switch -> first success "
              << router_ms(*first_success - *switched_at) << " ms\n";
    EXPECT_LT(*first_failure - killed_at, 2s);
    EXPECT_LT(*first_success - *switched_at, 5s);
    auto const now_master = set.wait_for_switch(old_port, router_clock::now() + 10s);
    ASSERT_TRUE(now_master.has_value());
    EXPECT_EQ(router_->master(), now_master);
    EXPECT_EQ(stats_->master_changes.load(), 1U);
    EXPECT_TRUE(router_->ready());
    router_->stop();
    set.restore_killed();
}

TEST_F(sentinel_router_test, a_silent_sentinel_first_delays_readiness_by_one_connect_timeout) {
    auto& set = test::shared_redis_sentinel();
    set.restore_killed();
    // Listening but never accepting: the kernel completes the handshake, nothing answers.
    tcp::acceptor silent(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    auto sentinels = set.sentinel_addresses();
    sentinels.insert(sentinels.begin(), node_address{"127.0.0.1", silent.local_endpoint().port()});
    auto const started = router_clock::now();
    start_router(sentinels, set.master_name());
    ASSERT_TRUE(run_until([&] { return router_->ready(); }, 5s));
    auto const took = router_clock::now() - started;
    std::cout << "[ sentinel ] router ready past a silent sentinel in " << router_ms(took)
              << " ms\n";
    EXPECT_LT(took, 300ms + 700ms);
    EXPECT_EQ(router_->master(), set.primary_address());
}

class sentinel_router_scripted_test : public sentinel_router_test {
protected:
    sentinel_router_scripted_test()
        : a_(std::vector<std::string>{}),
          b_(std::vector<std::string>{"--replicaof", "127.0.0.1", std::to_string(a_.port())}) {
        scripted_ = std::make_unique<scripted_sentinel>(ioc_);
    }
    ~sentinel_router_scripted_test() override {
        if (router_) router_->stop();
        // SIGTERM would wait for a lagging replica (shutdown-timeout): nothing here to keep.
        a_.kill();
        b_.kill();
    }
    sentinel_router_scripted_test(sentinel_router_scripted_test const&) = delete;
    sentinel_router_scripted_test& operator=(sentinel_router_scripted_test const&) = delete;

    node_address at(test::redis_server const& s) const { return {"127.0.0.1", s.port()}; }

    test::redis_server a_;
    test::redis_server b_;
};

TEST_F(sentinel_router_scripted_test, readonly_from_a_demoted_master_runs_it_on_the_new_one) {
    scripted_->name(at(a_));
    start_router({scripted_->address()}, "scripted");
    // Settled: the watch subscribed and the resolution that follows it is done (else that
    // one, not the READONLY, would find the new master).
    ASSERT_TRUE(run_until(
        [&] { return router_->subscribed() && scripted_->questions() >= 2 && router_->ready(); },
        5s));
    ASSERT_EQ(router_->master(), at(a_));
    auto const asked = scripted_->questions();

    // A failover the router has not heard of: b promoted, a demoted under its connections.
    b_.command({"REPLICAOF", "NO", "ONE"});
    a_.command({"REPLICAOF", "127.0.0.1", std::to_string(b_.port())});
    scripted_->name(at(b_));

    auto const started = router_clock::now();
    auto const r = exec({"SET", "sentinel_router_test:readonly", "moved"}, 2s);
    ASSERT_TRUE(r.r.has_value()) << r.r.error().message();
    EXPECT_EQ(r.r->str, "OK");
    std::cout << "[ sentinel ] READONLY -> run on the new master in "
              << router_ms(router_clock::now() - started) << " ms\n";
    EXPECT_GT(scripted_->questions(), asked);
    EXPECT_EQ(router_->master(), at(b_));
    auto const& pool = router_->connections();
    EXPECT_NE(std::find(pool.begin(), pool.end(), r.via), pool.end());
    EXPECT_EQ(b_.command({"GET", "sentinel_router_test:readonly"}).str, "moved");
    EXPECT_EQ(stats_->master_changes.load(), 1U);
    EXPECT_TRUE(router_->ready());
}

TEST_F(sentinel_router_scripted_test, a_named_node_that_is_not_a_master_is_never_used) {
    scripted_->name(at(b_)); // a replica: ROLE says "slave"
    start_router({scripted_->address()}, "scripted");
    ASSERT_TRUE(run_until([&] { return scripted_->questions() >= 3; }, 5s));
    EXPECT_FALSE(router_->ready());
    EXPECT_FALSE(router_->confirmed());
    EXPECT_EQ(router_->master(), at(b_));
    auto const started = router_clock::now();
    auto const r = exec({"GET", "sentinel_router_test:never"}, 1s);
    ASSERT_FALSE(r.r.has_value());
    EXPECT_EQ(r.r.error(), make_error_code(errc::store_unavailable));
    EXPECT_EQ(r.via, nullptr);
    EXPECT_LT(router_clock::now() - started, 100ms); // at once: nothing was sent
}

} // namespace
} // namespace idemgate::redis
