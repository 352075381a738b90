// docs/operations.md "Metrics": /metrics is valid exposition format 0.0.4 (checked by the
// strict reader in support/prometheus_text), holds every documented series with every label
// value initialised, and its counters, gauges and histograms move with the traffic.
#include "gateway_fixture.hpp"
#include "support/prometheus_text.hpp"

#include <cmath>
#include <ctime>
#include <thread>

namespace idemgate::test {
namespace {

namespace pt = prometheus_text;
using pt::label_set;

std::string joined(std::vector<std::string> const& problems) {
    std::string out;
    for (auto const& p : problems) out += p + "\n";
    return out;
}

/// Each row: a text that breaks one rule, and a word of the problem it must produce.
TEST(exposition_reader, finds_each_broken_rule_and_accepts_a_valid_text) {
    std::string const valid = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n"
                              "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
                              "h_bucket{le=\"+Inf\"} 3\nh_sum 4.5\nh_count 3\n";
    auto const ok = pt::parse(valid);
    EXPECT_TRUE(ok.problems.empty()) << joined(ok.problems);
    EXPECT_EQ(ok.value("a_total", {{"x", "1"}}), 2.0);
    EXPECT_EQ(ok.value("h_count"), 3.0);
    struct row {
        std::string text;
        std::string problem;
    };
    std::string const head = "# HELP h H.\n# TYPE h histogram\n";
    std::vector<row> const rows{
        {"# HELP a A.\n# TYPE a counter\na 1\n", "_total"},
        {"a_total 1\n", "no TYPE"},
        {"# TYPE a_total counter\na_total 1\n", "no HELP"},
        {"# HELP a A.\n# TYPE a gauge\na{x=1} 1\n", "not followed by"},
        {"# HELP a A.\n# TYPE a gauge\na{x=\"\\t\"} 1\n", "escape"},
        {"# HELP a A.\n# TYPE a gauge\na one\n", "bad value"},
        {"# HELP a A.\n# TYPE a gauge\na 1", "newline"},
        {"# HELP a A.\n# TYPE a gauge\na 1\na 2\n", "twice"},
        {"# HELP a A.\n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\nb 1\na{x=\"\"} 1\n",
         "not grouped"},
        {head + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
                "h_sum 1\nh_count 1\n",
         "le not increasing"},
        {head + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "decrease"},
        {head + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf"},
        {head + "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n", "differs from _count"},
        {head + "h_bucket{le=\"+Inf\"} 1\nh_count 1\n", "no _sum"},
    };
    for (auto const& r : rows) {
        auto const problems = joined(pt::parse(r.text).problems);
        EXPECT_NE(problems.find(r.problem), std::string::npos) << "text:\n"
                                                               << r.text << "problems:\n"
                                                               << problems;
    }
}

/// One labelled family the gateway must export, with every value of its label (and the
/// labels every one of its series has besides, such as route="default" without routes).
struct expected_family {
    std::string name;
    std::string type;
    std::string label; // "" when unlabelled
    std::vector<std::string> values;
    label_set fixed = {};
};

std::vector<expected_family> const documented{
    {"idemgate_requests_total",
     "counter",
     "outcome",
     {"executed", "replayed", "conflict", "in_progress", "passthrough", "rejected",
      "store_unavailable", "upstream_error"},
     {{"route", "default"}}},
    {"idemgate_request_duration_seconds_count",
     "histogram",
     "outcome",
     {"executed", "replayed", "conflict", "in_progress", "passthrough", "rejected",
      "store_unavailable", "upstream_error"},
     {{"route", "default"}}},
    {"idemgate_upstream_requests_total",
     "counter",
     "code_class",
     {"1xx", "2xx", "3xx", "4xx", "5xx", "error"}},
    {"idemgate_upstream_errors_total", "counter", "kind", {"connect", "timeout", "broken"}},
    {"idemgate_upstream_request_duration_seconds_count", "histogram", "", {}},
    {"idemgate_store_operation_duration_seconds_count",
     "histogram",
     "op",
     {"begin", "complete", "release", "renew"}},
    {"idemgate_store_errors_total", "counter", "kind", {"unavailable", "full", "not_owner"}},
    {"idemgate_store_write_failures_total", "counter", "", {}},
    {"idemgate_store_up", "gauge", "", {}},
    {"idemgate_http_errors_total",
     "counter",
     "reason",
     {"header_too_large", "body_too_large", "bad_request", "smuggling", "timeout", "overloaded"}},
    {"idemgate_stored_response_bytes_count", "histogram", "", {}},
    {"idemgate_replayed_body_bytes_total", "counter", "", {}},
    {"idemgate_fail_open_requests_total", "counter", "", {}},
    {"idemgate_connections_accepted_total", "counter", "", {}},
    {"idemgate_admin_requests_total",
     "counter",
     "result",
     {"ok", "not_found", "unauthorized", "error"},
     {{"endpoint", "lookup"}}},
    {"idemgate_admin_requests_total",
     "counter",
     "result",
     {"ok", "not_found", "unauthorized", "error"},
     {{"endpoint", "evict"}}},
    {"idemgate_connections_rejected_total", "counter", "reason", {"max_connections"}},
    {"idemgate_connections_active", "gauge", "", {}},
    {"idemgate_inflight_requests", "gauge", "", {}},
    {"process_cpu_seconds_total", "counter", "", {}},
    {"process_open_fds", "gauge", "", {}},
    {"process_max_fds", "gauge", "", {}},
    {"process_resident_memory_bytes", "gauge", "", {}},
    {"process_virtual_memory_bytes", "gauge", "", {}},
};

/// The family a sample name belongs to (histogram suffixes removed).
std::string family_name(std::string const& sample_name, std::string const& type) {
    if (type != "histogram") return sample_name;
    return sample_name.substr(0, sample_name.rfind('_'));
}

class operations_metrics : public store_gateway_test {
protected:
    /// GET /metrics, checked as exposition format; failures are reported, not fatal.
    pt::exposition scrape() const {
        auto const res = admin_get("/metrics");
        EXPECT_EQ(res.status, 200U) << res.error;
        auto e = pt::parse(res.body);
        EXPECT_TRUE(e.problems.empty()) << joined(e.problems);
        return e;
    }
};

double at(pt::exposition const& e, std::string const& name, label_set const& labels = {}) {
    auto const v = e.value(name, labels);
    EXPECT_TRUE(v.has_value()) << name << " with " << labels.size() << " labels is missing";
    return v.value_or(std::nan(""));
}

TEST_P(operations_metrics, every_documented_series_is_exported_at_start_in_format_0_0_4) {
    start_gateway();
    auto const res = admin_get("/metrics");
    EXPECT_EQ(res.header("Content-Type").rfind("text/plain; version=0.0.4", 0), 0U)
        << res.header("Content-Type");
    auto const e = scrape();
    for (auto const& f : documented) {
        SCOPED_TRACE(f.name);
        auto const* fam = e.find(family_name(f.name, f.type));
        ASSERT_NE(fam, nullptr);
        EXPECT_EQ(fam->type, f.type);
        EXPECT_FALSE(fam->help.empty());
        for (auto const& v : f.values) {
            auto labels = f.fixed;
            labels.emplace_back(f.label, v);
            EXPECT_EQ(at(e, f.name, labels), 0.0) << v;
        }
        if (f.values.empty()) {
            EXPECT_TRUE(e.value(f.name).has_value());
        }
    }
    for (auto const* op : {"begin", "complete", "release", "renew"}) {
        for (auto const* result : {"ok", "error"}) {
            EXPECT_EQ(at(e, "idemgate_store_operations_total", {{"op", op}, {"result", result}}),
                      0.0);
        }
    }
    EXPECT_EQ(at(e, "idemgate_store_up"), 1.0);
    // The Redis topology series (docs/redis.md "Topologies"), for the redis backend only.
    bool const redis = GetParam() == store_kind::redis;
    for (auto const* kind : {"moved", "ask"}) {
        EXPECT_EQ(e.value("idemgate_store_redirects_total", {{"kind", kind}}).has_value(), redis);
    }
    for (auto const* step : {"claim", "complete"}) {
        EXPECT_EQ(
            e.value("idemgate_store_replication_shortfalls_total", {{"step", step}}).has_value(),
            redis);
    }
    for (auto const* name : {"idemgate_store_topology_refreshes_total",
                             "idemgate_store_master_changes_total", "idemgate_store_nodes"}) {
        EXPECT_EQ(e.value(name).has_value(), redis) << name;
        if (redis) {
            EXPECT_EQ(at(e, name), 0.0) << name; // one standalone primary: nothing moves
        }
    }
    auto const* info = e.find("idemgate_build_info");
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->type, "gauge");
    ASSERT_EQ(info->samples.size(), 1U);
    EXPECT_EQ(info->samples[0].value, 1.0);
    auto const version = info->samples[0].label("version").value_or("?");
    EXPECT_TRUE(info->samples[0].label("revision").has_value());
    EXPECT_NE(run_cli({"--version"}).out.find(version), std::string::npos) << version;
    auto const started = at(e, "process_start_time_seconds");
    EXPECT_LT(std::abs(started - static_cast<double>(std::time(nullptr))), 120.0) << started;
    EXPECT_GT(at(e, "process_open_fds"), 0.0);
}

TEST_P(operations_metrics, counters_and_histograms_move_with_protected_traffic) {
    upstream_.set_handler([](recorded_request const& req, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (req.target == "/v1/fail") reply.status = 500;
        return reply;
    });
    start_gateway();
    auto const before = scrape();
    auto const first = send(protected_post("mv-1"));
    ASSERT_EQ(first.status, 201U) << first.error;
    expect_replay_of(first, send(protected_post("mv-1")));
    auto const failed = send(keyed("POST", "/v1/fail", "mv-2"));
    ASSERT_EQ(failed.status, 500U) << failed.error;
    auto const after = scrape();
    auto const moved = [&](std::string const& name, label_set const& labels = {}) {
        return at(after, name, labels) - at(before, name, labels);
    };
    label_set const executed{{"outcome", "executed"}, {"route", "default"}};
    EXPECT_EQ(moved("idemgate_request_duration_seconds_count", executed), 2.0);
    EXPECT_EQ(moved("idemgate_request_duration_seconds_count",
                    {{"outcome", "replayed"}, {"route", "default"}}),
              1.0);
    EXPECT_GT(moved("idemgate_request_duration_seconds_sum", executed), 0.0);
    EXPECT_EQ(moved("idemgate_upstream_requests_total", {{"code_class", "2xx"}}), 1.0);
    EXPECT_EQ(moved("idemgate_upstream_requests_total", {{"code_class", "5xx"}}), 1.0);
    EXPECT_EQ(moved("idemgate_upstream_requests_total", {{"code_class", "error"}}), 0.0);
    EXPECT_EQ(moved("idemgate_upstream_request_duration_seconds_count"), 2.0);
    EXPECT_EQ(moved("idemgate_store_operations_total", {{"op", "begin"}, {"result", "ok"}}), 3.0);
    EXPECT_EQ(moved("idemgate_store_operations_total", {{"op", "complete"}, {"result", "ok"}}),
              2.0);
    EXPECT_EQ(moved("idemgate_store_operations_total", {{"op", "begin"}, {"result", "error"}}),
              0.0);
    EXPECT_EQ(moved("idemgate_store_operation_duration_seconds_count", {{"op", "begin"}}), 3.0);
    EXPECT_EQ(moved("idemgate_replayed_body_bytes_total"), static_cast<double>(first.body.size()));
    EXPECT_EQ(moved("idemgate_stored_response_bytes_count"), 2.0);
    EXPECT_EQ(moved("idemgate_stored_response_bytes_sum"),
              static_cast<double>(first.body.size() + failed.body.size()));
    for (auto const& f : after.families) { // no key or path ever becomes a label value
        for (auto const& s : f.samples) {
            for (auto const& [k, v] : s.labels) {
                EXPECT_TRUE(v.find("mv-") == std::string::npos && v.find('/') == std::string::npos)
                    << s.name << " " << k << "=" << v;
            }
        }
    }
}

TEST_P(operations_metrics, an_unreachable_upstream_counts_as_code_class_error_and_kind_connect) {
    start_gateway(
        gateway_config{}.set("upstream.url", "http://127.0.0.1:" + std::to_string(unused_port())));
    auto const before = scrape();
    expect_error(send(protected_post("conn-1")), 502, "upstream_unavailable");
    auto const after = scrape();
    label_set const error{{"code_class", "error"}}, connect{{"kind", "connect"}};
    EXPECT_EQ(at(after, "idemgate_upstream_requests_total", error) -
                  at(before, "idemgate_upstream_requests_total", error),
              1.0);
    EXPECT_EQ(at(after, "idemgate_upstream_errors_total", connect) -
                  at(before, "idemgate_upstream_errors_total", connect),
              1.0);
    EXPECT_EQ(at(after, "idemgate_store_operations_total", {{"op", "release"}, {"result", "ok"}}),
              1.0);
}

TEST_P(operations_metrics, a_413_counts_as_http_error_body_too_large) {
    start_gateway(gateway_config{}.set("limits.max_request_body", "1KiB"));
    label_set const reason{{"reason", "body_too_large"}};
    auto const before = at(scrape(), "idemgate_http_errors_total", reason);
    auto const res = send(protected_post("big-1", std::string(4096, 'x')));
    EXPECT_EQ(res.status, 413U) << res.error;
    auto const after = scrape();
    EXPECT_EQ(at(after, "idemgate_http_errors_total", reason) - before, 1.0);
    EXPECT_EQ(at(after, "idemgate_http_errors_total", {{"reason", "bad_request"}}), 0.0);
    EXPECT_EQ(upstream_.calls(), 0U);
}

TEST_P(operations_metrics, connection_and_inflight_gauges_follow_open_connections) {
    upstream_.set_handler([](recorded_request const& req, std::size_t n) {
        auto reply = upstream_stub::default_reply(n);
        if (req.target == "/v1/slow") reply.delay = 600ms;
        return reply;
    });
    start_gateway();
    EXPECT_EQ(at(scrape(), "idemgate_connections_active"), 0.0);
    auto client = std::make_unique<http_client>(port(), http_client::options{5s, true});
    ASSERT_EQ(client->send({"GET", "/v1/ping", {}, {}}).status, 201U);
    auto const open = scrape(); // the admin listener's own connections are not counted
    EXPECT_EQ(at(open, "idemgate_connections_active"), 1.0);
    EXPECT_EQ(at(open, "idemgate_connections_accepted_total"), 1.0);
    std::thread slow([&] { EXPECT_EQ(send(keyed("POST", "/v1/slow", "slow-1")).status, 201U); });
    ASSERT_TRUE(upstream_.wait_for_calls(2, 5s));
    auto const busy = scrape();
    EXPECT_EQ(at(busy, "idemgate_inflight_requests"), 1.0);
    EXPECT_EQ(at(busy, "idemgate_connections_active"), 2.0);
    slow.join();
    client.reset();
    auto const deadline = std::chrono::steady_clock::now() + 3s;
    while (at(scrape(), "idemgate_connections_active") != 0.0 &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    auto const closed = scrape();
    EXPECT_EQ(at(closed, "idemgate_connections_active"), 0.0);
    EXPECT_EQ(at(closed, "idemgate_inflight_requests"), 0.0);
    EXPECT_EQ(at(closed, "idemgate_connections_accepted_total"), 2.0);
}

INSTANTIATE_TEST_SUITE_P(stores, operations_metrics, ::testing::ValuesIn(store_kinds()),
                         store_name);

} // namespace
} // namespace idemgate::test
