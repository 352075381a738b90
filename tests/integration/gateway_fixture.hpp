#pragma once
// Shared fixture of the integration suite: an upstream stub, the real idemgate binary in
// front of it (memory or redis store), and helpers that build the requests and check the
// answers the contract describes.
#include "support/gateway_process.hpp"
#include "support/http_client.hpp"
#include "support/upstream_stub.hpp"

#if __has_include("support/redis_server.hpp")
#include "support/redis_server.hpp"
#define IDEMGATE_IT_HAVE_REDIS 1
#endif

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace idemgate::test {

using namespace std::chrono_literals;

enum class store_kind { memory, redis };

/// The stores the suite can run against here (redis when the support server exists).
inline std::vector<store_kind> store_kinds() {
#ifdef IDEMGATE_IT_HAVE_REDIS
    return {store_kind::memory, store_kind::redis};
#else
    return {store_kind::memory};
#endif
}

/// Readable parameter in gtest messages.
inline void PrintTo(store_kind k, std::ostream* os) {
    *os << (k == store_kind::redis ? "redis" : "memory");
}

/// Test-name suffix for INSTANTIATE_TEST_SUITE_P.
inline std::string store_name(::testing::TestParamInfo<store_kind> const& info) {
    return info.param == store_kind::redis ? "redis" : "memory";
}

/// The API key every test client presents; tests check it never shows up in a log line.
inline constexpr char const* test_api_key = "sk_test_integration_4f9a2c";
inline constexpr char const* default_body = R"({"amount":1500,"currency":"eur"})";
inline constexpr char const* replay_header = "Chronapilot-Idempotent-Replay";

/// A protected request: `method target` with a Bearer API key and an Idempotency-Key.
inline http_request keyed(std::string method, std::string target, std::string key,
                          std::string body = default_body) {
    http_request req{std::move(method), std::move(target), {}, std::move(body)};
    req.headers = {{"Authorization", std::string("Bearer ") + test_api_key},
                   {"Content-Type", "application/json"},
                   {"Idempotency-Key", std::move(key)}};
    return req;
}

/// POST /v1/charges with `key` and `body`.
inline http_request protected_post(std::string key, std::string body = default_body) {
    return keyed("POST", "/v1/charges", std::move(key), std::move(body));
}

/// `req` with one more header field (appended, so duplicates are possible).
inline http_request with_header(http_request req, std::string name, std::string value) {
    req.headers.emplace_back(std::move(name), std::move(value));
    return req;
}

/// `req` without any field named `name` (case-insensitive).
inline http_request without_header(http_request req, std::string const& name) {
    std::erase_if(req.headers, [&](auto const& f) { return count_header({f}, name) != 0; });
    return req;
}

/// Contract §5: status, JSON content type and {"error":{type,code,message}}.
inline void expect_error(http_response const& res, unsigned status, std::string const& code) {
    EXPECT_EQ(res.status, status) << res.error << res.body;
    EXPECT_EQ(res.header("Content-Type").rfind("application/json", 0), 0U)
        << "Content-Type: " << res.header("Content-Type");
    auto const j = nlohmann::json::parse(res.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not JSON: " << res.body;
    ASSERT_TRUE(j.contains("error") && j["error"].is_object()) << res.body;
    auto const& e = j["error"];
    EXPECT_EQ(e.value("type", ""), "idempotency_error") << res.body;
    EXPECT_EQ(e.value("code", ""), code) << res.body;
    EXPECT_TRUE(e.contains("message") && e["message"].is_string() &&
                !e["message"].get<std::string>().empty())
        << res.body;
}

/// `second` is a replay of `first`: same status and body, replay header only on `second`.
inline void expect_replay_of(http_response const& first, http_response const& second) {
    EXPECT_EQ(second.status, first.status) << second.error << second.body;
    EXPECT_EQ(second.body, first.body);
    EXPECT_FALSE(first.has(replay_header));
    EXPECT_EQ(second.header(replay_header), "true");
}

/// A burst of identical requests in `concurrent: wait` mode: every client got the same 201
/// and all but the one that executed got it as a replay.
inline void expect_one_answer_for_all(std::vector<http_response> const& answers) {
    std::size_t replays = 0;
    for (auto const& a : answers) {
        EXPECT_EQ(a.status, 201U) << a.error << a.body;
        EXPECT_EQ(a.body, answers.front().body);
        replays += a.header(replay_header) == "true" ? 1U : 0U;
    }
    EXPECT_EQ(replays, answers.size() - 1);
}

/// The defaults every test gateway starts with (a test's own settings win): loopback, port
/// 0 for both listeners (the "listening" log line tells the ports the kernel chose), JSON
/// logs, short timeouts, in front of `upstream_url`.
inline gateway_config& with_test_defaults(gateway_config& cfg, std::string const& upstream_url) {
    cfg.set_default("listen", "127.0.0.1:0")
        .set_default("admin.listen", "127.0.0.1:0")
        .set_default("threads", "2")
        .set_default("log.format", "json")
        .set_default("log.level", "info")
        .set_default("upstream.url", upstream_url)
        .set_default("upstream.timeout", "5s")
        .set_default("shutdown.timeout", "3s");
    return cfg;
}

/// Runs `call(k)` for k in [0, n) on n threads released at once; their answers, in k order.
inline std::vector<http_response>
all_at_once(std::size_t n, std::function<http_response(std::size_t)> const& call) {
    std::vector<http_response> out(n);
    std::latch ready(static_cast<std::ptrdiff_t>(n));
    std::vector<std::thread> threads;
    for (std::size_t k = 0; k < n; ++k) {
        threads.emplace_back([&, k] {
            ready.arrive_and_wait();
            out[k] = call(k);
        });
    }
    for (auto& t : threads) t.join();
    return out;
}

/// Value of one series (`name{labels}` exactly as exposed) in Prometheus text; -1 if absent.
inline double metric_value(std::string const& text, std::string const& series) {
    std::size_t pos = 0;
    while ((pos = text.find(series + " ", pos)) != std::string::npos) {
        if (pos == 0 || text[pos - 1] == '\n') {
            return std::stod(text.substr(pos + series.size() + 1));
        }
        pos += series.size();
    }
    return -1;
}

/// The idemgate_requests_total series of `outcome` on `route` ("default": no routes[]).
inline std::string requests_series(std::string const& outcome,
                                   std::string const& route = "default") {
    return "idemgate_requests_total{outcome=\"" + outcome + "\",route=\"" + route + "\"}";
}

class gateway_test : public ::testing::Test {
protected:
    /// Starts idemgate in front of upstream_ with `cfg` plus loopback/port-0 defaults.
    void start_gateway(gateway_config cfg = {}) {
        with_test_defaults(cfg, upstream_.url());
        if (store_ == store_kind::redis) {
#ifdef IDEMGATE_IT_HAVE_REDIS
            // One redis-server for the suite; a prefix per test keeps their records apart.
            static int test_number = 0;
            if (!cfg.has("store.redis.url")) cfg.set("store.redis.url", shared_redis_url());
            cfg.set_default("store.redis.key_prefix",
                            "\"it" + std::to_string(++test_number) + ":\"");
#endif
            cfg.set_default("store.backend", "redis");
        } else {
            cfg.set_default("store.backend", "memory");
        }
        gateway_ = std::make_unique<gateway_process>(cfg);
    }

    /// Every test also checks that the gateway stops cleanly: SIGTERM -> exit 0. A sanitizer
    /// report (leak at exit, UB) or a crash shows up here with the gateway's last lines.
    void TearDown() override {
        if (!gateway_) return;
        int const code = gateway_->terminate();
        auto const lines = gateway_->lines();
        std::string tail;
        for (auto i = lines.size() > 40 ? lines.size() - 40 : 0; i < lines.size(); ++i) {
            tail += lines[i] + "\n";
        }
        EXPECT_EQ(code, 0) << "idemgate did not exit 0 on SIGTERM; last lines:\n" << tail;
    }

    std::uint16_t port() const {
        return gateway_->port();
    }
    /// One request on a fresh connection to the gateway.
    http_response send(http_request const& req) const {
        return send_request(port(), req);
    }
    /// GET `path` on the admin listener.
    http_response admin_get(std::string path) const {
        return send_request(gateway_->admin_port(), {"GET", std::move(path), {}, {}});
    }
    /// Polls /readyz until 200 (true) or `limit` passes: every worker's store connected.
    bool wait_ready(std::chrono::milliseconds limit = std::chrono::seconds(10)) const {
        auto const until = std::chrono::steady_clock::now() + limit;
        while (admin_get("/readyz").status != 200) {
            if (std::chrono::steady_clock::now() >= until) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return true;
    }
    /// Current idemgate_requests_total{outcome="...",route="default"} (no routes[] matched).
    double outcome_count(std::string const& outcome) const {
        return metric_value(admin_get("/metrics").body, requests_series(outcome));
    }

    upstream_stub upstream_; // declared first: outlives the gateway that talks to it
    store_kind store_ = store_kind::memory;
    std::unique_ptr<gateway_process> gateway_;
};

/// The same tests against every store backend (TEST_P).
class store_gateway_test : public gateway_test, public ::testing::WithParamInterface<store_kind> {
protected:
    store_gateway_test() { store_ = GetParam(); }
};

} // namespace idemgate::test
