// The redis store against a real redis-server: layout, TTLs, round trips per call, script
// reloading, WAIT, and failure behaviour. The shared contract is store_conformance_test.cpp.
#include "idemgate/error.hpp"
#include "idemgate/redis/connection.hpp"
#include "idemgate/redis/router.hpp"
#include "idemgate/store/record_codec.hpp"
#include "idemgate/store/redis_factory.hpp"
#include "idemgate/store/redis_record.hpp"
#include "idemgate/store/redis_store.hpp"
#include "idemgate/util/clock.hpp"
#include "support/digest.hpp"
#include "support/redis_server.hpp"
#include "support/run_task.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

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

/// A Redis < 7 in front of a real one: answers SET ... NX ... GET with "-ERR syntax error" as
/// Redis 6.2 and older do (nothing runs), forwards every other command (one connection each).
class pre7_redis {
public:
    explicit pre7_redis(redis_server const& target)
        : target_(target), listener_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
            ::listen(listener_, 16) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("pre7_redis: listen failed");
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~pre7_redis() {
        stop_ = true;
        thread_.join();
        for (auto& c : clients_) ::close(c.fd);
        ::close(listener_);
    }
    pre7_redis(pre7_redis const&) = delete;
    pre7_redis& operator=(pre7_redis const&) = delete;

    std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
    std::size_t refused() const { return refused_.load(); }

private:
    struct client {
        int fd;
        redis::reply_parser parser;
    };

    static void serialize(redis::reply const& r, std::string& out) {
        switch (r.type) {
        case redis::reply_type::nil:
            out += "$-1\r\n";
            break;
        case redis::reply_type::integer:
            out += ":" + std::to_string(r.integer) + "\r\n";
            break;
        case redis::reply_type::simple_string:
            out += "+" + r.str + "\r\n";
            break;
        case redis::reply_type::error:
            out += "-" + r.str + "\r\n";
            break;
        case redis::reply_type::bulk_string:
            out += "$" + std::to_string(r.str.size()) + "\r\n" + r.str + "\r\n";
            break;
        case redis::reply_type::array:
            out += "*" + std::to_string(r.elements.size()) + "\r\n";
            for (auto const& e : r.elements) serialize(e, out);
            break;
        }
    }

    std::string answer(redis::reply const& cmd) {
        std::vector<std::string> args;
        for (auto const& e : cmd.elements) args.push_back(e.str);
        auto upper = [](std::string v) {
            for (auto& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            return v;
        };
        bool nx = false;
        bool get = false;
        for (std::size_t i = 3; i < args.size(); ++i) {
            nx = nx || upper(args[i]) == "NX";
            get = get || upper(args[i]) == "GET";
        }
        if (!args.empty() && upper(args[0]) == "SET" && nx && get) {
            ++refused_;
            return "-ERR syntax error\r\n";
        }
        std::string out;
        serialize(target_.command(args), out);
        return out;
    }

    void run() {
        char buf[65536];
        while (!stop_) {
            std::vector<pollfd> fds{{listener_, POLLIN, 0}};
            for (auto const& c : clients_) fds.push_back({c.fd, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
            if (fds[0].revents & POLLIN) {
                int const fd = ::accept(listener_, nullptr, nullptr);
                if (fd >= 0) clients_.push_back({fd, {}});
            }
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
                auto& c = clients_[i - 1];
                auto const n = ::recv(c.fd, buf, sizeof buf, 0);
                if (n <= 0 || !c.parser.feed({buf, static_cast<std::size_t>(n)})) continue;
                std::string out;
                while (auto cmd = c.parser.next()) out += answer(*cmd);
                if (!out.empty()) (void)::send(c.fd, out.data(), out.size(), MSG_NOSIGNAL);
            }
        }
    }

    redis_server const& target_;
    int listener_;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<std::size_t> refused_{0};
    std::vector<client> clients_; // the proxy thread's
    std::thread thread_;
};

/// Every claim through the Lua script while it lives (process-wide; undone on failure too).
struct lua_claims_only {
    lua_claims_only() { redis_store::force_lua_claim(true); }
    ~lua_claims_only() { redis_store::force_lua_claim(false); }
    lua_claims_only(lua_claims_only const&) = delete;
    lua_claims_only& operator=(lua_claims_only const&) = delete;
};

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

TEST_F(redis_store_test, a_claim_is_one_string_under_prefix_and_hash_tag_with_the_lock_ttl) {
    redis_server server;
    auto& s = open(config_for(server));
    auto const k = key("layout");
    EXPECT_EQ(s.key_of(k), "t:{" + k.hash + "}");
    auto const set0 = test::command_calls_of(server, "set");
    auto const a = begin(k, fp(9), 60s);
    ASSERT_TRUE(a);
    ASSERT_EQ(a->kind, begin_kind::acquired);
    EXPECT_EQ(test::command_calls_of(server, "set") - set0, 1U); // SET NX PX GET
    EXPECT_EQ(test::command_calls_of(server, "evalsha"), 0U);

    std::string const rk = "t:{" + k.hash + "}";
    EXPECT_EQ(server.command({"TYPE", rk}).str, "string");
    auto const v = server.command({"GET", rk}).str;
    EXPECT_EQ(
        v, *redis_record::encode_claim(fp(9), a->owner, redis_record::clock_kind::lock_ms, 60000));
    auto const pttl = server.command({"PTTL", rk}).integer;
    EXPECT_GT(pttl, 59'000);
    EXPECT_LE(pttl, 60'000);
}

TEST_F(redis_store_test, a_lua_claim_writes_its_created_time_from_redis_time) {
    redis_server server;
    open(config_for(server));
    lua_claims_only const lua;
    auto const k = key("lua layout");
    auto const before = util::real_clock().now_ms();
    auto const a = begin(k, fp(9), 60s);
    ASSERT_TRUE(a);
    ASSERT_EQ(a->kind, begin_kind::acquired);
    EXPECT_EQ(test::command_calls_of(server, "set"), 1U);                  // inside the script
    auto const stored = server.command({"GET", "t:{" + k.hash + "}"}).str; // d's views
    auto const d = redis_record::decode(stored);
    ASSERT_TRUE(d);
    ASSERT_FALSE(d->done);
    EXPECT_EQ(d->p.clock, redis_record::clock_kind::created_ms);
    EXPECT_EQ(d->p.owner, a->owner);
    EXPECT_GE(d->p.value, before - 5); // Redis TIME: same host clock
    EXPECT_LE(d->p.value, util::real_clock().now_ms() + 5);
}

TEST_F(redis_store_test, a_server_before_7_refusing_set_nx_get_turns_the_process_to_the_script) {
    redis_server server;
    pre7_redis const old(server);
    auto cfg = config_for(server);
    cfg.url = old.url();
    open(cfg);
    redis_store::force_lua_claim(false);
    struct undo {
        ~undo() { redis_store::force_lua_claim(false); }
    } const undo_at_exit;
    auto const a = begin(key("old"), fp(1));
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(a->kind, begin_kind::acquired);
    EXPECT_EQ(old.refused(), 1U);
    EXPECT_TRUE(redis_store::lua_claim_only());
    // The script wrote a "C" record, on Redis's clock.
    auto const stored = server.command({"GET", "t:{" + key("old").hash + "}"}).str; // d's views
    auto const d = redis_record::decode(stored);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->p.clock, redis_record::clock_kind::created_ms);
    ASSERT_EQ(complete(key("old"), a->owner, response("six")), error_code{});
    auto const replay = begin(key("old"), fp(1));
    ASSERT_TRUE(replay);
    EXPECT_EQ(replay->kind, begin_kind::replay);
    auto const b = begin(key("other"), fp(1));
    ASSERT_TRUE(b);
    EXPECT_EQ(b->kind, begin_kind::acquired);
    EXPECT_EQ(old.refused(), 1U); // asked once per process
}

TEST_F(redis_store_test,
       a_completed_record_is_fingerprint_created_and_response_expiring_after_ttl) {
    redis_server server;
    open(config_for(server));
    auto const k = key("completed");
    std::string const rk = "t:{" + k.hash + "}";
    auto const a = begin(k, fp(1));
    ASSERT_TRUE(a);
    // The plain claim's created time: its expiry minus the lock (Redis's clock).
    auto const created = server.command({"PEXPIRETIME", rk}).integer - 60'000;
    ASSERT_EQ(complete(k, a->owner, response("{\"id\":1}"), 1h), error_code{});

    record expected;
    expected.state = record_state::completed;
    expected.response = response("{\"id\":1}");
    EXPECT_EQ(server.command({"GET", rk}).str,
              *redis_record::encode_completed(fp(1), created, encode(expected)));
    EXPECT_EQ(server.command({"PEXPIRETIME", rk}).integer, created + 3'600'000);
}

TEST_F(redis_store_test, a_renewal_writes_the_created_time_down_before_moving_the_expiry) {
    redis_server server;
    open(config_for(server));
    auto const k = key("renewed");
    std::string const rk = "t:{" + k.hash + "}";
    auto const a = begin(k, fp(1), 60s);
    ASSERT_TRUE(a);
    auto const created = server.command({"PEXPIRETIME", rk}).integer - 60'000;
    ASSERT_EQ(test::run_task(ioc_, store_->renew(k, a->owner, 120s)), error_code{});
    EXPECT_EQ(server.command({"GET", rk}).str,
              *redis_record::encode_claim(fp(1), a->owner, redis_record::clock_kind::created_ms,
                                          created));
    EXPECT_GT(server.command({"PTTL", rk}).integer, 60'000);
    ASSERT_EQ(test::run_task(ioc_, store_->renew(k, a->owner, 30s)), error_code{});
    ASSERT_EQ(complete(k, a->owner, response("x"), 1h), error_code{});
    auto const stored = server.command({"GET", rk}).str; // d's views point into it
    auto const d = redis_record::decode(stored);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->c.created_ms, created);
    EXPECT_EQ(server.command({"PEXPIRETIME", rk}).integer, created + 3'600'000);
    auto const found = test::run_task(ioc_, store_->lookup(k));
    ASSERT_TRUE(found);
    ASSERT_TRUE(*found);
    EXPECT_EQ((*found)->rec.created_ms, created);
}

TEST_F(redis_store_test, lookup_reads_both_claims_and_completed_records) {
    redis_server server;
    open(config_for(server));
    auto const k = key("peeked");
    std::string const rk = "t:{" + k.hash + "}";
    auto const a = begin(k, fp(4), 60s);
    ASSERT_TRUE(a);
    auto const created = server.command({"PEXPIRETIME", rk}).integer - 60'000;
    auto const p = test::run_task(ioc_, store_->lookup(k));
    ASSERT_TRUE(p);
    ASSERT_TRUE(*p);
    EXPECT_EQ((*p)->rec.state, record_state::in_progress);
    EXPECT_EQ((*p)->rec.fp, fp(4));
    EXPECT_EQ((*p)->rec.created_ms, created);
    EXPECT_TRUE((*p)->rec.owner.empty());
    EXPECT_NEAR(static_cast<double>((*p)->expires_ms), static_cast<double>(created + 60'000), 50);
    ASSERT_EQ(complete(k, a->owner, response("body"), 1h), error_code{});
    auto const c = test::run_task(ioc_, store_->lookup(k));
    ASSERT_TRUE(c);
    ASSERT_TRUE(*c);
    EXPECT_EQ((*c)->rec.state, record_state::completed);
    EXPECT_EQ((*c)->rec.response, response("body"));
    EXPECT_EQ((*c)->rec.created_ms, created);
    EXPECT_NEAR(static_cast<double>((*c)->expires_ms), static_cast<double>(created + 3'600'000),
                50);
    EXPECT_FALSE(*test::run_task(ioc_, store_->lookup(key("absent"))));
}

/// A record as the previous version (one hash) wrote it.
void write_legacy_hash(redis_server const& server, std::string const& rk, std::string const& st,
                       fingerprint const& f, std::string const& owner, std::int64_t created,
                       std::string const& rs) {
    std::string fp_hex;
    for (auto const b : f) {
        constexpr std::string_view digits = "0123456789abcdef";
        fp_hex.push_back(digits[b >> 4U]);
        fp_hex.push_back(digits[b & 0x0FU]);
    }
    if (st == "p") {
        server.command(
            {"HSET", rk, "st", st, "fp", fp_hex, "ow", owner, "cr", std::to_string(created)});
    } else {
        server.command(
            {"HSET", rk, "st", st, "fp", fp_hex, "cr", std::to_string(created), "rs", rs});
    }
    server.command({"PEXPIRE", rk, "60000"});
}

TEST_F(redis_store_test, records_of_the_previous_hash_layout_are_read_and_fenced_as_before) {
    redis_server server;
    open(config_for(server));
    std::string const old_owner(32, 'a');
    auto const claim = key("legacy claim");
    write_legacy_hash(server, "t:{" + claim.hash + "}", "p", fp(1), old_owner, 1000, "");
    auto const in_progress = begin(claim, fp(1));
    ASSERT_TRUE(in_progress) << in_progress.error().message();
    EXPECT_EQ(in_progress->kind, begin_kind::in_progress);
    auto const mismatch = begin(claim, fp(2));
    ASSERT_TRUE(mismatch);
    EXPECT_EQ(mismatch->kind, begin_kind::fingerprint_mismatch);
    // Only the old owner may renew or release it; this replica's tokens are refused.
    EXPECT_EQ(renew(claim, std::string(32, 'b')), errc::not_owner);
    EXPECT_EQ(complete(claim, std::string(32, 'b'), response("x")), errc::not_owner);
    EXPECT_EQ(renew(claim, old_owner), error_code{});
    auto const peeked = test::run_task(ioc_, store_->lookup(claim));
    ASSERT_TRUE(peeked);
    ASSERT_TRUE(*peeked);
    EXPECT_EQ((*peeked)->rec.created_ms, 1000);
    EXPECT_EQ((*peeked)->rec.state, record_state::in_progress);
    EXPECT_EQ(release(claim, old_owner), error_code{});
    EXPECT_EQ(server.command({"EXISTS", "t:{" + claim.hash + "}"}).integer, 0);

    auto const done = key("legacy completed");
    record r;
    r.state = record_state::completed;
    r.response = response("old body");
    write_legacy_hash(server, "t:{" + done.hash + "}", "c", fp(3), "", 1234, encode(r));
    auto const replay = begin(done, fp(3));
    ASSERT_TRUE(replay) << replay.error().message();
    ASSERT_EQ(replay->kind, begin_kind::replay);
    EXPECT_EQ(replay->existing->response, response("old body"));
    EXPECT_EQ(replay->existing->created_ms, 1234);
    auto const found = test::run_task(ioc_, store_->lookup(done));
    ASSERT_TRUE(found);
    ASSERT_TRUE(*found);
    EXPECT_EQ((*found)->rec.response, response("old body"));
    auto const evicted = test::run_task(ioc_, store_->evict(done));
    ASSERT_TRUE(evicted);
    EXPECT_EQ(*evicted, eviction::evicted);
    EXPECT_EQ(server.command({"EXISTS", "t:{" + done.hash + "}"}).integer, 0);
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
    auto const value = server.command({"GET", keys.elements[0].str}).str;
    EXPECT_EQ(value.find(api_key), std::string::npos);
    EXPECT_EQ(value.find("51Hx9"), std::string::npos);
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
    auto const warm = begin(key("warm"), fp(1));
    ASSERT_TRUE(warm);
    ASSERT_EQ(complete(key("warm"), warm->owner, response("x")), error_code{}); // loads it
    auto const warm2 = begin(key("warm2"), fp(1));
    ASSERT_TRUE(warm2);
    ASSERT_EQ(renew(key("warm2"), warm2->owner), error_code{});
    ASSERT_EQ(release(key("warm2"), warm2->owner), error_code{});

    // MONITOR-free count: commandstats also counts what scripts run (redis.call), so count
    // the commands a client can send that scripts never run (evalsha), and SET apart: the
    // plain claim is a client's SET, the scripts' SETs follow their EVALSHAs.
    auto const evalsha = [&] { return test::command_calls_of(server, "evalsha"); };
    auto const sets = [&] { return test::command_calls_of(server, "set"); };
    auto const others = [&] {
        return test::command_calls(
            server, {"info", "evalsha", "set", "get", "pexpire", "pexpiretime", "del", "hmget"});
    };
    auto const k = key("counted");
    auto o0 = others();
    auto e0 = evalsha();
    auto s0 = sets();
    auto const a = begin(k, fp(1));
    ASSERT_TRUE(a);
    EXPECT_EQ(sets() - s0, 1U) << "begin (acquired): one plain SET";
    EXPECT_EQ(evalsha() - e0, 0U);
    e0 = evalsha();
    s0 = sets();
    ASSERT_EQ(renew(k, a->owner), error_code{}); // "L" → "C": one SET inside
    EXPECT_EQ(evalsha() - e0, 1U) << "renew";
    e0 = evalsha();
    s0 = sets();
    ASSERT_EQ(complete(k, a->owner, response("done")), error_code{});
    EXPECT_EQ(evalsha() - e0, 1U) << "complete";
    EXPECT_EQ(sets() - s0, 1U) << "complete: one SET inside";
    e0 = evalsha();
    s0 = sets();
    auto const replay = begin(k, fp(1));
    ASSERT_TRUE(replay);
    EXPECT_EQ(replay->kind, begin_kind::replay);
    EXPECT_EQ(sets() - s0, 1U) << "begin (replay): the same plain SET, nothing written";
    EXPECT_EQ(evalsha() - e0, 0U);
    auto const b = begin(key("released"), fp(1));
    ASSERT_TRUE(b);
    e0 = evalsha();
    ASSERT_EQ(release(key("released"), b->owner), error_code{});
    EXPECT_EQ(evalsha() - e0, 1U) << "release";
    EXPECT_EQ(others() - o0, 0U);
}

TEST_F(redis_store_test, a_complete_runs_get_and_one_set_inside_its_script) {
    redis_server server;
    open(config_for(server));
    auto const warm = begin(key("warm"), fp(1));
    ASSERT_TRUE(warm);
    ASSERT_EQ(complete(key("warm"), warm->owner, response("x")), error_code{});
    auto const a = begin(key("c"), fp(1));
    ASSERT_TRUE(a);
    server.command({"CONFIG", "RESETSTAT"});
    ASSERT_EQ(complete(key("c"), a->owner, response("done")), error_code{});
    // evalsha + GET + PEXPIRETIME ("L") + SET: the hash layout's four inner commands are two.
    EXPECT_EQ(test::command_calls(server, {"info", "config|resetstat"}), 4U);
    EXPECT_EQ(test::command_calls_of(server, "pexpiretime"), 1U);
}

TEST_F(redis_store_test, after_script_flush_a_call_reloads_its_script_once_and_succeeds) {
    redis_server server;
    open(config_for(server));
    lua_claims_only const lua; // the claim script, as on Redis < 7
    ASSERT_TRUE(begin(key("before"), fp(1)));
    server.command({"SCRIPT", "FLUSH"});
    auto const evalsha0 = test::command_calls_of(server, "evalsha");
    auto const eval0 = test::command_calls_of(server, "eval");
    auto const a = begin(key("after"), fp(1));
    auto const again = begin(key("after"), fp(1));
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(a->kind, begin_kind::acquired);
    EXPECT_EQ(test::command_calls_of(server, "evalsha") - evalsha0, 2U); // NOSCRIPT, then again
    EXPECT_EQ(test::command_calls_of(server, "eval") - eval0, 1U);       // ran and cached it
    ASSERT_TRUE(again);
    EXPECT_EQ(again->kind, begin_kind::in_progress);
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
    EXPECT_EQ(replica.command({"GET", "t:{" + key("replicated").hash + "}"}).str.substr(0, 1), "c");
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
    server.command({"SET", "t:{" + key("string").hash + "}", "not a record"});
    auto const unreadable = begin(key("string"), fp(1));
    ASSERT_FALSE(unreadable);
    EXPECT_EQ(unreadable.error(), errc::store_unavailable);
    server.command({"SADD", "t:{" + key("set").hash + "}", "x"}); // WRONGTYPE for both layouts
    auto const wrong_type = begin(key("set"), fp(1));
    ASSERT_FALSE(wrong_type);
    EXPECT_EQ(wrong_type.error(), errc::store_unavailable);

    auto const a = begin(key("corrupt"), fp(1));
    ASSERT_TRUE(a);
    ASSERT_EQ(complete(key("corrupt"), a->owner, response("x")), error_code{});
    auto const rk = "t:{" + key("corrupt").hash + "}";
    auto const v = server.command({"GET", rk}).str;
    server.command({"SET", rk, v.substr(0, v.find(':') + 1) + "garbage"}); // the response part
    auto const corrupt = begin(key("corrupt"), fp(1));
    ASSERT_FALSE(corrupt);
    EXPECT_EQ(corrupt.error(), errc::store_unavailable);
}

} // namespace
} // namespace idemgate::store
