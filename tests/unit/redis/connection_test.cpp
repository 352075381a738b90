// The pipelined connection against a real redis-server: ordering, deadlines, drops, pauses,
// reconnection, AUTH and SELECT.
#include "idemgate/error.hpp"
#include "idemgate/redis/connection.hpp"
#include "support/redis_server.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace idemgate::redis {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using test::redis_server;

std::shared_ptr<connection_config const> config_for(std::string const& url) {
    std::string error;
    auto u = parse_redis_url(url, error);
    if (!u) throw std::runtime_error(error);
    auto cfg = std::make_shared<connection_config>();
    cfg->url = *u;
    return cfg;
}

/// One command with its own deadline.
task<result<reply>> call(std::shared_ptr<connection> c, std::vector<std::string> args,
                         std::chrono::milliseconds timeout) {
    std::vector<std::string_view> const views(args.begin(), args.end());
    co_return co_await c->execute(command(views), steady::now() + timeout);
}

class connection_test : public ::testing::Test {
protected:
    std::shared_ptr<connection> open(std::string const& url) {
        auto c = std::make_shared<connection>(ioc_.get_executor(), config_for(url));
        c->start();
        conns_.push_back(c);
        return c;
    }

    /// Runs the io_context until `done` holds; false after `limit`.
    bool run_until(std::function<bool()> const& done, std::chrono::milliseconds limit = 5s) {
        auto const deadline = steady::now() + limit;
        ioc_.restart();
        while (!done() && steady::now() < deadline) ioc_.run_for(5ms);
        return done();
    }

    result<reply> run(std::shared_ptr<connection> c, std::vector<std::string> args,
                      std::chrono::milliseconds timeout = 2s) {
        return test::run_task(ioc_, call(std::move(c), std::move(args), timeout), 10s);
    }

    void TearDown() override {
        for (auto const& c : conns_) c->stop();
    }

    net::io_context ioc_;
    std::vector<std::shared_ptr<connection>> conns_;
};

TEST_F(connection_test, a_command_sent_during_the_first_connect_waits_for_it_and_is_answered) {
    redis_server server;
    auto const c = open(server.url());
    EXPECT_EQ(c->link(), link_state::connecting);
    auto const r = run(c, {"PING"});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->str, "PONG");
    EXPECT_EQ(c->link(), link_state::up);
}

task<void> incr_into(std::shared_ptr<connection> c, std::vector<std::int64_t>* out, std::size_t i) {
    std::vector<std::string> args{"INCR", "counter"}; // a named local: GCC 12, see call sites
    auto const r = co_await call(std::move(c), std::move(args), 5s);
    (*out)[i] = r && r->type == reply_type::integer ? r->integer : -1;
}

TEST_F(connection_test, a_hundred_concurrent_commands_share_few_writes_and_get_replies_in_order) {
    redis_server server;
    auto const c = open(server.url());
    ASSERT_TRUE(run(c, {"PING"}));
    auto const writes_before = c->write_count();
    std::vector<std::int64_t> got(100, 0);
    for (std::size_t i = 0; i < got.size(); ++i)
        net::co_spawn(ioc_, incr_into(c, &got, i), net::detached);
    ASSERT_TRUE(run_until([&] { return std::find(got.begin(), got.end(), 0) == got.end(); }));
    // The i-th call issued is the i-th INCR executed: FIFO matching of replies.
    for (std::size_t i = 0; i < got.size(); ++i)
        EXPECT_EQ(got[i], static_cast<std::int64_t>(i + 1));
    EXPECT_LT(c->write_count() - writes_before, 10U) << "commands were not coalesced";
}

TEST_F(connection_test, a_reply_arriving_after_its_deadline_is_dropped_not_given_to_the_next_call) {
    redis_server server;
    auto const c = open(server.url());
    ASSERT_TRUE(run(c, {"PING"}));
    auto const t0 = steady::now();
    auto const slow = run(c, {"DEBUG", "SLEEP", "0.6"}, 200ms);
    auto const waited = steady::now() - t0;
    ASSERT_FALSE(slow);
    EXPECT_EQ(slow.error(), errc::store_unavailable);
    EXPECT_GE(waited, 190ms);
    EXPECT_LT(waited, 450ms);
    // Sent while the server still sleeps: its reply comes right after the late "+OK".
    auto const next = run(c, {"ECHO", "mine"}, 3s);
    ASSERT_TRUE(next) << next.error().message();
    EXPECT_EQ(next->str, "mine");
    EXPECT_EQ(c->link(), link_state::up);
}

TEST_F(connection_test, a_dropped_connection_fails_the_unanswered_command_and_never_resends_it) {
    redis_server server;
    auto const c = open(server.url());
    ASSERT_TRUE(run(c, {"PING"}));
    std::optional<result<reply>> blocked;
    auto const t0 = steady::now();
    net::co_spawn(ioc_, call(c, {"BLPOP", "never", "0"}, 5s),
                  [&](std::exception_ptr, result<reply> r) { blocked = std::move(r); });
    run_until([] { return false; }, 100ms); // written, now blocked in the server
    server.command({"CLIENT", "KILL", "TYPE", "normal"});
    ASSERT_TRUE(run_until([&] { return blocked.has_value(); }));
    ASSERT_FALSE(*blocked);
    EXPECT_EQ(blocked->error(), errc::store_unavailable);
    EXPECT_LT(steady::now() - t0, 2s);
    // Reconnected in the background; the BLPOP ran once only.
    ASSERT_TRUE(run_until([&] { return c->link() == link_state::up; }));
    ASSERT_TRUE(run(c, {"PING"}));
    EXPECT_EQ(test::command_calls_of(server, "blpop"), 1U);
}

TEST_F(connection_test, a_stopped_server_fails_calls_at_once_and_a_restart_is_picked_up) {
    redis_server server;
    auto const c = open(server.url());
    ASSERT_TRUE(run(c, {"PING"}));
    server.stop();
    auto const t0 = steady::now();
    auto const r = run(c, {"PING"}, 500ms);
    EXPECT_FALSE(r);
    EXPECT_LT(steady::now() - t0, 600ms);
    ASSERT_TRUE(run_until([&] { return c->link() == link_state::down; }, 1s));
    auto const t1 = steady::now();
    auto const fast = run(c, {"PING"}, 500ms);
    ASSERT_FALSE(fast);
    EXPECT_EQ(fast.error(), errc::store_unavailable);
    EXPECT_LT(steady::now() - t1, 50ms) << "a down link must fail fast";

    server.start(); // same port, same connection object
    ASSERT_TRUE(run_until([&] { return c->link() == link_state::up; }, 5s));
    auto const again = run(c, {"PING"});
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ(again->str, "PONG");
}

TEST_F(connection_test, a_paused_server_times_calls_out_and_works_again_when_resumed) {
    redis_server server;
    auto const c = open(server.url());
    ASSERT_TRUE(run(c, {"PING"}));
    server.pause();
    auto const t0 = steady::now();
    auto const r = run(c, {"PING"}, 300ms);
    auto const waited = steady::now() - t0;
    server.resume();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::store_unavailable);
    EXPECT_GE(waited, 290ms);
    EXPECT_LT(waited, 550ms);
    auto const after = run(c, {"ECHO", "back"});
    ASSERT_TRUE(after) << after.error().message();
    EXPECT_EQ(after->str, "back");
}

TEST_F(connection_test, a_short_deadline_behind_a_long_one_is_kept_to_within_a_tick) {
    // One timer serves every deadline of the connection: set for the long call, it must be
    // brought forward for the short one.
    redis_server server;
    auto const c = open(server.url());
    ASSERT_TRUE(run(c, {"PING"}));
    server.pause();
    std::optional<result<reply>> patient;
    net::co_spawn(ioc_, call(c, {"ECHO", "patient"}, 4s),
                  [&](std::exception_ptr, result<reply> r) { patient = std::move(r); });
    auto const t0 = steady::now();
    auto const hurried = run(c, {"ECHO", "hurried"}, 200ms);
    auto const waited = steady::now() - t0;
    server.resume();
    ASSERT_FALSE(hurried);
    EXPECT_EQ(hurried.error(), errc::store_unavailable);
    EXPECT_GE(waited, 190ms);
    EXPECT_LT(waited, 450ms);
    ASSERT_TRUE(run_until([&] { return patient.has_value(); }));
    ASSERT_TRUE(*patient) << patient->error().message();
    EXPECT_EQ((*patient)->str, "patient");
    EXPECT_EQ(c->link(), link_state::up);
}

TEST_F(connection_test, a_server_that_is_down_at_start_fails_fast_then_is_connected_later) {
    redis_server server;
    server.stop();
    auto const c = open(server.url());
    ASSERT_TRUE(run_until([&] { return c->link() == link_state::down; }, 2s));
    EXPECT_FALSE(run(c, {"PING"}, 500ms));
    server.start();
    ASSERT_TRUE(run_until([&] { return c->link() == link_state::up; }, 5s));
    EXPECT_TRUE(run(c, {"PING"}));
}

TEST_F(connection_test, the_password_from_the_url_is_sent_with_auth) {
    redis_server server({"--requirepass", "s3cr:t"});
    auto const c = open("redis://:s3cr%3At@127.0.0.1:" + std::to_string(server.port()));
    auto const r = run(c, {"PING"});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->str, "PONG");
}

TEST_F(connection_test, a_server_that_never_answers_the_handshake_is_given_up_at_connect_timeout) {
    // The kernel completes the connect; nothing ever reads or answers the AUTH.
    tcp::acceptor silent(ioc_, {net::ip::make_address("127.0.0.1"), 0});
    std::string error;
    auto u = parse_redis_url(
        "redis://:pw@127.0.0.1:" + std::to_string(silent.local_endpoint().port()), error);
    ASSERT_TRUE(u) << error;
    auto cfg = std::make_shared<connection_config>();
    cfg->url = *u;
    cfg->connect_timeout = 300ms;
    auto const c = std::make_shared<connection>(ioc_.get_executor(), cfg);
    conns_.push_back(c);
    auto const t0 = steady::now();
    c->start();
    ASSERT_TRUE(run_until([&] { return c->link() == link_state::down; }, 3s));
    EXPECT_GE(steady::now() - t0, 250ms);
    EXPECT_FALSE(run(c, {"PING"}, 200ms));
}

TEST_F(connection_test, a_wrong_password_keeps_the_link_down) {
    redis_server server({"--requirepass", "right"});
    auto const c = open("redis://:wrong@127.0.0.1:" + std::to_string(server.port()));
    auto const r = run(c, {"PING"});
    EXPECT_FALSE(r);
    EXPECT_EQ(c->link(), link_state::down);
}

TEST_F(connection_test, an_acl_user_and_password_are_sent_with_auth) {
    redis_server server({"--requirepass", "admin"});
    server.use_auth("", "admin");
    server.command({"ACL", "SETUSER", "alice", "on", ">wonderland", "~*", "&*", "+@all"});
    auto const c = open("redis://alice:wonderland@127.0.0.1:" + std::to_string(server.port()));
    auto const r = run(c, {"ACL", "WHOAMI"});
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_EQ(r->str, "alice");
}

TEST_F(connection_test, the_database_from_the_url_is_selected) {
    redis_server server;
    auto const c = open(server.url(5));
    ASSERT_TRUE(run(c, {"SET", "where", "five"}));
    EXPECT_EQ(server.command({"GET", "where"}, 5).str, "five");
    EXPECT_EQ(server.command({"GET", "where"}, 0).type, reply_type::nil);
}

TEST_F(connection_test, stop_fails_pending_calls_and_later_calls_at_once) {
    redis_server server;
    auto const c = open(server.url());
    ASSERT_TRUE(run(c, {"PING"}));
    std::optional<result<reply>> blocked;
    net::co_spawn(ioc_, call(c, {"BLPOP", "never", "0"}, 5s),
                  [&](std::exception_ptr, result<reply> r) { blocked = std::move(r); });
    run_until([] { return false; }, 50ms);
    c->stop();
    ASSERT_TRUE(run_until([&] { return blocked.has_value(); }, 1s));
    EXPECT_FALSE(*blocked);
    EXPECT_EQ(c->link(), link_state::down);
    EXPECT_FALSE(run(c, {"PING"}));
}

} // namespace
} // namespace idemgate::redis
