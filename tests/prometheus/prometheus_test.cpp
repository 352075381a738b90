// The operators' kit against a real Prometheus (issue 15): Debian's `prometheus` scrapes two
// real gateways (a memory store and a Redis store, so that every series exists: the memory
// gauges on one, the Redis topology series on the other) after a short load, evaluates
// docker/prometheus/idemgate-rules.yaml, and every PromQL expression of the rules and of
// docker/grafana/idemgate-dashboard.json is evaluated through its HTTP API. A metric or
// label renamed in the gateway, or misspelt in a rule or a panel, fails here instead of
// leaving an empty panel or an alert that can never fire.
//
// The rule for "returns data":
//  - a recording rule, a dashboard target and a dashboard variable's label_values() return
//    at least one sample as written (Grafana's $__rate_interval is 1m here, and every
//    variable takes its "All" value as the dashboard defines it);
//  - an alert selects what would fire, so on a healthy gateway it is empty by design. It is
//    evaluated with every comparison against a number made a `bool` comparison (`> 0.8`
//    becomes `> bool 0.8`): that keeps one sample per series the alert watches (1 where it
//    would fire, 0 where not), so it must be non-empty too, which proves each metric, label
//    and join in it matches what a gateway exports. When it fires is promtool's job
//    (idemgate-rules.test.yaml); here no alert may be firing on the healthy gateways;
//  - `a or b` returns data when either side does, so each operand of a top-level `or` is
//    evaluated on its own and must return data.
#include "integration/gateway_fixture.hpp"
#include "support/prometheus_server.hpp"
#include "support/test_pki.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <regex>
#include <thread>

namespace idemgate::test {
namespace {

using prom_clock = std::chrono::steady_clock;

std::filesystem::path const source_dir{IDEMGATE_SOURCE_DIR};
std::filesystem::path const rules_file = source_dir / "docker/prometheus/idemgate-rules.yaml";
std::filesystem::path const dashboard_file = source_dir / "docker/grafana/idemgate-dashboard.json";

/// One expression to evaluate, and where it comes from (for the failure message).
struct expression {
    std::string where;
    std::string promql;
};

/// `expr` with every comparison against a number literal made a `bool` comparison, so that
/// it maps each series to 0 or 1 instead of dropping those under the threshold.
std::string comparisons_as_bool(std::string const& expr) {
    static std::regex const comparison(R"((==|!=|>=|<=|>|<)(\s*)(?=[-+]?(\.?\d|Inf|NaN)))");
    return std::regex_replace(expr, comparison, "$1 bool$2");
}

/// The operands of the top-level `or`s of `expr` (outside parentheses, brackets, braces and
/// strings), without their `on (...)` / `ignoring (...)`; `expr` itself when it has none.
/// `a or b` returns data when either does: each operand must, so each is evaluated.
std::vector<std::string> or_operands(std::string const& expr) {
    std::vector<std::string> out;
    int depth = 0;
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < expr.size(); ++i) {
        char const c = expr[i];
        if (quoted) {
            if (c == '\\')
                ++i;
            else if (c == '"')
                quoted = false;
            continue;
        }
        if (c == '"')
            quoted = true;
        else if (c == '(' || c == '[' || c == '{')
            ++depth;
        else if (c == ')' || c == ']' || c == '}')
            --depth;
        else if (depth == 0 && std::isspace(static_cast<unsigned char>(c)) != 0 &&
                 expr.compare(i + 1, 3, "or ") == 0) {
            out.push_back(expr.substr(start, i - start));
            start = i + 4;
        }
    }
    out.push_back(expr.substr(start));
    static std::regex const matching(R"(^\s*(on|ignoring)\s*\([^)]*\)\s*)");
    for (auto& o : out) o = std::regex_replace(o, matching, "");
    return out;
}

/// `e` once per operand of its top-level `or`s (or_operands).
void add_operands(std::vector<expression>& out, std::string const& where, std::string const& e) {
    auto const operands = or_operands(e);
    for (std::size_t i = 0; i < operands.size(); ++i) {
        out.push_back({operands.size() == 1 ? where
                                            : where + " (operand " + std::to_string(i + 1) +
                                                  " of " + std::to_string(operands.size()) + ")",
                       operands[i]});
    }
}

/// Recording rules as written; alerts through comparisons_as_bool (above).
std::vector<expression> rule_expressions(std::size_t& rules, std::size_t& alerts) {
    std::vector<expression> out;
    rules = 0;
    alerts = 0;
    auto const doc = YAML::LoadFile(rules_file.string());
    for (auto const& group : doc["groups"]) {
        for (auto const& rule : group["rules"]) {
            auto const expr = rule["expr"].as<std::string>();
            ++rules;
            if (rule["record"]) {
                add_operands(out, "record " + rule["record"].as<std::string>(), expr);
                continue;
            }
            auto const name = rule["alert"].as<std::string>();
            auto const as_bool = comparisons_as_bool(expr);
            EXPECT_NE(as_bool, expr) << name << ": no comparison against a threshold";
            add_operands(out, "alert " + name + " (comparisons as bool)", as_bool);
            ++alerts;
        }
    }
    return out;
}

using variables = std::vector<std::pair<std::string, std::string>>;

/// `text` with every `${name}` and `$name` of `values` replaced, longest names first (so that
/// a `$__rate_interval` is never read as a shorter name).
std::string substitute(std::string text, variables values) {
    std::sort(values.begin(), values.end(),
              [](auto const& a, auto const& b) { return a.first.size() > b.first.size(); });
    for (auto const& [name, value] : values) {
        for (auto const& token : {"${" + name + "}", "$" + name}) {
            for (auto pos = text.find(token); pos != std::string::npos;
                 pos = text.find(token, pos + value.size()))
                text.replace(pos, token.size(), value);
        }
    }
    return text;
}

/// Every panel target, and every variable's label_values(selector, label) as
/// `group by (label) (selector)`, with the dashboard's variables at their "All" value.
std::vector<expression> dashboard_expressions(std::size_t& targets) {
    std::ifstream in(dashboard_file);
    auto const dash = nlohmann::json::parse(in);
    variables values{{"__rate_interval", "1m"}};
    for (auto const& v : dash["templating"]["list"]) {
        if (v.contains("allValue"))
            values.emplace_back(v["name"].get<std::string>(), v["allValue"].get<std::string>());
    }
    std::vector<expression> out;
    static std::regex const label_values(R"(^label_values\((.*),\s*(\w+)\)$)");
    for (auto const& v : dash["templating"]["list"]) {
        if (v["type"] != "query") continue;
        auto const name = v["name"].get<std::string>();
        auto const query = substitute(v["query"]["query"].get<std::string>(), values);
        std::smatch m;
        if (!std::regex_match(query, m, label_values)) {
            ADD_FAILURE() << "variable " << name
                          << " is not label_values(selector, label): " << query;
            continue;
        }
        out.push_back({"variable " + name, "group by (" + m[2].str() + ") (" + m[1].str() + ")"});
    }
    targets = 0;
    for (auto const& panel : dash["panels"]) {
        if (!panel.contains("targets")) continue;
        auto const title = panel["title"].get<std::string>();
        for (auto const& t : panel["targets"]) {
            auto const expr = substitute(t["expr"].get<std::string>(), values);
            EXPECT_EQ(expr.find('$'), std::string::npos)
                << "panel " << title << ": a variable the dashboard does not define: " << expr;
            add_operands(out, "panel \"" + title + "\" " + t["refId"].get<std::string>(), expr);
            ++targets;
        }
    }
    return out;
}

/// Calls `pred` every 100 ms until it is true; false when `limit` passes first.
bool poll_until(std::function<bool()> const& pred, std::chrono::milliseconds limit) {
    auto const deadline = prom_clock::now() + limit;
    for (;;) {
        if (pred()) return true;
        if (prom_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
}

class prometheus_kit : public ::testing::Test {
protected:
    prometheus_kit() {
        upstream_.set_handler([this](recorded_request const& req, std::size_t n) {
            auto reply = upstream_stub::default_reply(n);
            if (req.target == "/v1/fail") reply.status = 500;
            if (req.target == "/v1/slow") reply.hold_until = [this] { return released_.load(); };
            return reply;
        });
    }

    /// A gateway in front of upstream_ on `backend`.
    std::unique_ptr<gateway_process> start(std::string const& backend, bool tls = false) {
        gateway_config cfg;
        with_test_defaults(cfg, upstream_.url()).set("store.backend", backend);
        if (backend == "redis") cfg.set("store.redis.url", redis_.url());
        if (tls)
            cfg.set("tls.cert_file", cert_.cert.string()).set("tls.key_file", cert_.key.string());
        return std::make_unique<gateway_process>(cfg);
    }

    /// A short bounded load, so that each outcome and class has moved: 100 new keys, 100
    /// replays, a 409 key_in_use, a 409 in_progress, passthroughs, upstream 500s, 400s.
    void load(gateway_process const& gw, std::string const& tag) {
        http_client client(gw.port(), {std::chrono::milliseconds{5000}, true});
        for (int k = 0; k < 100; ++k)
            ASSERT_EQ(client.send(protected_post(tag + std::to_string(k))).status, 201U);
        for (int k = 0; k < 100; ++k) {
            auto const res = client.send(protected_post(tag + std::to_string(k)));
            ASSERT_EQ(res.header(replay_header), "true") << res.status << res.error;
        }
        EXPECT_EQ(client.send(protected_post(tag + "0", R"({"other":1})")).status, 409U);
        released_ = false;
        auto const calls = upstream_.calls();
        std::thread first([&] { send_request(gw.port(), keyed("POST", "/v1/slow", tag + "s")); });
        EXPECT_TRUE(upstream_.wait_for_calls(calls + 1, std::chrono::milliseconds{5000}));
        auto const busy = client.send(keyed("POST", "/v1/slow", tag + "s"));
        released_ = true;
        first.join();
        EXPECT_EQ(busy.status, 409U) << busy.body;
        for (int k = 0; k < 20; ++k)
            EXPECT_EQ(client.send({"GET", "/v1/charges", {}, {}}).status, 201U);
        for (int k = 0; k < 5; ++k)
            EXPECT_EQ(client.send(keyed("POST", "/v1/fail", tag + "f" + std::to_string(k))).status,
                      500U);
        for (int k = 0; k < 2; ++k)
            EXPECT_EQ(client.send(protected_post(std::string(300, 'x'))).status, 400U);
    }

    /// Prometheus' time() now.
    double prometheus_now() const {
        auto const r = prom_->query("time()");
        EXPECT_EQ(r.value("status", ""), "success") << r.dump();
        return std::stod(r["data"]["result"][1].get<std::string>());
    }

    /// The fewest raw samples newer than `after` that any series of `selector` has in the
    /// last 5 minutes; 0 while fewer than `series` series exist.
    std::size_t fewest_samples_after(std::string const& selector, double after,
                                     std::size_t series) const {
        auto const r = prom_->query(selector + "[5m]");
        if (r.value("status", "") != "success") return 0;
        auto const& matrix = r["data"]["result"];
        if (matrix.size() < series) return 0;
        std::size_t fewest = SIZE_MAX;
        for (auto const& s : matrix) {
            std::size_t n = 0;
            for (auto const& v : s["values"]) n += v[0].get<double>() > after ? 1U : 0U;
            fewest = std::min(fewest, n);
        }
        return fewest;
    }

    /// Prometheus first, then each gateway must stop cleanly (SIGTERM -> exit 0).
    void TearDown() override {
        prom_.reset();
        for (auto* gw : {memory_gw_.get(), redis_gw_.get(), tls_gw_.get()}) {
            if (gw == nullptr) continue;
            int const code = gw->terminate();
            auto const lines = gw->lines();
            std::string tail;
            for (auto i = lines.size() > 30 ? lines.size() - 30 : 0; i < lines.size(); ++i)
                tail += lines[i] + "\n";
            EXPECT_EQ(code, 0) << "a gateway did not exit 0 on SIGTERM; last lines:\n" << tail;
        }
    }

    std::atomic<bool> released_{true};
    redis_server redis_;
    upstream_stub upstream_; // before the gateways: outlives them
    std::unique_ptr<gateway_process> memory_gw_;
    std::unique_ptr<gateway_process> redis_gw_;
    // The TLS series (certificate expiry, reloads) exist only with tls.cert_file: a third,
    // idle gateway serving HTTPS gives the TLS alerts their data.
    test_pki pki_;
    issued_cert cert_ =
        pki_.issue("server", test_pki::usage::server, 0x1001, std::chrono::hours(24 * 365));
    std::unique_ptr<gateway_process> tls_gw_;
    std::unique_ptr<prometheus_server> prom_;
};

TEST_F(prometheus_kit, every_rule_and_dashboard_expression_returns_data_from_real_gateways) {
    ASSERT_FALSE(find_prometheus().empty())
        << "prometheus is not installed: scripts/install-deps.sh installs Debian's package";
    auto const started = prom_clock::now();
    memory_gw_ = start("memory");
    redis_gw_ = start("redis");
    tls_gw_ = start("memory", true);
    auto target = [](gateway_process const& gw) {
        return "127.0.0.1:" + std::to_string(gw.admin_port());
    };
    prom_ = std::make_unique<prometheus_server>(prometheus_server::options{
        "idemgate", {target(*memory_gw_), target(*redis_gw_), target(*tls_gw_)}, {rules_file}});
    load(*memory_gw_, "mem-");
    load(*redis_gw_, "red-");
    auto const loaded = prom_clock::now();

    // Both gateways scraped twice after the load, then the rules evaluated after that. Times
    // are Prometheus' (time(), sample timestamps): the same host's clock, in seconds.
    double const after_load = prometheus_now();
    ASSERT_TRUE(poll_until(
        [&] { return fewest_samples_after("idemgate_build_info", after_load, 3) >= 2; }, 15s))
        << "the gateways were not scraped twice within 15 s:\n"
        << prom_->log_tail();
    double const scraped = prometheus_now();
    ASSERT_TRUE(poll_until(
        [&] { return fewest_samples_after("job:idemgate_requests:rate5m", scraped, 1) >= 1; }, 10s))
        << "the recording rules were not evaluated:\n"
        << prom_->log_tail();
    auto const targets = prom_->get("/api/v1/targets");
    ASSERT_EQ(targets["data"]["activeTargets"].size(), 3U) << targets.dump();
    for (auto const& t : targets["data"]["activeTargets"]) EXPECT_EQ(t["health"], "up") << t.dump();

    // Every rule of the file loaded, and evaluated without an error (a many-to-many match, a
    // division of mismatched label sets).
    auto const rules = prom_->get("/api/v1/rules");
    std::size_t loaded_rules = 0;
    for (auto const& g : rules["data"]["groups"]) {
        for (auto const& r : g["rules"]) {
            ++loaded_rules;
            EXPECT_EQ(r["health"], "ok") << r.dump();
        }
    }

    std::size_t alerts = 0;
    std::size_t panel_targets = 0;
    std::size_t rules_in_file = 0;
    auto expressions = rule_expressions(rules_in_file, alerts);
    EXPECT_EQ(loaded_rules, rules_in_file) << "rules in the file vs rules Prometheus loaded";
    auto const from_dashboard = dashboard_expressions(panel_targets);
    expressions.insert(expressions.end(), from_dashboard.begin(), from_dashboard.end());
    std::size_t empty = 0;
    for (auto const& e : expressions) {
        auto const r = prom_->query(e.promql);
        bool const ok = r.value("status", "") == "success";
        EXPECT_TRUE(ok) << e.where << ": " << r.value("error", r.dump()) << "\n  " << e.promql;
        if (ok && r["data"]["result"].empty()) {
            ++empty;
            ADD_FAILURE() << e.where << " returns no data:\n  " << e.promql;
        }
    }

    // Healthy gateways fire nothing (pending is allowed: a 409 in_progress was sent on purpose).
    auto const firing = prom_->query(R"(ALERTS{alertstate="firing"})");
    EXPECT_EQ(firing.value("status", ""), "success");
    EXPECT_TRUE(firing["data"]["result"].empty()) << firing["data"]["result"].dump();

    auto const secs = [](prom_clock::duration d) {
        return std::chrono::duration<double>(d).count();
    };
    std::cout << "[ prometheus ] " << expressions.size() << " expressions (" << loaded_rules
              << " rules of which " << alerts << " alerts, " << panel_targets
              << " panel targets, the variables), " << empty << " empty; load done "
              << secs(loaded - started) << " s after start, all evaluated "
              << secs(prom_clock::now() - started) << " s after start\n";
}

} // namespace
} // namespace idemgate::test
